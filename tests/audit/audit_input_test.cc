// The audit's readers against hostile input (issue 11 findings 2 and 10): every problem in a
// thresholds file or an artifact is an InputError naming the file (and the position or key and
// range), never another exception; non-regular and oversized artifacts are refused by kind and
// size without blocking or reading them whole.
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "audit/audit.h"

namespace {

using namespace shadow::audit;
using nlohmann::json;
namespace fs = std::filesystem;

// The InputError's what() of `f()`, or "no error".
template <typename F>
std::string error_of(F f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

bool has(const std::string& s, const std::string& needle) { return s.find(needle) != std::string::npos; }

class AuditInput : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/audit_input_test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& content) {
    const std::string p = dir_ + "/" + name;
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }
  std::string dir_;
};

// --- JSON text --------------------------------------------------------------------------------

TEST(AuditJson, NulAndWhatFollowsIsAnErrorWithItsPosition) {
  // nlohmann alone stops at the NUL and accepts {"risk_ratio": 0.5}.
  const std::string text("{\"risk_ratio\": 0.5}\0garbage", 27);
  const std::string e = error_of([&] { parse_json(text, "t.json"); });
  EXPECT_TRUE(has(e, "t.json: malformed JSON at line 1, column 20 (byte 20): a NUL byte")) << e;
  EXPECT_TRUE(has(error_of([] { parse_json(std::string("{\"a\":\0 1}", 9), "t.json"); }), "NUL byte"));
}

TEST(AuditJson, NumberOverflowNamesTheFileAndPosition) {
  // Was nlohmann's out_of_range.406 escaping as "unexpected error", without the file.
  const std::string e = error_of([] { parse_json("{\n  \"maker_taker_ratio\": 1e999}", "t.json"); });
  EXPECT_TRUE(has(e, "t.json: malformed JSON at line 2, column 24")) << e;
  EXPECT_TRUE(has(e, "number overflow parsing '1e999'")) << e;
  EXPECT_TRUE(has(error_of([] { parse_json("[-1e400]", "t.json"); }), "t.json: malformed JSON at line 1, column 2"));
}

TEST(AuditJson, TrailingContentDuplicateKeysAndDepth) {
  EXPECT_TRUE(has(error_of([] { parse_json("{\"a\": 1} x", "t.json"); }), "t.json: malformed JSON at line 1"));
  EXPECT_TRUE(has(error_of([] { parse_json("{} {}", "t.json"); }), "expected end of input"));
  EXPECT_EQ(error_of([] { parse_json("{\"a\": 1, \"b\": {\"a\": 2}}", "t.json"); }), "no error");  // other object
  EXPECT_EQ(error_of([] { parse_json("{\"a\": 1, \"a\": 2}", "t.json"); }),
            "t.json: ambiguous JSON: key \"a\" appears twice in one object");
  const auto nested = [](int depth) { return std::string(depth, '[') + std::string(depth, ']'); };
  EXPECT_EQ(error_of([&] { parse_json(nested(kMaxJsonDepth), "t.json"); }), "no error");
  EXPECT_EQ(error_of([&] { parse_json(nested(kMaxJsonDepth + 1), "t.json"); }),
            "t.json: JSON nested deeper than 64 levels");
  // Deep enough to overflow a recursive validator's stack: refused, not a crash.
  EXPECT_TRUE(has(error_of([&] { parse_json(nested(1 << 20), "t.json"); }), "nested deeper"));
  EXPECT_EQ(error_of([] { parse_json(" \n{\"a\": [1, {\"b\": null}]}\r\n\t", "t.json"); }), "no error");
}

TEST(AuditJson, StringsAndKeysAreBounded) {
  // std::regex (valijson's "pattern") recursed per character: a 50 000-character
  // iterations[].file in a run summary overflowed the stack.
  const auto str = [](std::size_t n) { return "\"" + std::string(n, '1') + "\""; };
  EXPECT_EQ(error_of([&] { parse_json("[" + str(kMaxJsonString) + "]", "t.json"); }), "no error");
  EXPECT_EQ(error_of([&] { parse_json("[" + str(kMaxJsonString + 1) + "]", "t.json"); }),
            "t.json: JSON string longer than 4096 bytes");
  EXPECT_EQ(error_of([&] { parse_json("{" + str(kMaxJsonString + 1) + ": 1}", "t.json"); }),
            "t.json: JSON key longer than 4096 bytes");
  EXPECT_EQ(error_of([&] { parse_json(str(50000), "t.json"); }), "t.json: JSON string longer than 4096 bytes");
}

// --- thresholds -------------------------------------------------------------------------------

TEST(AuditThresholdRanges, EachKpiAcceptsItsRangeAndRefusesOutside) {
  for (const KpiSpec& k : kKpis) {
    const std::string key(k.name);
    for (double ok : {k.min_threshold, k.max_threshold, k.default_threshold}) {
      const Thresholds t = apply_thresholds(json{{key, ok}}, "t.json", default_thresholds());
      EXPECT_EQ(t[static_cast<std::size_t>(&k - kKpis.data())], ok) << key;
    }
    for (double bad : {k.min_threshold - 1e-9 * (1 + std::abs(k.min_threshold)),
                       k.max_threshold + 1e-9 * (1 + k.max_threshold), 1.7e308, -1.7e308}) {
      const std::string e = error_of([&] { apply_thresholds(json{{key, bad}}, "t.json", default_thresholds()); });
      EXPECT_TRUE(has(e, "t.json: /" + key + ": threshold '" + key + "' must be a number in [")) << e;
      std::string unit = "(";
      unit.append(k.unit).append(")");
      EXPECT_TRUE(has(e, unit)) << e;
    }
  }
  EXPECT_EQ(error_of([] { apply_thresholds(json{{"maker_taker_ratio", 1.7e308}}, "t.json", default_thresholds()); }),
            "t.json: /maker_taker_ratio: threshold 'maker_taker_ratio' must be a number in [0, 1] (ratio), not 1.7e+308");
  EXPECT_TRUE(has(error_of([] { apply_thresholds(json{{"fills_per_iteration", 2e9}}, "t.json", default_thresholds()); }),
                  "[0, 1e+09] (fills)"));
  EXPECT_TRUE(has(error_of([] { apply_thresholds(json{{"risk", 0.1}}, "t.json", default_thresholds()); }),
                  "(known: maker_taker_ratio, net_bps, p95_latency_ms, risk_ratio, clock_drift_ms, "
                  "fills_per_iteration)"));
}

TEST_F(AuditInput, ThresholdsFileIsReadStrictlyAndBounded) {
  const std::string nul = write("nul.json", std::string("{\"maker_taker_ratio\": 0.5}\0garbage", 34));
  EXPECT_TRUE(has(error_of([&] { read_thresholds_file(nul, default_thresholds()); }), nul + ": malformed JSON at line 1"));
  const std::string big = write("big.json", "{\"net_bps\": 1" + std::string(kMaxThresholdsBytes, ' ') + "}");
  EXPECT_TRUE(has(error_of([&] { read_thresholds_file(big, default_thresholds()); }), big + ": is 65550 bytes, over the limit of 64 KiB"));
  const std::string overflow = write("overflow.json", "{\"maker_taker_ratio\": 1e999}");
  EXPECT_TRUE(has(error_of([&] { read_thresholds_file(overflow, default_thresholds()); }), overflow + ": malformed JSON at line 1, column 23"));
  const std::string good = write("good.json", "{\"risk_ratio\": 0.5}\n");
  EXPECT_DOUBLE_EQ(read_thresholds_file(good, default_thresholds())[3], 0.5);
  EXPECT_EQ(error_of([&] { read_thresholds_file(dir_, default_thresholds()); }), dir_ + ": is a directory, not a regular file");
}

// --- artifacts --------------------------------------------------------------------------------

TEST_F(AuditInput, ArtifactThatIsNotARegularFileIsRefusedWithoutReadingIt) {
  // A symlink to /dev/zero was read until gigabytes; a FIFO blocked open() forever.
  const std::string zero = dir_ + "/ITER_SUMMARY_1.json";
  ASSERT_EQ(::symlink("/dev/zero", zero.c_str()), 0);
  EXPECT_EQ(error_of([&] { read_json_file(zero); }), zero + ": is a character device, not a regular file");
  const std::string fifo = dir_ + "/ITER_SUMMARY_2.json";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_EQ(error_of([&] { read_json_file(fifo); }), fifo + ": is a FIFO, not a regular file");
}

TEST_F(AuditInput, ArtifactOverTheLimitIsRefusedBySize) {
  const std::string p = write("ITER_SUMMARY_1.json", "{" + std::string(kMaxArtifactBytes, ' ') + "}");
  EXPECT_EQ(error_of([&] { read_json_file(p); }),
            p + ": is " + std::to_string(kMaxArtifactBytes + 2) + " bytes, over the limit of 16 MiB");
  EXPECT_EQ(error_of([&] { read_json_file(p, kMaxArtifactBytes + 2); }), "no error");
}

TEST_F(AuditInput, FieldsTheAuditReadsAreCheckedEvenUnderALooseSchema) {
  // A --schemas directory whose schema allows anything: nlohmann's type_error used to escape.
  const SchemaValidator anything(write("any.schema.json", "{}"));
  const std::string e = error_of([&] { iteration_from(json{{"iteration", "1"}}, anything, "I.json"); });
  EXPECT_EQ(e, "I.json: /iteration: missing or of the wrong type (the audit reads it)");
  EXPECT_TRUE(has(error_of([&] { iteration_from(json::array(), anything, "I.json"); }), "/iteration"));
  EXPECT_TRUE(has(error_of([&] {
                    iteration_from(json{{"iteration", 1}, {"partial", false}, {"totals", 3}}, anything, "I.json");
                  }),
                  "I.json: /totals"));
  const Iteration it = iteration_from(
      json{{"iteration", 2}, {"partial", true}, {"totals", json::object()}, {"run_id", "r"}}, anything, "I.json");
  EXPECT_EQ(it.number, 2);
  EXPECT_TRUE(it.partial);
  EXPECT_EQ(it.run_id, "r");
}

}  // namespace
