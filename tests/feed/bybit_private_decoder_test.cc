// BybitPrivateDecoder on Bybit v5's own doc examples (websocket/private/order, /execution,
// ws/connect: auth, subscribe, pong; copied in /work/wt/bybit_v5_notes.md §5) and on what the
// embedded sandbox sends, with exact Fixed values; malformed items, over-long strings, other
// and unknown topics; the requests the client sends.
#include "feed/bybit_private_decoder.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "feed/bybit_auth.h"

namespace shadow {
namespace {

constexpr Fixed k = kFixedScale;

struct Recorder : BybitPrivateHandler {
  std::vector<BybitOrderUpdate> orders;
  std::vector<BybitExecution> execs;
  std::vector<std::string> ops, msgs, req_ids;
  std::vector<bool> success;
  std::vector<std::int64_t> server_ms;
  void on_order(const BybitOrderUpdate& u) override { orders.push_back(u); }
  void on_execution(const BybitExecution& e) override { execs.push_back(e); }
  void on_op(const BybitOpAnswer& a) override {
    ops.emplace_back(a.op);
    msgs.emplace_back(a.ret_msg);
    req_ids.emplace_back(a.req_id);
    success.push_back(a.success);
    server_ms.push_back(a.server_ms);
  }
};

BybitPrivateStatus run(BybitPrivateDecoder& d, const std::string& msg, Recorder& r) {
  std::string buf = msg;
  buf.resize(msg.size() + 64, '\0');
  return d.decode(buf.data(), msg.size(), buf.size(), r);
}

// websocket/private/order [doc] (an option order; the docs have no linear example).
const std::string kOrderDoc = R"({
  "id": "5923240c6880ab-c59f-420b-9adb-3639adc9dd90", "topic": "order", "creationTime": 1672364262474,
  "data": [
    {
      "symbol": "ETH-30DEC22-1400-C", "orderId": "5cf98598-39a7-459e-97bf-76ca765ee020", "side": "Sell",
      "orderType": "Market", "cancelType": "UNKNOWN", "price": "72.5", "qty": "1", "orderIv": "", "timeInForce": "IOC",
      "orderStatus": "Filled", "orderLinkId": "", "lastPriceOnCreated": "", "reduceOnly": false, "leavesQty": "",
      "leavesValue": "", "cumExecQty": "1", "cumExecValue": "75", "avgPrice": "75", "blockTradeId": "",
      "positionIdx": 0, "cumExecFee": "0.358635", "closedPnl": "0", "createdTime": "1672364262444",
      "updatedTime": "1672364262457", "rejectReason": "EC_NoError", "stopOrderType": "", "tpslMode": "",
      "triggerPrice": "", "takeProfit": "", "stopLoss": "", "tpTriggerBy": "", "slTriggerBy": "", "tpLimitPrice": "",
      "slLimitPrice": "", "triggerDirection": 0, "triggerBy": "", "closeOnTrigger": false, "category": "option",
      "placeType": "price", "smpType": "None", "smpGroup": 0, "smpOrderId": "", "feeCurrency": "",
      "cumFeeDetail": {"MNT": "0.00242968"}, "rpiTakerAccess": false, "rpiMatchedQty": "0"
    }
  ]
})";

// websocket/private/execution [doc].
const std::string kExecDoc = R"({
  "topic": "execution", "id": "386825804_BTCUSDT_140612148849382", "creationTime": 1746270400355,
  "data": [
    {
      "category": "linear", "symbol": "BTCUSDT", "closedSize": "0.5", "execFee": "26.3725275",
      "execId": "0ab1bdf7-4219-438b-b30a-32ec863018f7", "execPrice": "95900.1", "execQty": "0.5", "execType": "Trade",
      "execValue": "47950.05", "feeRate": "0.00055", "tradeIv": "", "markIv": "", "blockTradeId": "",
      "markPrice": "95901.48", "indexPrice": "", "underlyingPrice": "", "leavesQty": "0",
      "orderId": "9aac161b-8ed6-450d-9cab-c5cc67c21784", "orderLinkId": "", "orderPrice": "94942.5", "orderQty": "0.5",
      "orderType": "Market", "stopOrderType": "UNKNOWN", "side": "Sell", "execTime": "1746270400353", "isLeverage": "0",
      "isMaker": false, "seq": 140612148849382, "marketUnit": "", "execPnl": "0.05", "createType": "CreateByUser",
      "extraFees": [{"feeCoin": "USDT", "feeType": "GST", "subFeeType": "IND_GST", "feeRate": "0.0000675", "fee": "0.006403779"}],
      "feeCurrency": "USDT"
    }
  ]
})";

// A linear order as the sandbox pushes it (exchange/sandbox_json.cc, kPush style; fields cut
// to those it renders around the ones read), a PostOnly that would have crossed.
const std::string kSandboxOrder =
    R"({"id":"1-7","topic":"order.linear","creationTime":1796377716186,"data":[{"category":"linear",)"
    R"("orderId":"910a2dec-0000-4000-8000-000000000001","orderLinkId":"sh1a2b-0-17","parentOrderLinkId":"",)"
    R"("blockTradeId":"","symbol":"BTCUSDT","price":"65000.10","qty":"0.010","side":"Buy","isLeverage":"",)"
    R"("positionIdx":0,"orderStatus":"Cancelled","createType":"CreateByUser","cancelType":"UNKNOWN",)"
    R"("rejectReason":"EC_PostOnlyWillTakeLiquidity","avgPrice":"0","leavesQty":"0.000","leavesValue":"0",)"
    R"("cumExecQty":"0.000","cumExecValue":"0","cumExecFee":"0","feeCurrency":"","closedPnl":"0",)"
    R"("timeInForce":"PostOnly","orderType":"Limit","reduceOnly":false,"createdTime":"1796377716184",)"
    R"("updatedTime":"1796377716185","extraFees":"","cumFeeDetail":{}}]})";

TEST(BybitPrivateDecoder, OrderPushDocExample) {
  BybitPrivateDecoder d;
  Recorder r;
  ASSERT_EQ(run(d, kOrderDoc, r), BybitPrivateStatus::kOk) << d.error();
  ASSERT_EQ(r.orders.size(), 1u);
  const BybitOrderUpdate& u = r.orders[0];
  EXPECT_EQ(u.symbol.view(), "ETH-30DEC22-1400-C");
  EXPECT_EQ(u.order_id.view(), "5cf98598-39a7-459e-97bf-76ca765ee020");
  EXPECT_EQ(u.order_link_id.view(), "");
  EXPECT_EQ(u.reject_reason.view(), "EC_NoError");
  EXPECT_EQ(u.cancel_type.view(), "UNKNOWN");
  EXPECT_EQ(u.side, Side::kSell);
  EXPECT_EQ(u.status, BybitOrderStatus::kFilled);
  EXPECT_TRUE(is_final(u.status));
  EXPECT_EQ(u.price, 7'250'000'000);
  EXPECT_EQ(u.qty, 1 * k);
  EXPECT_EQ(u.cum_exec_qty, 1 * k);
  EXPECT_EQ(u.leaves_qty, 0);  // "" in the doc example
  EXPECT_EQ(u.avg_price, 75 * k);
  EXPECT_EQ(u.created_ms, 1672364262444);
  EXPECT_EQ(u.updated_ms, 1672364262457);
  EXPECT_TRUE(r.execs.empty());
  EXPECT_TRUE(r.ops.empty());
}

TEST(BybitPrivateDecoder, ExecutionPushDocExample) {
  BybitPrivateDecoder d;
  Recorder r;
  ASSERT_EQ(run(d, kExecDoc, r), BybitPrivateStatus::kOk) << d.error();
  ASSERT_EQ(r.execs.size(), 1u);
  const BybitExecution& e = r.execs[0];
  EXPECT_EQ(e.symbol.view(), "BTCUSDT");
  EXPECT_EQ(e.order_id.view(), "9aac161b-8ed6-450d-9cab-c5cc67c21784");
  EXPECT_EQ(e.exec_id.view(), "0ab1bdf7-4219-438b-b30a-32ec863018f7");
  EXPECT_EQ(e.exec_type.view(), "Trade");
  EXPECT_EQ(e.side, Side::kSell);
  EXPECT_FALSE(e.is_maker);
  EXPECT_EQ(e.exec_price, 9'590'010'000'000);
  EXPECT_EQ(e.exec_qty, 50'000'000);
  EXPECT_EQ(e.exec_fee, 2'637'252'750);
  EXPECT_EQ(e.leaves_qty, 0);
  EXPECT_EQ(e.order_price, 9'494'250'000'000);
  EXPECT_EQ(e.order_qty, 50'000'000);
  EXPECT_EQ(e.exec_time_ms, 1746270400353);
}

TEST(BybitPrivateDecoder, SandboxOrderPushCategorisedTopic) {
  BybitPrivateDecoder d;
  Recorder r;
  ASSERT_EQ(run(d, kSandboxOrder, r), BybitPrivateStatus::kOk) << d.error();
  ASSERT_EQ(r.orders.size(), 1u);
  const BybitOrderUpdate& u = r.orders[0];
  EXPECT_EQ(u.order_link_id.view(), "sh1a2b-0-17");
  EXPECT_EQ(u.reject_reason.view(), "EC_PostOnlyWillTakeLiquidity");
  EXPECT_EQ(u.status, BybitOrderStatus::kCancelled);
  EXPECT_EQ(u.price, 6'500'010'000'000);
  EXPECT_EQ(u.qty, 1'000'000);
  EXPECT_EQ(u.leaves_qty, 0);
  EXPECT_EQ(u.side, Side::kBuy);
}

TEST(BybitPrivateDecoder, EveryItemOfAPushAndNegativeFee) {
  const std::string item = R"({"symbol":"BTCUSDT","orderId":"o1","orderLinkId":"a","execId":"X","side":"Buy",)"
                           R"("isMaker":true,"execPrice":"65000.1","execQty":"0.004","execFee":"-0.052",)"
                           R"("execTime":"1796377716186"})";
  std::string second = item;
  second.replace(second.find(R"("X")"), 3, R"("Y")");
  second.replace(second.find("0.004"), 5, "0.006");
  BybitPrivateDecoder d;
  Recorder r;
  ASSERT_EQ(run(d, R"({"topic":"execution.linear","data":[)" + item + "," + second + "]}", r),
            BybitPrivateStatus::kOk)
      << d.error();
  ASSERT_EQ(r.execs.size(), 2u);
  EXPECT_EQ(r.execs[0].exec_id.view(), "X");
  EXPECT_EQ(r.execs[1].exec_id.view(), "Y");
  EXPECT_EQ(r.execs[0].exec_qty, 400'000);
  EXPECT_EQ(r.execs[1].exec_qty, 600'000);
  EXPECT_EQ(r.execs[0].exec_fee, -5'200'000);
  EXPECT_TRUE(r.execs[0].is_maker);
}

TEST(BybitPrivateDecoder, OpAnswersDocExamples) {
  BybitPrivateDecoder d;
  Recorder r;
  ASSERT_EQ(run(d, R"({"success": true, "ret_msg": "", "op": "auth", "conn_id": "cejreaspqfh3sjdnldmg-p"})", r),
            BybitPrivateStatus::kOk);
  ASSERT_EQ(run(d, R"({"success":false,"ret_msg":"Params Error","op":"auth","conn_id":"cno3gd1qo29t7ommtc60-18fpo"})",
                r),
            BybitPrivateStatus::kOk);
  ASSERT_EQ(run(d, R"({"success": true, "ret_msg": "", "op": "subscribe", "conn_id": "cejreassvfrsfvb9v1a0-2m"})", r),
            BybitPrivateStatus::kOk);
  ASSERT_EQ(run(d, R"({"req_id": "test", "op": "pong", "args": ["1675418560633"], "conn_id": "cfcb4ocsvfriu23r3er0-1b"})",
                r),
            BybitPrivateStatus::kOk);
  ASSERT_EQ(r.ops, (std::vector<std::string>{"auth", "auth", "subscribe", "pong"}));
  EXPECT_EQ(r.success, (std::vector<bool>{true, false, true, true}));
  EXPECT_EQ(r.msgs[1], "Params Error");
  EXPECT_EQ(r.req_ids[3], "test");
  EXPECT_EQ(r.server_ms[3], 1675418560633);
  EXPECT_EQ(r.server_ms[0], 0);
}

TEST(BybitPrivateDecoder, MalformedItemIsSkippedOthersDelivered) {
  const std::string good = R"({"symbol":"BTCUSDT","orderId":"o1","side":"Buy","orderStatus":"New","qty":"0.010",)"
                           R"("price":"65000.10","orderLinkId":"ok-1"})";
  const std::string bad_qty = R"({"symbol":"BTCUSDT","orderId":"o2","side":"Buy","orderStatus":"New","qty":"1e3"})";
  const std::string bad_status = R"({"symbol":"BTCUSDT","orderId":"o3","side":"Buy","orderStatus":"Open","qty":"1"})";
  const std::string no_id = R"({"symbol":"BTCUSDT","side":"Buy","orderStatus":"New","qty":"1"})";
  const std::string qty_number = R"({"symbol":"BTCUSDT","orderId":"o5","side":"Buy","orderStatus":"New","qty":1})";
  BybitPrivateDecoder d;
  Recorder r;
  EXPECT_EQ(run(d, R"({"topic":"order","data":[)" + bad_qty + "," + good + "]}", r), BybitPrivateStatus::kMalformed);
  EXPECT_EQ(d.error(), "data[0].qty: not a decimal string");
  ASSERT_EQ(r.orders.size(), 1u);
  EXPECT_EQ(r.orders[0].order_link_id.view(), "ok-1");
  EXPECT_EQ(r.orders[0].qty, 1'000'000);
  EXPECT_EQ(run(d, R"({"topic":"order","data":[)" + good + "," + bad_status + "]}", r), BybitPrivateStatus::kMalformed);
  EXPECT_EQ(d.error(), "data[1].orderStatus: not a Bybit orderStatus");
  EXPECT_EQ(run(d, R"({"topic":"order","data":[)" + no_id + "]}", r), BybitPrivateStatus::kMalformed);
  EXPECT_EQ(d.error(), "data[0].orderId: missing, empty or zero");
  EXPECT_EQ(run(d, R"({"topic":"order","data":[)" + qty_number + "]}", r), BybitPrivateStatus::kMalformed);
  EXPECT_EQ(d.error(), "data[0].qty: not a string");
  EXPECT_EQ(run(d, R"({"topic":"order","data":[7]})", r), BybitPrivateStatus::kMalformed);
  EXPECT_EQ(run(d, R"({"topic":"execution","data":[{"symbol":"BTCUSDT"}]})", r), BybitPrivateStatus::kMalformed);
  EXPECT_EQ(d.error(), "data[0].orderId: missing, empty or zero");
  EXPECT_EQ(r.orders.size(), 2u);  // the two good ones only
  EXPECT_TRUE(r.execs.empty());
}

TEST(BybitPrivateDecoder, OverLongStringsRefused) {
  const std::string link37(37, 'a');
  const std::string link36(36, 'a');
  const auto order = [](const std::string& link) {
    return R"({"topic":"order","data":[{"symbol":"BTCUSDT","orderId":"o1","side":"Sell","orderStatus":"New",)"
           R"("qty":"1","orderLinkId":")" + link + R"("}]})";
  };
  BybitPrivateDecoder d;
  Recorder r;
  EXPECT_EQ(run(d, order(link37), r), BybitPrivateStatus::kMalformed);
  EXPECT_EQ(d.error(), "data[0].orderLinkId: too long");
  EXPECT_TRUE(r.orders.empty());
  ASSERT_EQ(run(d, order(link36), r), BybitPrivateStatus::kOk) << d.error();
  ASSERT_EQ(r.orders.size(), 1u);
  EXPECT_EQ(r.orders[0].order_link_id.view(), link36);
  const std::string sym25(25, 'B');
  EXPECT_EQ(run(d, R"({"topic":"execution","data":[{"symbol":")" + sym25 + R"("}]})", r), BybitPrivateStatus::kMalformed);
  EXPECT_EQ(d.error(), "data[0].symbol: too long");
}

TEST(BybitPrivateDecoder, OtherAndUnknownTopicsAndNonMessages) {
  BybitPrivateDecoder d;
  Recorder r;
  EXPECT_EQ(run(d, R"({"topic":"wallet","data":[{"accountType":"UNIFIED"}]})", r), BybitPrivateStatus::kOk);
  EXPECT_EQ(run(d, R"({"topic":"position.linear","data":[{"size":"0"}]})", r), BybitPrivateStatus::kOk);
  EXPECT_EQ(run(d, R"({"topic":"dcp.future","data":[]})", r), BybitPrivateStatus::kOk);
  EXPECT_EQ(run(d, R"({"topic":"execution.fast","data":[{"symbol":"BTCUSDT"}]})", r), BybitPrivateStatus::kOk);
  EXPECT_EQ(run(d, R"({"topic":"orderbook.50.BTCUSDT","data":{}})", r), BybitPrivateStatus::kUnknownTopic);
  EXPECT_EQ(d.error(), "unknown topic 'orderbook.50.BTCUSDT'");
  EXPECT_EQ(run(d, R"({"topic":"orders","data":[]})", r), BybitPrivateStatus::kUnknownTopic);
  EXPECT_EQ(run(d, R"({"topic":"order","data":{}})", r), BybitPrivateStatus::kMalformed);
  EXPECT_EQ(run(d, R"({"topic":"order"})", r), BybitPrivateStatus::kMalformed);
  EXPECT_EQ(run(d, R"({"hello":1})", r), BybitPrivateStatus::kMalformed);
  EXPECT_EQ(run(d, R"([1,2])", r), BybitPrivateStatus::kMalformed);
  EXPECT_EQ(run(d, R"({"topic":"order","data":[)", r), BybitPrivateStatus::kMalformed);
  EXPECT_EQ(run(d, "", r), BybitPrivateStatus::kMalformed);
  EXPECT_EQ(run(d, R"({"op":"auth","success":"yes"})", r), BybitPrivateStatus::kMalformed);
  EXPECT_TRUE(r.orders.empty());
  EXPECT_TRUE(r.execs.empty());
  EXPECT_TRUE(r.ops.empty());
  // No padding: refused, not read past the buffer.
  std::string exact = R"({"op":"ping"})";
  EXPECT_EQ(d.decode(exact.data(), exact.size(), exact.size(), r), BybitPrivateStatus::kMalformed);
}

TEST(BybitPrivateDecoder, Requests) {
  const std::string auth = bybit_private_auth_request("Gk4vQ7pX2mN9", "s3cr3t-Zt8w", 1662350400000);
  EXPECT_EQ(auth, R"({"op":"auth","args":["Gk4vQ7pX2mN9",1662350400000,")" +
                      bybit_ws_auth_signature("s3cr3t-Zt8w", 1662350400000) + R"("]})");
  EXPECT_EQ(auth.find("s3cr3t"), std::string::npos);
  EXPECT_EQ(bybit_ws_auth_signature("s3cr3t-Zt8w", 1662350400000),
            hmac_sha256_hex("s3cr3t-Zt8w", "GET/realtime1662350400000"));
  EXPECT_EQ(bybit_private_subscribe_request(), R"({"op":"subscribe","args":["order","execution"]})");
  EXPECT_EQ(bybit_ping_request(), R"({"op":"ping"})");
}

}  // namespace
}  // namespace shadow
