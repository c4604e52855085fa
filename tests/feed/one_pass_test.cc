// The decoders' one-pass path (feed/internal/json_one_pass.h) against simdjson's: every message
// of the recorded Binance and Bybit captures, and thousands of damaged copies of real and hand-written
// messages, decode to the same status, the same events and the same stats whether the decoder
// reads them in one pass or through simdjson only, and the one-pass path does read what
// venues send (it is not a path that always gives up).
#include <gtest/gtest.h>
#include <simdjson.h>

#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/symbol_table.h"
#include "feed/binance_decoder.h"
#include "feed/bybit_decoder.h"
#include "tests/fuzz/decoder_test_support.h"

namespace shadow {
namespace {

using testing::CountingSink;

// What the reference decoder b reads with: simdjson only, or the one-pass field loop without
// the exact layouts.
enum class Reference { kSimdjson, kFieldLoop };

// One decoder as it runs and a reference decoder, fed the same messages.
template <class Decoder>
struct BothPaths {
  SymbolTable symbols_a, symbols_b;
  Decoder a{symbols_a}, b{symbols_b};
  CountingSink sink_a, sink_b;
  std::string buf;

  explicit BothPaths(Reference ref = Reference::kSimdjson) {
    if (ref == Reference::kSimdjson) {
      b.set_one_pass(false);
    } else {
      b.set_layouts(false);
    }
  }

  ::testing::AssertionResult same(std::string_view msg) {
    buf.assign(msg);
    buf.resize(msg.size() + simdjson::SIMDJSON_PADDING, '\0');
    return same(buf.data(), msg.size(), buf.size());
  }
  ::testing::AssertionResult same(const char* data, std::size_t len, std::size_t capacity) {
    const std::uint64_t before_a = sink_a.published, before_b = sink_b.published;
    const DecodeStatus sa = a.decode(data, len, capacity, 5, 6, sink_a);
    const DecodeStatus sb = b.decode(data, len, capacity, 5, 6, sink_b);
    const std::string_view text(data, len);
    if (sa != sb) {
      return ::testing::AssertionFailure()
             << "status " << to_string(sa) << " (one pass) vs " << to_string(sb)
             << " (simdjson) for: " << text;
    }
    const std::uint64_t n = sink_a.published - before_a;
    if (n != sink_b.published - before_b) {
      return ::testing::AssertionFailure() << "event counts differ for: " << text;
    }
    for (std::size_t i = 0; i < n; ++i) {
      if (!testing::same_event(sink_a.slot(i), sink_b.slot(i))) {
        return ::testing::AssertionFailure() << "event " << i << " differs for: " << text;
      }
    }
    if (std::memcmp(&a.stats(), &b.stats(), sizeof(DecoderStats)) != 0) {
      return ::testing::AssertionFailure() << "stats differ after: " << text;
    }
    return ::testing::AssertionSuccess();
  }
};

// Every message of a recorded capture through the decoder and the reference: the same
// results, no error, every message read in one pass (what venues send is one-pass text) and
// all but `not_layout` of them (Binance's REST snapshot) by an exact layout.
template <class Decoder>
void reads_capture_like(Reference ref, const char* rel, std::size_t min_messages,
                        std::size_t not_layout) {
  const std::string path = testing::data_path(rel);
  ASSERT_FALSE(path.empty()) << "SHADOW_DATA_DIR is not set: the recorded captures are needed";
  const testing::LoadedFile file = testing::load_lines(path);
  ASSERT_TRUE(file.ok) << path << ": " << file.error;
  ASSERT_GE(file.messages.size(), min_messages) << path;
  auto both = std::make_unique<BothPaths<Decoder>>(ref);
  for (const CaptureLine& m : file.messages) {
    ASSERT_TRUE(both->same(m.data, m.len, m.capacity)) << path << ":" << m.line_no;
  }
  EXPECT_EQ(both->a.stats().errors, 0u);
  EXPECT_EQ(both->a.one_pass_messages(), file.messages.size());
  EXPECT_EQ(both->a.layout_messages(), file.messages.size() - not_layout);
  EXPECT_EQ(both->b.one_pass_messages(), ref == Reference::kSimdjson ? 0u : file.messages.size());
  EXPECT_EQ(both->b.layout_messages(), 0u);
}

TEST(OnePass, ReadsTheBinanceCaptureLikeSimdjson) {
  reads_capture_like<BinanceDecoder>(Reference::kSimdjson, testing::kBinanceSample, 41249, 1);
}

TEST(OnePass, BinanceLayoutsReadTheCaptureLikeTheFieldLoop) {
  reads_capture_like<BinanceDecoder>(Reference::kFieldLoop, testing::kBinanceSample, 41249, 1);
}

TEST(OnePass, BybitLayoutsReadTheCaptureLikeTheFieldLoop) {
  reads_capture_like<BybitDecoder>(Reference::kFieldLoop, testing::kBybitSample, 50, 0);
}

TEST(OnePass, ReadsTheBybitCaptureLikeSimdjson) {
  reads_capture_like<BybitDecoder>(Reference::kSimdjson, testing::kBybitSample, 50, 0);
}

// Real messages of each kind the decoder reads, and the shapes it answers without events.
const char* const kBinanceMessages[] = {
    R"({"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1723161255208,"s":"BTCUSDT","U":50093239189,"u":50093239202,"b":[["61737.63000000","0.00000000"],["61730.17000000","1.25"]],"a":[["61837.64000000","1.54698000"]]}})",
    R"({"stream":"btcusdt@bookTicker","data":{"u":50093239212,"s":"BTCUSDT","b":"61837.63000000","B":"3.78826000","a":"61837.64000000","A":"1.54698000"}})",
    R"({"stream":"btcusdt@trade","data":{"e":"trade","E":1723161255310,"s":"BTCUSDT","t":3735683259,"p":"61837.64000000","q":"0.00010000","T":1723161255309,"m":false,"M":true}})",
    R"({"u":400900217,"s":"BNBUSDT","b":"25.35190000","B":"31.21000000","a":"25.36520000","A":"40.66000000"})",
    R"({"e":"trade","E":1672515782136,"s":"BNBBTC","t":12345,"p":"0.001","q":"100","T":1672515782136,"m":true,"M":true})",
    R"({"e":"aggTrade","E":123456789,"s":"BNBBTC","a":12345,"p":"0.001","q":"100","f":100,"l":105,"T":123456785,"m":true,"M":true})",
    R"({"e":"depthUpdate","E":1591270260907,"T":1591270260891,"s":"BTCUSDT","U":157,"u":160,"pu":149,"b":[["9517.12","10"]],"a":[]})",
    R"({"lastUpdateId":1027024,"bids":[["4.00000000","431.00000000"]],"asks":[["4.00000200","12.00000000"]]})",
    R"({"result":null,"id":1})",
    R"({"code":2,"msg":"Invalid request: unknown variant"})",
    R"({"e":"24hrTicker","E":1,"s":"BNBBTC","p":"0.0015","P":"250.00","c":"0.0025"})",
};

// Damage at every byte: each of these bytes in its place, the byte deleted, a space inserted.
// Quotes, escapes, control and non-ASCII bytes, structure, number and literal characters.
constexpr char kReplacements[] = {'"', '\\', ' ', '\t', '\x01', '\xc3', '\xff', '{', '}', '[',
                                  ']', ',', ':', '0', '9', '-', '.', 'e', 't', 'n', 'x'};

// Bybit v5 public messages (bybit-exchange.github.io/docs/v5/websocket/public/orderbook,
// .../trade) and the answers without market data.
const char* const kBybitMessages[] = {
    R"({"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1687940967466,"data":{"s":"BTCUSDT","b":[["30247.20","30.028"],["30245.40","0.224"]],"a":[["30248.70","0"]],"u":177400507,"seq":66544703342},"cts":1687940967464})",
    R"({"topic":"orderbook.50.BTCUSDT","type":"snapshot","ts":1672304484978,"data":{"s":"BTCUSDT","b":[["16493.50","0.006"]],"a":[["16611.00","0.029"],["16612.00","0.213"]],"u":18521288,"seq":7961638724},"cts":1672304484976})",
    R"({"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1672304486868,"data":[{"T":1672304486865,"s":"BTCUSDT","S":"Buy","v":"0.001","p":"16578.50","L":"PlusTick","i":"20f43950-d8dd-5b31-9112-a178eb6023af","BT":false},{"T":1672304486866,"s":"BTCUSDT","S":"Sell","v":"0.25","p":"16578.00","L":"ZeroMinusTick","i":"3735683259","BT":false,"seq":1}]})",
    R"({"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1733011200001,"data":[{"T":1733011200000,"s":"BTCUSDT","S":"Sell","v":"0.010","p":"60003.80","L":"PlusTick","i":"100000","BT":false,"seq":7}]})",
    R"({"data":{"s":"BTCUSDT","b":[],"a":[],"u":1,"seq":2},"topic":"orderbook.1.BTCUSDT","type":"delta","ts":1})",
    R"({"success":true,"ret_msg":"subscribe","conn_id":"2324d924-aa4d-45b0-a858-7b8be29ab52b","req_id":"10001","op":"subscribe"})",
    R"({"success":true,"ret_msg":"pong","conn_id":"0970e817-426e-429a-a679-ff7f55e0b16a","op":"ping"})",
    R"({"topic":"tickers.BTCUSDT","type":"snapshot","data":{"symbol":"BTCUSDT"},"cs":1,"ts":1})",
};

template <class Decoder, std::size_t N>
void damage_each_byte(const char* const (&messages)[N]) {
  auto both = std::make_unique<BothPaths<Decoder>>();
  std::size_t cases = 0;
  for (const char* base : messages) {
    const std::string msg(base);
    ASSERT_TRUE(both->same(msg));
    for (std::size_t i = 0; i < msg.size(); ++i) {
      for (const char c : kReplacements) {
        std::string m = msg;
        m[i] = c;
        ASSERT_TRUE(both->same(m));
      }
      const std::string_view head = std::string_view(msg).substr(0, i);
      const std::string_view tail = std::string_view(msg).substr(i);
      std::string cut(head);
      cut.append(tail.substr(1));
      ASSERT_TRUE(both->same(cut));
      std::string spaced(head);
      spaced.push_back(' ');
      spaced.append(tail);
      ASSERT_TRUE(both->same(spaced));
      cases += std::size(kReplacements) + 2;
    }
  }
  // Both paths were exercised: the one-pass path read some damaged copies (spaces between
  // tokens, other digits) and gave the others to simdjson.
  const std::uint64_t one_pass = both->a.one_pass_messages();
  EXPECT_GT(one_pass, cases / 10) << "of " << cases;
  EXPECT_LT(one_pass, cases / 2) << "of " << cases;
  // The exact layouts took some damaged copies (other digits) and left the rest to the field
  // loop and simdjson.
  EXPECT_GT(both->a.layout_messages(), cases / 20) << "of " << cases;
  EXPECT_LT(both->a.layout_messages(), one_pass) << "of " << cases;
}

TEST(OnePass, DamagedBinanceMessagesReadTheSameOnBothPaths) {
  damage_each_byte<BinanceDecoder>(kBinanceMessages);
}

TEST(OnePass, DamagedBybitMessagesReadTheSameOnBothPaths) {
  damage_each_byte<BybitDecoder>(kBybitMessages);
}

// Every prefix of each message, with the rest of the message (then zeros) in the padding: the
// buffer a receive ring leaves when a frame is cut short. A layout's literals do not test the
// end of the text (json_one_pass.h, layout::lit), so here they can match the bytes past it;
// the value readers and root_ends() must still refuse every prefix exactly as simdjson does.
template <class Decoder, std::size_t N>
void cut_each_byte_with_stale_padding(const char* const (&messages)[N]) {
  auto both = std::make_unique<BothPaths<Decoder>>();
  std::size_t cases = 0;
  for (const char* base : messages) {
    std::string buf(base);
    const std::size_t full = buf.size();
    buf.resize(full + simdjson::SIMDJSON_PADDING, '\0');
    for (std::size_t len = 1; len < full; ++len) {
      ASSERT_TRUE(both->same(buf.data(), len, len + simdjson::SIMDJSON_PADDING))
          << "prefix of " << len << " bytes of: " << base;
      ++cases;
    }
  }
  // No prefix is a whole message: nothing read by a layout, nothing published.
  EXPECT_EQ(both->a.layout_messages(), 0u) << "of " << cases;
  EXPECT_EQ(both->sink_a.published, 0u) << "of " << cases;
}

TEST(OnePass, CutBinanceMessagesReadTheSameWithTheRestInThePadding) {
  cut_each_byte_with_stale_padding<BinanceDecoder>(kBinanceMessages);
}

TEST(OnePass, CutBybitMessagesReadTheSameWithTheRestInThePadding) {
  cut_each_byte_with_stale_padding<BybitDecoder>(kBybitMessages);
}

// What the one-pass path must give up on, where simdjson decides (an error, or a value read
// in a way the one-pass subset does not cover), and what it may read itself.
TEST(OnePass, EdgeCasesReadTheSameOnBothPaths) {
  auto both = std::make_unique<BothPaths<BinanceDecoder>>();
  const char* const cases[] = {
      R"({"u":1,"s":"BTC\u0055SDT","b":"1.5","B":"2","a":"1.6","A":"3"})",    // escape in a value
      R"({"u":1,"s":"BTCUSDT","b":"1.5","B":"2","a":"1.6","A":"3","x\"y":1})",  // escape in a key
      R"({"u":1,"s":"BTCUSDT","b":"1.5","B":"2","a":"1.6","A":"3","n":"é"})",    // UTF-8 in a value
      "{\"u\":1,\"s\":\"BTCUSDT\",\"b\":\"1.5\",\"B\":\"2\",\"a\":\"1.6\",\"A\":\"3\",\"n\":\"\xff\"}",
      R"({"u":1,"s":"BTCUSDT","b":"1.5","B":"2","a":"1.6","A":"3"} x)",          // trailing text
      R"({"u":1,"s":"BTCUSDT","b":"1.5","B":"2","a":"1.6","A":"3"}{})",
      " \t\r\n{ \"u\" : 1 , \"s\" : \"BTCUSDT\" , \"b\" : \"1.5\" , \"B\" : \"2\" , \"a\" : "
      "\"1.6\" , \"A\" : \"3\" } \n",                                               // whitespace
      R"({"u":1,"s":"BTCUSDT","b":"1.5","B":"2","a":"1.6","A":"3","x":{"y":[1,2]}})",  // nested
      R"({"u":1,"s":"BTCUSDT","b":"1.5","B":"2","a":"1.6","A":"3","x":-1.5e+3,"y":true,"z":null})",
      R"({"u":1,"s":"BTCUSDT","b":"1.5","B":"2","a":"1.6","A":"3","x":01})",     // bad number
      R"({"u":1,"s":"BTCUSDT","b":"1.5","B":"2","a":"1.6","A":"3","x":1.})",
      R"({"u":1,"s":"BTCUSDT","b":"1.5","B":"2","a":"1.6","A":"3","x":tru})",
      R"({"u":18446744073709551615,"s":"BTCUSDT","b":"1.5","B":"2","a":"1.6","A":"3"})",
      R"({"u":-1,"s":"BTCUSDT","b":"1.5","B":"2","a":"1.6","A":"3"})",
      R"({"u":1,"u":2,"s":"BTCUSDT","b":"1.5","B":"2","a":"1.6","A":"3"})",        // duplicate key
      R"({"u":1,"s":"BTCUSDT","b":"1.5","B":"2","a":"1.6"})",                     // missing A
      R"({"u":1,"s":"BTCUSDT","b":"-1.5","B":"2","a":"1.6","A":"3"})",
      R"({"e":"trade","E":1,"s":"BTCUSDT","t":1,"p":"0","q":"1","T":1,"m":true})",  // invalid px
      R"({"e":"trade","E":1,"s":"BTCUSDT","t":1,"p":"1","q":"1","T":1,"m":1})",
      R"({"stream":"!ticker@arr","data":[{"e":"24hrTicker"}]})",                  // data not object
      R"({"stream":"x","data":"text"})",
      R"({"stream":"x","data":{}})",
      R"([{"u":1}])",
      R"({})",
      "",
      R"({"e":"depthUpdate","E":1,"s":"BTCUSDT","U":1,"u":2,"b":[["1","1"],["2"]],"a":[]})",
      R"({"e":"depthUpdate","E":1,"s":"BTCUSDT","U":1,"u":2,"b":[ [ "1" , "1" ] ],"a":[ ]})",
      R"({"e":"depthUpdate","E":1,"s":"BTCUSDT","U":1,"u":2,"b":[["1","1"]],"a":[]],"x":1})",
  };
  for (const char* c : cases) EXPECT_TRUE(both->same(c));
  EXPECT_GT(both->a.one_pass_messages(), 0u);
}

TEST(OnePass, BybitEdgeCasesReadTheSameOnBothPaths) {
  auto both = std::make_unique<BothPaths<BybitDecoder>>();
  const char* const cases[] = {
      // A trade list whose every trade is invalid: one event with the counts and the symbol.
      R"({"topic":"publicTrade.ETHUSDT","ts":1,"data":[{"T":1,"s":"ETHUSDT","S":"Buy","v":"0","p":"1"}]})",
      R"({"topic":"publicTrade.ETHUSDT","ts":1,"data":[{"T":1,"s":"","S":"Buy","v":"1","p":"1"}]})",
      R"({"topic":"publicTrade.ETHUSDT","ts":1,"data":[]})",
      R"({"topic":"publicTrade.ETHUSDT","ts":1,"data":{}})",
      R"({"topic":"publicTrade.ETHUSDT","ts":1,"data":[1]})",
      R"({"topic":"publicTrade.SOLUSDT","ts":1,"data":[{"T":1,"s":"SOLUSDT","S":"Buy","v":"1","p":"1"}]} x)",
      "{\"topic\":\"publicTrade.ADAUSDT\",\"ts\":1,\"data\":[{\"T\":1,\"s\":\"ADAUSDT\",\"S\":\"Buy\",\"v\":\"1\",\"p\":\"1\"}],\"x\":\"\xff\"}",
      R"({"topic":"orderbook.50.XRPUSDT","type":"delta","ts":1,"data":{"s":"XRPUSDT","b":[],"a":[],"u":2},"x":[1]})",
      R"({"topic":"orderbook.50.XRPUSDT","type":"delta","ts":1,"data":{"s":"XRPUSDT","b":[],"a":[],"u":2}})",
      R"({"topic":"orderbook.50.XRPUSDT","type":"bogus","ts":1,"data":{"s":"DOGEUSDT","b":[],"a":[],"u":2}})",
      R"({"topic":"orderbook.50.XRPUSDT","ts":1,"data":{"s":"XRPUSDT","b":[],"a":[],"u":2}})",
      R"({"topic":"orderbook.50.XRPUSDT","type":"delta","ts":1,"data":{"s":"XRPUSDT","b":[],"a":[]}})",
      R"({"topic":"orderbook.50.XRPUSDT","type":"delta","ts":1,"data":[]})",
      R"({"type":"delta","ts":1,"data":{"s":"XRPUSDT","b":[],"a":[],"u":2},"topic":"orderbook.50.XRPUSDT"})",
      R"({"op":"pong"})",
      R"({"success":false,"ret_msg":"bad","op":"subscribe"})",
      R"({"ts":1})",
  };
  for (const char* c : cases) EXPECT_TRUE(both->same(c));
  EXPECT_GT(both->a.one_pass_messages(), 0u);
  EXPECT_EQ(both->symbols_a.size(), both->symbols_b.size());
}

}  // namespace
}  // namespace shadow
