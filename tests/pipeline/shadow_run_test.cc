// ShadowRun's threads and rings on a recorded capture (no network): the split layout (feed,
// engine and sinks threads joined by SPSC rings, IterationKpis handed over through the pool)
// and the fused one must produce the same iterations from the same data. Labelled
// `concurrency`: the TSan job runs it.
#include <gtest/gtest.h>

#include "tests/support/require.h"
#include "tests/support/text_file.h"
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "pipeline/run_config.h"
#include "pipeline/shadow_run.h"

namespace {

using namespace shadow;
namespace fs = std::filesystem;
using test_support::slurp;

// Counts "key": occurrences' integer value in the totals block (the first occurrence).
long first_int(const std::string& json, const std::string& key) {
  const std::size_t at = json.find("\"" + key + "\":");
  return at == std::string::npos ? -1 : std::stol(json.substr(at + key.size() + 3));
}

RunResult run_capture(ThreadLayout layout, const fs::path& out) {
  RunConfig c = default_run_config();
  c.venue = VenueKind::kReplay;
  c.replay = {std::string(SHADOW_DATA_DIR) + "/binance/spot_btcusdt_20240808.gz"};
  c.symbols = {"BTCUSDT"};
  c.iterations = 1000;  // more than the capture holds: the run ends with the data
  c.duration_s = 20;    // of recorded time
  c.warmup_s = 0;
  c.layout = layout;
  c.out_dir = out.string();
  c.event_ring = 256;   // small: the feed meets a full ring and must push back, not drop
  c.record_ring = 1024;
  c.feed_idle = c.engine_idle = IdleKind::kSpinThenYield;
  c.finalize();
  ShadowRun run(c, "");
  return run.run();
}

TEST(ShadowRun, SplitAndFusedLayoutsAgreeOnARecordedCapture) {
  if (!fs::exists(std::string(SHADOW_DATA_DIR) + "/binance/spot_btcusdt_20240808.gz")) {
    SHADOW_MISSING("recorded samples not found in " << SHADOW_DATA_DIR);
  }
  const fs::path tmp = fs::temp_directory_path() / ("shadow-run-test-" + std::to_string(getpid()));
  fs::remove_all(tmp);
  const RunResult split = run_capture(ThreadLayout::kSplit, tmp / "split");
  const RunResult fused = run_capture(ThreadLayout::kFused, tmp / "fused");
  for (const RunResult* r : {&split, &fused}) {
    EXPECT_EQ(r->stop_reason, "completed") << r->error;
    EXPECT_TRUE(r->error.empty()) << r->error;
    EXPECT_GE(r->iterations_completed, 2u);
    EXPECT_TRUE(fs::exists(fs::path(r->run_dir) / "SHADOW_RUN_SUMMARY.json"));
    EXPECT_TRUE(fs::exists(fs::path(r->run_dir) / "ITER_SUMMARY_1.json"));
  }
  // Same data, same engine, same iteration clock (recorded time): same numbers.
  EXPECT_EQ(split.iterations_completed, fused.iterations_completed);
  EXPECT_EQ(split.fills, fused.fills);
  const std::string a = slurp(fs::path(split.run_dir) / "SHADOW_RUN_SUMMARY.json");
  const std::string b = slurp(fs::path(fused.run_dir) / "SHADOW_RUN_SUMMARY.json");
  EXPECT_EQ(first_int(a, "ticks"), 41249);  // every line of the capture, once
  EXPECT_EQ(first_int(a, "ticks"), first_int(b, "ticks"));
  EXPECT_EQ(first_int(a, "book_updates"), first_int(b, "book_updates"));
  EXPECT_EQ(first_int(a, "trades"), first_int(b, "trades"));
  EXPECT_EQ(first_int(a, "orders_considered"), first_int(b, "orders_considered"));
  EXPECT_EQ(first_int(a, "gaps"), 0);
  fs::remove_all(tmp);
}

}  // namespace
