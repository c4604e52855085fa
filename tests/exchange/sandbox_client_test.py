"""An independent Bybit v5 client (bybit_v5_client.py, written from the public docs only) against
shadow-exchange's sandbox trading REST API, on linear and spot BTCUSDT.

Places, amends, cancels and lists orders (Limit GTC/PostOnly/IOC/FOK, Market; single, batch,
cancel-all), reads executions, positions and the wallet; holds every response's field names and
JSON types to the documented examples (bybit_doc_examples.py); checks executions against the
order, the position and the wallet; every error path with Bybit's retCode; the ground-truth log.

One shadow-exchange per test class; every test trades on an account of its own. The pieces:
bybit_v5_client.py (the client, the process, the shape check), bybit_doc_examples.py (the
documented examples), sandbox_case.py (the fixture), sandbox_errors_cases.py (the error paths,
run from here). A documented key the sandbox lacks fails the test (a subTest, so the rest of the
test still runs) and names the key.

usage: sandbox_client_test.py SHADOW_EXCHANGE_BINARY
"""
import json
import sys
import time
import unittest
from decimal import Decimal

import sandbox_case
from sandbox_case import SYM, TICK, SandboxCase, docs, link, px, requirements, total
from sandbox_errors_cases import AuthAndLimitsTest, OrderErrorsTest  # noqa: F401 (run here too)


class MarketDataTest(SandboxCase):
    def test_time(self):
        before = int(time.time())
        r = self.ok(self.c.get("/v5/market/time", signed=False), "market/time")
        self.assertLessEqual(abs(int(r["timeSecond"]) - before), 5)
        self.assertTrue(r["timeNano"].startswith(r["timeSecond"]) and len(r["timeNano"]) == 19, r)

    def test_instruments_info(self):
        r = self.ok(self.c.get("/v5/market/instruments-info", {"category": "linear", "symbol": SYM}, signed=False),
                    "market/instruments-info", "linear")
        self.assertEqual(r["category"], "linear")
        (i,) = r["list"]
        self.assertEqual((i["symbol"], i["contractType"], i["status"], i["settleCoin"]),
                         (SYM, "LinearPerpetual", "Trading", "USDT"))
        self.assertEqual([Decimal(i["priceFilter"]["tickSize"]), Decimal(i["lotSizeFilter"]["qtyStep"]),
                          Decimal(i["lotSizeFilter"]["minOrderQty"]), Decimal(i["lotSizeFilter"]["minNotionalValue"])],
                         [TICK, Decimal("0.001"), Decimal("0.001"), Decimal(5)])
        r = self.ok(self.c.get("/v5/market/instruments-info", {"category": "spot", "symbol": SYM}, signed=False),
                    "market/instruments-info", "spot")
        (i,) = r["list"]
        self.assertEqual((r["category"], i["symbol"], i["baseCoin"], i["quoteCoin"]), ("spot", SYM, "BTC", "USDT"))
        self.assertEqual(Decimal(i["priceFilter"]["tickSize"]), TICK)
        self.assertEqual(Decimal(i["lotSizeFilter"]["minOrderAmt"]), Decimal(5))
        self.assertNotIn("nextPageCursor", r)  # spot does not paginate

    def test_orderbook(self):
        for category in ("linear", "spot"):
            r = self.ok(self.c.get("/v5/market/orderbook", {"category": category, "symbol": SYM, "limit": 5},
                                   signed=False), "market/orderbook")
            self.assertEqual(r["s"], SYM)
            bids = [Decimal(p) for p, _ in r["b"]]
            asks = [Decimal(p) for p, _ in r["a"]]
            self.assertTrue(0 < len(bids) <= 5 and 0 < len(asks) <= 5, r)
            self.assertEqual(bids, sorted(bids, reverse=True))
            self.assertEqual(asks, sorted(asks))
            self.assertLess(bids[0], asks[0])
            self.assertTrue(Decimal(60000) < bids[0] < Decimal(70000), r)
            for p in bids + asks:
                self.assertEqual(p % TICK, 0, r)
        # Documented default depth: spot 1 level, linear 25.
        r = self.ok(self.c.get("/v5/market/orderbook", {"category": "spot", "symbol": SYM}, signed=False),
                    "market/orderbook")
        self.assertEqual((len(r["b"]), len(r["a"])), (1, 1), r)
        r = self.ok(self.c.get("/v5/market/orderbook", {"category": "linear", "symbol": SYM}, signed=False),
                    "market/orderbook")
        self.assertTrue(1 < len(r["b"]) <= 25 and 1 < len(r["a"]) <= 25, r)

    def test_tickers(self):
        for category in ("linear", "spot"):
            r = self.ok(self.c.get("/v5/market/tickers", {"category": category, "symbol": SYM}, signed=False),
                        "market/tickers", category)
            (t,) = r["list"]
            self.assertEqual((r["category"], t["symbol"]), (category, SYM))
            self.assertLess(Decimal(t["bid1Price"]), Decimal(t["ask1Price"]))


class TradingCases:
    """The same trading flows on each category (mixed into LinearTradingTest, SpotTradingTest)."""
    CATEGORY = None
    QTY = "0.002"

    def test_limit_gtc_list_amend_cancel(self):
        cat = self.CATEGORY
        bid, _ = self.book(cat)
        price = px(bid - 200)
        lid = link("gtc")
        oid = self.create(cat, side="Buy", orderType="Limit", qty=self.QTY, price=price, timeInForce="GTC",
                          orderLinkId=lid)
        self.assertEqual(self.open_ids(cat), [oid])
        by_id = self.order(cat, oid)
        by_link = self.realtime(cat, orderLinkId=lid)
        self.assertEqual(by_link, [by_id])
        self.assertEqual((by_id["orderStatus"], by_id["side"], by_id["orderType"], by_id["timeInForce"],
                          by_id["orderLinkId"], by_id["rejectReason"], by_id["positionIdx"], by_id["reduceOnly"]),
                         ("New", "Buy", "Limit", "GTC", lid, "EC_NoError", 0, False))
        self.assertEqual((Decimal(by_id["price"]), Decimal(by_id["qty"]), Decimal(by_id["leavesQty"]),
                          Decimal(by_id["cumExecQty"])), (Decimal(price), Decimal(self.QTY), Decimal(self.QTY), 0))
        if cat == "spot":  # a spot buy locks its quote value
            self.assertEqual(Decimal(self.wallet("USDT")["locked"]), Decimal(price) * Decimal(self.QTY))
        # amend qty, then price (by orderId, then by orderLinkId)
        r = self.ok(self.c.post("/v5/order/amend", {"category": cat, "symbol": SYM, "orderId": oid, "qty": "0.003"}),
                    "order/ack")
        self.assertEqual((r["orderId"], r["orderLinkId"]), (oid, lid))
        self.assertEqual(Decimal(self.order(cat, oid)["qty"]), Decimal("0.003"))
        price2 = px(bid - 210)
        self.ok(self.c.post("/v5/order/amend", {"category": cat, "symbol": SYM, "orderLinkId": lid, "price": price2}),
                "order/ack")
        row = self.order(cat, oid)
        self.assertEqual((Decimal(row["price"]), Decimal(row["qty"]), row["orderStatus"]),
                         (Decimal(price2), Decimal("0.003"), "New"))
        # cancel by orderLinkId: gone from the open list, still found by id and in the history
        r = self.ok(self.c.post("/v5/order/cancel", {"category": cat, "symbol": SYM, "orderLinkId": lid}), "order/ack")
        self.assertEqual((r["orderId"], r["orderLinkId"]), (oid, lid))
        row = self.order(cat, oid, final=True)
        self.assertEqual((row["orderStatus"], row["cancelType"]), ("Cancelled", "CancelByUser"), row)
        self.assertEqual(self.open_ids(cat), [])
        self.assertIn(oid, [o["orderId"] for o in self.realtime(cat, symbol=SYM, openOnly=1)])  # recent closed
        self.assertEqual(self.history(cat, oid)["orderStatus"], "Cancelled")
        if cat == "spot":
            self.assertEqual(Decimal(self.wallet("USDT")["locked"]), 0)

    def test_post_only(self):
        cat = self.CATEGORY
        bid, ask = self.book(cat)
        resting = self.create(cat, side="Buy", orderType="Limit", qty=self.QTY, price=px(bid - 100),
                              timeInForce="PostOnly")
        row = self.order(cat, resting)
        self.assertEqual((row["orderStatus"], row["timeInForce"]), ("New", "PostOnly"))
        # crossing: accepted (retCode 0), then killed by the engine
        crossing = self.create(cat, side="Buy", orderType="Limit", qty=self.QTY, price=px(ask + 2),
                               timeInForce="PostOnly", orderLinkId=link("po"))
        row = self.order(cat, crossing, final=True)
        self.assertEqual((row["orderStatus"], row["rejectReason"], Decimal(row["cumExecQty"])),
                         ("Cancelled", "EC_PostOnlyWillTakeLiquidity", 0), row)
        if cat == "linear":  # the documented example (order/history)
            self.assertEqual(row["cancelType"], "UNKNOWN", row)
        self.assertEqual(self.execs(cat, crossing), [])
        self.assertEqual(self.history(cat, crossing)["orderStatus"], "Cancelled")
        self.assertEqual(self.open_ids(cat), [resting])

    def test_ioc_and_fok(self):
        cat = self.CATEGORY
        bid, ask = self.book(cat)
        cases = [("IOC", px(ask + 5), self.QTY, "Filled"), ("IOC", px(bid - 100), self.QTY, "Cancelled"),
                 ("FOK", px(ask + 5), self.QTY, "Filled"), ("FOK", px(ask + 1), "1", "Cancelled")]
        for tif, price, qty, status in cases:
            oid = self.create(cat, side="Buy", orderType="Limit", qty=qty, price=price, timeInForce=tif)
            row = self.order(cat, oid, final=True)
            ex = self.execs(cat, oid)
            self.assertEqual((row["orderStatus"], row["timeInForce"]), (status, tif), row)
            filled = Decimal(qty) if status == "Filled" else Decimal(0)
            self.assertEqual((Decimal(row["cumExecQty"]), total(ex, "execQty")), (filled, filled), (row, ex))
            for e in ex:
                self.assertIs(e["isMaker"], False)
                self.assertLessEqual(Decimal(e["execPrice"]), Decimal(price))
        self.assertEqual(self.open_ids(cat), [])

    def test_batch_create_cancel_and_cancel_all(self):
        cat = self.CATEGORY
        bid, _ = self.book(cat)
        links = [link("batch") for _ in range(3)]
        req = [{"symbol": SYM, "side": "Buy", "orderType": "Limit", "qty": self.QTY, "price": px(bid - 300 - i),
                "orderLinkId": lid} for i, lid in enumerate(links)]
        resp = self.c.post("/v5/order/create-batch", {"category": cat, "request": req})
        r = self.ok(resp, "order/create-batch")
        self.check_shape(resp, resp.json["retExtInfo"], docs.BATCH_EXT_INFO, "order/create-batch retExtInfo")
        self.assertEqual([x["code"] for x in resp.json["retExtInfo"]["list"]], [0, 0, 0], resp)
        self.assertEqual([(x["category"], x["symbol"], x["orderLinkId"]) for x in r["list"]],
                         [(cat, SYM, lid) for lid in links])
        ids = [x["orderId"] for x in r["list"]]
        rows = self.realtime(cat, symbol=SYM)
        self.assertEqual(sorted(o["orderId"] for o in rows), sorted(ids))
        created = [int(o["createdTime"]) for o in rows]
        self.assertEqual(created, sorted(created, reverse=True), "realtime: newest first")
        # cancel-batch: one by orderId, one by orderLinkId, one unknown (its own error, orderId "")
        resp = self.c.post("/v5/order/cancel-batch", {"category": cat, "request": [
            {"symbol": SYM, "orderId": ids[0]}, {"symbol": SYM, "orderLinkId": links[1]},
            {"symbol": SYM, "orderLinkId": "no-such-order"}]})
        r = self.ok(resp, "order/cancel-batch")
        self.check_shape(resp, resp.json["retExtInfo"], docs.BATCH_EXT_INFO, "order/cancel-batch retExtInfo")
        unknown = 170213 if cat == "spot" else 110001
        self.assertEqual([x["code"] for x in resp.json["retExtInfo"]["list"]], [0, 0, unknown], resp)
        self.assertEqual([(x["orderId"], x["orderLinkId"]) for x in r["list"]],
                         [(ids[0], links[0]), (ids[1], links[1]), ("", "no-such-order")])
        self.assertEqual(self.open_ids(cat), [ids[2]])
        # cancel-all (linear needs symbol/baseCoin/settleCoin; spot may send nothing)
        body = {"category": cat} if cat == "spot" else {"category": cat, "symbol": SYM}
        r = self.ok(self.c.post("/v5/order/cancel-all", body), "order/cancel-all")
        self.assertEqual((r["list"], r["success"]), ([{"orderId": ids[2], "orderLinkId": links[2]}], "1"))
        self.assertEqual(self.open_ids(cat), [])
        self.assertEqual(self.order(cat, ids[2], final=True)["orderStatus"], "Cancelled")


    def test_maker_fill_fee_and_wallet(self):
        """A PostOnly buy at the best bid, filled by the background flow: maker fee rate 0.0002."""
        cat = self.CATEGORY
        coin = "USDT" if cat == "linear" else "BTC"
        before = Decimal(self.wallet(coin)["walletBalance"])
        bid, _ = self.book(cat)
        oid = self.create(cat, side="Buy", orderType="Limit", qty=self.QTY, price=px(bid), timeInForce="PostOnly")
        deadline = time.monotonic() + 10
        while self.order(cat, oid)["orderStatus"] != "Filled" and time.monotonic() < deadline:
            time.sleep(0.25)
            bid, _ = self.book(cat)
            row = self.order(cat, oid)
            if row["orderStatus"] == "New" and Decimal(row["price"]) < bid:  # the market left: follow it
                self.c.post("/v5/order/amend", {"category": cat, "symbol": SYM, "orderId": oid, "price": px(bid)})
        row = self.order(cat, oid)
        ex = self.execs(cat, oid)
        self.assertEqual((row["orderStatus"], total(ex, "execQty")), ("Filled", Decimal(self.QTY)), (row, ex))
        times = [int(e["execTime"]) for e in ex]
        self.assertEqual(times, sorted(times, reverse=True), "execution/list: newest first")
        for e in ex:
            self.assertEqual((e["isMaker"], Decimal(e["feeRate"]), e["feeCurrency"]), (True, Decimal("0.0002"), coin), e)
            base = Decimal(e["execValue"]) if cat == "linear" else Decimal(e["execQty"])
            self.assertEqual(Decimal(e["execFee"]), (base * Decimal("0.0002")).quantize(Decimal("1E-8")), e)
        after = Decimal(self.wallet(coin)["walletBalance"])
        gained = Decimal(0) if cat == "linear" else total(ex, "execQty")
        self.assertEqual(after - before, gained - total(ex, "execFee"))


class LinearTradingTest(SandboxCase, TradingCases):
    CATEGORY = "linear"

    def market(self, side, qty, **extra):
        oid = self.create("linear", side=side, orderType="Market", qty=qty, **extra)
        row = self.order("linear", oid, final=True)
        self.assertEqual((row["orderStatus"], row["orderType"], row["timeInForce"]), ("Filled", "Market", "IOC"), row)
        ex = self.execs("linear", oid)
        self.assertEqual(total(ex, "execQty"), Decimal(row["cumExecQty"]))
        self.assertEqual(Decimal(row["cumExecQty"]), Decimal(qty))
        for e in ex:
            self.assertEqual((e["side"], e["isMaker"], e["feeCurrency"]), (side, False, "USDT"), e)
            self.assertEqual(Decimal(e["execValue"]), Decimal(e["execPrice"]) * Decimal(e["execQty"]), e)
            self.assertEqual(Decimal(e["feeRate"]), Decimal("0.00055"), e)
        return row, ex

    def test_market_round_trip_position_and_wallet(self):
        start = Decimal(self.wallet("USDT")["walletBalance"])
        flat = self.position()
        self.assertEqual((flat["side"], Decimal(flat["size"])), ("", 0), flat)
        row, buys = self.market("Buy", "0.010", orderLinkId=link("mkt"))
        pos = self.position()
        self.assertEqual((pos["side"], Decimal(pos["size"])), ("Buy", total(buys, "execQty")), pos)
        vwap = total(buys, "execValue") / total(buys, "execQty")  # Bybit shows it to 8 decimals
        with self.subTest(check="position avgPrice = VWAP of the fills"):  # let the rest run too
            self.assertLess(abs(Decimal(pos["avgPrice"]) - vwap), Decimal("0.00000001"), (vwap, pos))
        with self.subTest(check="position breakEvenPrice by the documented formula"):
            # breakeven_price = (entry_price * qty - realized_pnl) / (qty - abs(qty) * max(taker fee rate, 0.00055))
            size, rpnl = Decimal(pos["size"]), Decimal(pos["curRealisedPnl"])
            want = (Decimal(pos["avgPrice"]) * size - rpnl) / (size - size * Decimal("0.00055"))
            self.assertLess(abs(Decimal(pos["breakEvenPrice"]) - want), Decimal("0.0001"), (want, pos))
        self.assertEqual(Decimal(pos["unrealisedPnl"]), (Decimal(pos["markPrice"]) - vwap) * size, pos)
        self.check_wallet_formulas()
        opened = Decimal(self.wallet("USDT")["walletBalance"])
        self.assertEqual(opened - start, -total(buys, "execFee"), buys)
        # close: reduce-only market sell of the whole position
        _, sells = self.market("Sell", pos["size"], reduceOnly=True)
        pos = self.position()
        self.assertEqual((pos["side"], Decimal(pos["size"])), ("", 0), pos)
        pnl = total(sells, "execValue") - total(buys, "execValue")
        closed = Decimal(self.wallet("USDT")["walletBalance"])
        self.assertEqual(closed - opened, pnl - total(sells, "execFee"), (sells, pnl))
        self.assertEqual(closed - start, pnl - total(buys + sells, "execFee"))

    def check_wallet_formulas(self):
        """The wallet-balance page's definitions: totalMarginBalance = totalWalletBalance +
        totalPerpUPL; totalEquity = sum of the coins' usdValue; a coin's equity = walletBalance -
        spotBorrow + unrealisedPnl; the perp UPL is the USDT coin's (one response: the mark moves)."""
        r = self.ok(self.c.get("/v5/account/wallet-balance", {"accountType": "UNIFIED"}), "account/wallet-balance")
        acc = r["list"][0]
        d = {k: Decimal(v) for k, v in acc.items() if isinstance(v, str) and k.startswith("total")}
        self.assertEqual(d["totalMarginBalance"], d["totalWalletBalance"] + d["totalPerpUPL"], acc)
        self.assertLessEqual(abs(d["totalEquity"] - total(acc["coin"], "usdValue")), Decimal("0.00000002"), acc)
        for c in acc["coin"]:
            self.assertEqual(Decimal(c["equity"]),
                             Decimal(c["walletBalance"]) - Decimal(c["spotBorrow"]) + Decimal(c["unrealisedPnl"]), c)
        usdt = [c for c in acc["coin"] if c["coin"] == "USDT"][0]
        self.assertEqual(Decimal(usdt["unrealisedPnl"]), d["totalPerpUPL"], acc)

    def test_ground_truth_log(self):
        bid, _ = self.book("linear")
        resting = self.create("linear", side="Buy", orderType="Limit", qty="0.001", price=px(bid - 150),
                              orderLinkId=link("gt"))
        self.ok(self.c.post("/v5/order/cancel", {"category": "linear", "symbol": SYM, "orderId": resting}), "order/ack")
        taker, _ = self.market("Buy", "0.004")
        want = {resting: ["accepted", "closed"], taker["orderId"]: ["accepted", "match", "closed"]}
        deadline = time.monotonic() + 5
        while True:
            with open(self.sandbox.ground_truth) as f:
                lines = f.read().splitlines()
            events = [json.loads(line) for line in lines]  # every line is one JSON object
            got = {oid: [e["event"] for e in events if e.get("orderId") == oid] for oid in want}
            if all(g and g[-1] == "closed" for g in got.values()) or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        seqs = [e["seq"] for e in events]
        self.assertEqual(seqs, sorted(set(seqs)), "seq must rise")
        self.assertEqual(got[resting], want[resting], events)
        g = got[taker["orderId"]]
        self.assertEqual((g[0], g[-1], set(g[1:-1])), ("accepted", "closed", {"match"}), g)
        matches = [e for e in events if e.get("orderId") == taker["orderId"] and e["event"] == "match"]
        self.assertEqual(total(matches, "qty"), Decimal("0.004"), matches)
        for e in events:
            self.assertIn(e["event"], {"accepted", "match", "closed", "amended"}, e)


class SpotTradingTest(SandboxCase, TradingCases):
    CATEGORY = "spot"

    def test_market_buy_by_value_and_sell_balances(self):
        usdt0, btc0 = Decimal(self.wallet("USDT")["walletBalance"]), Decimal(self.wallet("BTC")["walletBalance"])
        # by value (the default unit of a spot market buy): at most 200 USDT spent, less than one
        # more lot left over
        _, ask = self.book("spot")
        oid = self.create("spot", side="Buy", orderType="Market", qty="200")
        row = self.order("spot", oid, final=True)
        by_value = self.execs("spot", oid)
        # the book holds far more than 200 USDT: all the lots it paid for were bought, so Filled
        self.assertEqual(row["orderStatus"], "Filled", row)
        self.assertEqual((row["marketUnit"], total(by_value, "execQty")), ("quoteCoin", Decimal(row["cumExecQty"])))
        spent = total(by_value, "execValue")
        self.assertTrue(Decimal(200) - ask * Decimal("0.0011") < spent <= Decimal(200), (row, by_value))
        # by base quantity
        oid = self.create("spot", side="Buy", orderType="Market", qty="0.003", marketUnit="baseCoin")
        row = self.order("spot", oid, final=True)
        buys = by_value + self.execs("spot", oid)
        self.assertEqual((row["orderStatus"], Decimal(row["cumExecQty"])), ("Filled", Decimal("0.003")), row)
        for e in buys:  # a buy pays its fee in the base coin
            self.assertEqual((e["side"], e["feeCurrency"], e["isMaker"]), ("Buy", "BTC", False), e)
        usdt1, btc1 = Decimal(self.wallet("USDT")["walletBalance"]), Decimal(self.wallet("BTC")["walletBalance"])
        self.assertEqual(usdt1 - usdt0, -total(buys, "execValue"))
        self.assertEqual(btc1 - btc0, total(buys, "execQty") - total(buys, "execFee"))
        oid = self.create("spot", side="Sell", orderType="Market", qty="0.002", marketUnit="baseCoin")
        row = self.order("spot", oid, final=True)
        sells = self.execs("spot", oid)
        self.assertEqual((row["orderStatus"], Decimal(row["cumExecQty"])), ("Filled", Decimal("0.002")), row)
        for e in sells:  # a sell pays its fee in the quote coin
            self.assertEqual((e["side"], e["feeCurrency"]), ("Sell", "USDT"), e)
        usdt2, btc2 = Decimal(self.wallet("USDT")["walletBalance"]), Decimal(self.wallet("BTC")["walletBalance"])
        self.assertEqual(btc2 - btc1, -Decimal("0.002"))
        self.assertEqual(usdt2 - usdt1, total(sells, "execValue") - total(sells, "execFee"))


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sandbox_case.BINARY = sys.argv[1]
    requirements.require_path(sys.argv[1], "shadow-exchange binary")
    unittest.main(argv=[sys.argv[0]] + sys.argv[2:], verbosity=2)


if __name__ == "__main__":
    main()
