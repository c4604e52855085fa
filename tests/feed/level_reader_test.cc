// The book-level reader both decoders share (feed/internal/json_util.h scan_levels, with the
// 32-byte pair reader of json_scan.h decimal_pair where the CPU has AVX2) against a reference
// that shares none of its code: every level is parse_fixed() of its two strings as simdjson's
// DOM parser delimits them, on every message of both recorded captures and on random messages
// whose levels change shape from one level to the next (the pair reader keeps the previous
// level's shape), with whitespace, strings the fast paths refuse, and strings parse_fixed
// refuses.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/fixed_point.h"
#include "core/symbol_table.h"
#include "feed/binance_decoder.h"
#include "feed/bybit_decoder.h"
#include "feed/capture_decoder.h"
#include "tests/fuzz/decoder_test_support.h"
#include "tests/support/require.h"

namespace shadow {
namespace {

using Levels = std::vector<std::pair<Fixed, Fixed>>;

// The levels of the events published for one message, in text order (each event holds its
// bids before its asks, and a bid after asks opens a new event).
Levels levels_of(const std::vector<MarketEvent>& events, std::size_t from) {
  Levels out;
  for (std::size_t i = from; i < events.size(); ++i) {
    const MarketEvent& e = events[i];
    if (!e.is_book()) continue;
    for (int j = 0; j < e.n_bids + e.n_asks; ++j) out.emplace_back(e.levels[j].px, e.levels[j].qty);
  }
  return out;
}

// Appends parse_fixed() of each [price, size] pair of the DOM array `arr`; false when a string
// is not a decimal parse_fixed takes.
bool reference_levels(simdjson::dom::element arr, Levels& out) {
  for (simdjson::dom::element level : arr.get_array()) {
    simdjson::dom::array pair = level.get_array();
    if (pair.size() != 2) return false;
    Fixed px = 0, qty = 0;
    if (!parse_fixed(std::string_view(pair.at(0).get_string()), px) ||
        !parse_fixed(std::string_view(pair.at(1).get_string()), qty)) {
      return false;
    }
    out.emplace_back(px, qty);
  }
  return true;
}

// The levels of a Binance depthUpdate (bare or in the combined stream), a Binance REST snapshot
// or a Bybit orderbook message, in text order; empty for any other message.
Levels reference_of(simdjson::dom::parser& parser, std::string_view text) {
  Levels out;
  simdjson::dom::element root;
  if (parser.parse(text.data(), text.size()).get(root)) return out;
  simdjson::dom::element payload;
  if (root["data"].get(payload)) payload = root;
  for (const char* side : {"bids", "asks", "b", "a"}) {
    simdjson::dom::element arr;
    if (payload[side].get(arr) || !arr.is_array()) continue;
    EXPECT_TRUE(reference_levels(arr, out)) << text.substr(0, 200);
  }
  return out;
}

// Every level of the recorded capture `rel`, decoded as the feed decodes it, against the
// reference, which must read `levels` levels (decoder_data_test's count: it saw them all).
void every_level_of(const char* rel, Protocol protocol, std::size_t levels) {
  const std::string path = testing::data_path(rel);
  if (path.empty()) SHADOW_MISSING("sample " << rel << " not found: set SHADOW_DATA_DIR");
  SymbolTable symbols;
  CaptureDecoder decoder{symbols};
  testing::VectorSink sink;
  simdjson::dom::parser parser;
  std::string error;
  std::size_t mismatches = 0, read = 0;
  const bool ok = decode_capture(path, protocol, decoder, sink, error,
                                 [&](const CaptureLine& l, DecodeStatus st) {
    ASSERT_EQ(st, DecodeStatus::kOk);
    const std::string_view text(l.data, l.len);
    const Levels want = reference_of(parser, text);
    const Levels got = levels_of(sink.events, 0);
    sink.events.clear();
    read += want.size();
    if (got != want && ++mismatches <= 3) {
      ADD_FAILURE() << "levels differ in: " << text.substr(0, 200);
    }
  });
  ASSERT_TRUE(ok) << error;
  EXPECT_EQ(mismatches, 0u);
  EXPECT_EQ(read, levels);
}

TEST(LevelReader, EveryLevelOfTheBinanceCaptureIsParseFixedOfItsText) {
  every_level_of(testing::kBinanceSample, Protocol::kBinance, 126090);
}

TEST(LevelReader, EveryLevelOfTheBybitCaptureIsParseFixedOfItsText) {
  every_level_of(testing::kBybitSample, Protocol::kBybit, 3966);
}

// Random decimal strings: mostly what venues send (1-10 integer and 0-8 fractional digits, so
// some past the fast paths' 8 integer digits), with `odd` sometimes a string parse_fixed
// refuses.
std::string random_decimal(std::mt19937_64& rng, bool odd, bool& valid) {
  static constexpr const char* kOdd[] = {"", ".5", "1.", "-1.5", "1e3", "1.5 ", " 1.5", "1..5",
                                         "+2", "0x1", "1,5", "\\u0031"};
  std::uniform_int_distribution<int> pick(0, 99);
  if (odd && pick(rng) < 2) {
    const char* s = kOdd[std::uniform_int_distribution<std::size_t>(0, std::size(kOdd) - 1)(rng)];
    Fixed v;
    valid = parse_fixed(s, v);
    return s;
  }
  // Past 8 fractional digits parse_fixed refuses the string (finer than Fixed's 1e-8).
  std::uniform_int_distribution<int> digit(0, 9), int_len(1, 10), frac_len(0, odd ? 10 : 8);
  // Runs of one shape, as venues send them, broken now and then.
  std::string s;
  const int n = pick(rng) < 70 ? 5 : int_len(rng);
  const int f = pick(rng) < 70 ? 8 : frac_len(rng);
  for (int i = 0; i < n; ++i) {
    s += static_cast<char>('0' + (i == 0 && n > 1 ? 1 + digit(rng) % 9 : digit(rng)));
  }
  if (f > 0) {
    s += '.';
    for (int i = 0; i < f; ++i) s += static_cast<char>('0' + digit(rng));
  }
  Fixed v;
  valid = parse_fixed(s, v);
  return s;
}

TEST(LevelReader, RandomLevelsOfChangingShapesReadAsParseFixed) {
  std::mt19937_64 rng(20261205);
  SymbolTable symbols;
  BinanceDecoder decoder{symbols};
  testing::VectorSink sink;
  std::string buf;
  std::size_t decoded = 0, refused = 0, damaged_messages = 0;
  for (int m = 0; m < 3000; ++m) {
    bool all_valid = true, damaged = false;
    Levels want;
    std::string text = R"({"e":"depthUpdate","E":1,"s":"BTCUSDT","U":1,"u":2)";
    std::uniform_int_distribution<int> count(0, 40), pick(0, 99);
    const bool odd = m % 3 == 0;     // a third of the messages may hold refused strings,
    const bool damage = m % 3 == 1;  // another third a level that is not a pair of strings
    for (const char* side : {",\"b\":[", ",\"a\":["}) {
      text += side;
      const int n = count(rng);
      for (int i = 0; i < n; ++i) {
        bool px_ok = true, qty_ok = true;
        const std::string px = random_decimal(rng, odd, px_ok),
                          qty = random_decimal(rng, odd, qty_ok);
        const bool spaced = pick(rng) < 3;
        text += i == 0 ? "" : spaced ? " , " : ",";
        std::string level =
            spaced ? "[ \"" + px + "\" , \"" + qty + "\" ]" : "[\"" + px + "\",\"" + qty + "\"]";
        if (damage && !damaged && pick(rng) < 4) {
          static constexpr std::pair<const char*, const char*> kDamage[] = {
              {"]", "}"}, {"]", ",\"1\"]"}, {"\",\"", "\" \""}, {"\",\"", "\",,\""},
              {"[", "{"}, {"]", ""}, {"[\"", "[1,\""}, {"\"]", "\"]]"}};
          const auto& [from, to] = kDamage[std::uniform_int_distribution<std::size_t>(
              0, std::size(kDamage) - 1)(rng)];
          const std::size_t at = std::string_view(from) == "[" || std::string_view(from) == "[\""
                                     ? level.find(from)
                                     : level.rfind(from);
          if (at != std::string::npos) {
            level.replace(at, std::strlen(from), to);
            damaged = true;
          }
        }
        text += level;
        Fixed p = 0, q = 0;
        if (px_ok && qty_ok && parse_fixed(px, p) && parse_fixed(qty, q) && p > 0 && q >= 0) {
          want.emplace_back(p, q);
        } else {
          all_valid = false;  // refused, or a price <= 0 or size < 0 (dropped and counted)
        }
      }
      text += "]";
    }
    text += "}";
    // The message with the rest of a longer one in its padding: the readers must stop at `end`.
    buf = text + R"(,["61737.63000000","0.00000000"],["61737.63000000","0.00000000"]]}}})";
    buf.resize(buf.size() + simdjson::SIMDJSON_PADDING, '\0');
    const std::size_t before = sink.events.size();
    const DecodeStatus st = decoder.decode(buf.data(), text.size(), buf.size(), 1, 2, sink);
    if (damaged) {
      ASSERT_NE(st, DecodeStatus::kOk) << text;
      ASSERT_EQ(sink.events.size(), before) << text;
      ++refused;
    } else if (all_valid) {
      ASSERT_EQ(st, DecodeStatus::kOk) << text;
      ASSERT_EQ(levels_of(sink.events, before), want) << text;
      ++decoded;
    } else {
      // A refused string fails the message; a price of 0 only drops its level.
      if (st == DecodeStatus::kOk) {
        ASSERT_EQ(levels_of(sink.events, before), want) << text;
      } else {
        ASSERT_EQ(sink.events.size(), before) << text;
        ++refused;
      }
    }
    damaged_messages += damaged ? 1 : 0;
    sink.events.clear();
    // Every prefix cut inside the level arrays is refused, with nothing published.
    const std::size_t cut = text.size() / 2 + static_cast<std::size_t>(m) % (text.size() / 2);
    if (cut < text.size()) {
      const std::size_t published = sink.events.size();
      EXPECT_NE(decoder.decode(buf.data(), cut, buf.size(), 1, 2, sink), DecodeStatus::kOk)
          << text.substr(0, cut);
      EXPECT_EQ(sink.events.size(), published);
    }
  }
  EXPECT_GT(decoded, 1000u);
  EXPECT_GT(refused, 300u);
  EXPECT_GT(damaged_messages, 100u);
}

}  // namespace
}  // namespace shadow
