// LatencyModel: constant latency, latency files (format and errors), seeded sampling.
#include "sim/latency_model.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace shadow {
namespace {

// A file under the test's temp directory, removed at the end of the test.
class TempFile {
 public:
  explicit TempFile(const std::string& text) {
    const char* dir = std::getenv("TMPDIR");
    path_ = std::string(dir != nullptr ? dir : "/tmp") + "/latency_model_test_" +
            std::to_string(::getpid()) + "_" + std::to_string(counter_++) + ".txt";
    std::ofstream(path_) << text;
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  std::string path_;
};

TEST(LatencyModelTest, ConstantAlwaysGivesTheSameValue) {
  LatencyModel m = LatencyModel::constant(200'000);
  EXPECT_TRUE(m.is_constant());
  for (int i = 0; i < 10; ++i) EXPECT_EQ(m.sample(), 200'000);
  EXPECT_EQ(LatencyModel().sample(), 0);
  EXPECT_THROW(LatencyModel::constant(-1), std::invalid_argument);
}

TEST(LatencyModelTest, ParsesMicrosecondsCommentsAndBlankLines) {
  const std::string text =
      "# recorded order-entry latencies, us\n"
      "100\n"
      "  87.25   # a comment after the number\n"
      "\n"
      "0.0004\n"   // 0.4 ns rounds down
      "0.0005\r\n" // 0.5 ns rounds up; CRLF accepted
      "1500.000\n";
  const std::vector<std::int64_t> ns = LatencyModel::parse_latency_file(text, "mem");
  EXPECT_EQ(ns, (std::vector<std::int64_t>{100'000, 87'250, 0, 1, 1'500'000}));
}

TEST(LatencyModelTest, BadLineNamesFileAndLine) {
  TempFile f("# header\n100\n\nabc\n200\n");
  try {
    (void)LatencyModel::from_file(f.path(), 1);
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(f.path() + ":4:"), std::string::npos) << msg;
    EXPECT_NE(msg.find("'abc'"), std::string::npos) << msg;
  }
}

TEST(LatencyModelTest, RejectsNegativeExponentAndEmpty) {
  EXPECT_THROW(LatencyModel::parse_latency_file("5\n-3\n", "f"), std::runtime_error);
  EXPECT_THROW(LatencyModel::parse_latency_file("1e3\n", "f"), std::runtime_error);
  EXPECT_THROW(LatencyModel::parse_latency_file("12 34\n", "f"), std::runtime_error);
  EXPECT_THROW(LatencyModel::parse_latency_file("# only comments\n\n", "f"), std::runtime_error);
  EXPECT_THROW(LatencyModel::from_file("/nonexistent/shadow/latency.txt", 1), std::runtime_error);
  EXPECT_THROW(LatencyModel::sampled({}, 1), std::invalid_argument);
  EXPECT_THROW(LatencyModel::sampled({5, -1}, 1), std::invalid_argument);
}

TEST(LatencyModelTest, SampledIsSeededAndDeterministic) {
  TempFile f("100\n200\n300\n400\n");
  LatencyModel a = LatencyModel::from_file(f.path(), 42);
  LatencyModel b = LatencyModel::from_file(f.path(), 42);
  LatencyModel c = LatencyModel::from_file(f.path(), 43);
  EXPECT_FALSE(a.is_constant());
  EXPECT_EQ(a.sample_count(), 4u);
  std::vector<std::int64_t> sa, sb, sc;
  for (int i = 0; i < 64; ++i) {
    sa.push_back(a.sample());
    sb.push_back(b.sample());
    sc.push_back(c.sample());
  }
  EXPECT_EQ(sa, sb);  // same seed, same sequence
  EXPECT_NE(sa, sc);  // another seed, another one (64 draws of 4 values: equal w.p. 4^-64)
}

TEST(LatencyModelTest, SampledIsUniformOverTheRecordedValues) {
  LatencyModel m = LatencyModel::sampled({100'000, 200'000, 300'000, 400'000}, 7);
  std::map<std::int64_t, int> counts;
  constexpr int kDraws = 40'000;
  for (int i = 0; i < kDraws; ++i) ++counts[m.sample()];
  ASSERT_EQ(counts.size(), 4u);
  for (const auto& [v, n] : counts) {
    // Binomial(40000, 1/4): sd ~ 87; 6 sd is 520.
    EXPECT_NEAR(n, kDraws / 4, 520) << v;
  }
}

}  // namespace
}  // namespace shadow
