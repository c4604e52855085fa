// IterationClock on recorded time (the replay case): where the warm-up ends and iterations are
// cut, what reaches the sink stage (ITER_SUMMARY_<n>.json with the recorded start and length),
// how a stop or the end of the feed closes the open iteration as partial, and that the engine's
// records are tagged with the iteration being accumulated.
#include "pipeline/iteration_clock.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "pipeline/run_config.h"
#include "tests/support/text_file.h"

namespace {

using namespace shadow;
namespace fs = std::filesystem;
using test_support::slurp;

constexpr std::int64_t kT0 = 1'700'000'000'000'000'000;  // 2023-11-14T22:13:20Z
constexpr std::int64_t kStep = 100'000'000;              // one event per 100 ms of recorded time

// The clock with a real engine and sink stage, all driven from the test's thread: after every
// event the sinks drain, so the clock never waits for a spare.
struct Rig {
  explicit Rig(double warmup_s, std::uint32_t iterations, const std::string& name)
      : out(fs::temp_directory_path() / ("iteration-clock-test-" + std::to_string(getpid()) + "-" + name)),
        clock(IterationClockConfig{warmup_s, 2.0, iterations, true, {"BTCUSDT"}}, symbols, progress) {
    fs::remove_all(out);
    const std::vector<std::uint16_t> ids{symbols.find_or_add(Venue::kBybit, "BTCUSDT")};
    engine = std::make_unique<ShadowEngine>(default_run_config().engine, ids, &clock);
    RunInfo info;
    info.run_id = "test-run";
    info.symbols = {"BTCUSDT"};
    SinkStageConfig sc;
    sc.out_dir = out.string();
    sc.lossless = true;
    sinks = std::make_unique<SinkStage>(sc, info);
    clock.attach(*engine, *sinks);
  }
  ~Rig() { fs::remove_all(out); }

  // An event at kT0 + k steps, of a symbol the engine does not trade (only the clock moves).
  void event(int k) {
    MarketEvent e{};
    e.kind = EventKind::kTrade;
    e.symbol = 500;
    e.local_ns = kT0 + k * kStep;
    clock.on_event(e);
    drain();
  }
  void drain() {
    while (sinks->work() > 0) {
    }
  }
  std::string iter(int n) const { return slurp(fs::path(sinks->run_dir()) / ("ITER_SUMMARY_" + std::to_string(n) + ".json")); }
  bool has_iter(int n) const {
    return fs::exists(fs::path(sinks->run_dir()) / ("ITER_SUMMARY_" + std::to_string(n) + ".json"));
  }

  fs::path out;
  SymbolTable symbols;
  RunProgress progress;
  IterationClock clock;
  std::unique_ptr<ShadowEngine> engine;
  std::unique_ptr<SinkStage> sinks;
};

TEST(IterationClock, WarmUpAndBoundariesFollowRecordedTime) {
  Rig r(1.0, 3, "boundaries");
  for (int k = 0; k < 10; ++k) r.event(k);  // [t0, t0 + 1 s): warm-up
  EXPECT_EQ(r.clock.iteration(), 0u);
  r.event(10);  // t0 + 1 s: iteration 1 opens
  EXPECT_EQ(r.clock.iteration(), 1u);
  for (int k = 11; k < 30; ++k) r.event(k);
  EXPECT_FALSE(r.has_iter(1));
  r.event(30);  // t0 + 3 s: iteration 1 is 2 s of recorded time, handed over
  EXPECT_TRUE(r.has_iter(1));
  EXPECT_EQ(r.clock.iteration(), 2u);
  for (int k = 31; k < 100; ++k) r.event(k);  // iterations 2 and 3; the run completes at t0 + 7 s
  EXPECT_TRUE(r.clock.finished());
  EXPECT_EQ(r.clock.stop_reason(), "completed");
  EXPECT_TRUE(r.sinks->done());
  EXPECT_EQ(r.sinks->completed(), 3u);
  EXPECT_FALSE(r.sinks->any_partial());
  EXPECT_FALSE(r.has_iter(4));

  const std::string one = r.iter(1);
  EXPECT_NE(one.find("\"started_at\":\"2023-11-14T22:13:21.000Z\""), std::string::npos) << one;
  EXPECT_NE(one.find("\"duration_s\":2,"), std::string::npos) << one;
  EXPECT_NE(one.find("\"warmup_s\":1"), std::string::npos) << one;
  const std::string three = r.iter(3);
  EXPECT_NE(three.find("\"started_at\":\"2023-11-14T22:13:25.000Z\""), std::string::npos) << three;
  EXPECT_NE(three.find("\"ended_at\":\"2023-11-14T22:13:27.000Z\""), std::string::npos) << three;
  const std::string run = slurp(fs::path(r.sinks->run_dir()) / "SHADOW_RUN_SUMMARY.json");
  EXPECT_NE(run.find("\"stop_reason\":\"completed\""), std::string::npos);
}

TEST(IterationClock, WithoutWarmUpTheFirstEventOpensIterationOne) {
  Rig r(0.0, 5, "no-warmup");
  r.event(0);
  EXPECT_EQ(r.clock.iteration(), 1u);
  EXPECT_EQ(r.clock.current().iteration, 1u);
  EXPECT_EQ(r.clock.current().started_realtime_ns, kT0);
}

TEST(IterationClock, TheEndOfACaptureClosesThePartialIterationAtTheLastRecordedTime) {
  Rig r(0.0, 5, "capture-end");
  for (int k = 0; k <= 25; ++k) r.event(k);  // iteration 1 [0, 2 s), iteration 2 open at 2.5 s
  r.clock.on_idle(false, true, false);
  r.drain();
  EXPECT_EQ(r.clock.stop_reason(), "completed");
  EXPECT_TRUE(r.sinks->done());
  EXPECT_EQ(r.sinks->completed(), 1u);
  EXPECT_TRUE(r.sinks->any_partial());
  const std::string two = r.iter(2);
  EXPECT_NE(two.find("\"partial\":true"), std::string::npos) << two;
  EXPECT_NE(two.find("\"duration_s\":0.5,"), std::string::npos) << two;
}

TEST(IterationClock, AStopEndsTheRunAsSignalAndAFailedFeedAsError) {
  Rig stopped(0.0, 5, "signal");
  stopped.event(0);
  stopped.clock.on_idle(true, false, false);
  stopped.drain();
  EXPECT_EQ(stopped.clock.stop_reason(), "signal");
  EXPECT_TRUE(stopped.has_iter(1));

  Rig failed(0.0, 5, "error");
  failed.event(0);
  failed.clock.on_idle(false, true, true);
  failed.drain();
  EXPECT_EQ(failed.clock.stop_reason(), "error");
  // Nothing more is taken once the run is over.
  failed.event(50);
  EXPECT_EQ(failed.clock.iteration(), 1u);
}

// The give-up policy ended the live feed: the run's reason says so, the open iteration is partial.
TEST(IterationClock, AFeedThatGaveUpOnTheVenueEndsTheRunAsVenueUnreachable) {
  Rig r(0.0, 5, "venue-unreachable");
  r.event(0);
  r.clock.on_idle(false, true, true, "venue_unreachable");
  r.drain();
  EXPECT_EQ(r.clock.stop_reason(), "venue_unreachable");
  EXPECT_TRUE(r.sinks->done());
  EXPECT_EQ(r.sinks->partial_count(), 1u);
  EXPECT_EQ(r.sinks->completed(), 0u);
}

TEST(IterationClock, WarmUpRecordsAreCountedButNotWritten) {
  Rig r(1.0, 1, "records");
  r.event(0);
  Fill f{};
  f.symbol = r.symbols.find_or_add(Venue::kBybit, "BTCUSDT");
  r.clock.on_fill(f);  // warm-up
  r.event(10);         // iteration 1
  r.clock.on_fill(f);
  r.clock.on_fill(f);
  r.event(30);
  EXPECT_EQ(r.progress.fills.load(), 3u);
  EXPECT_EQ(r.sinks->fills_written(), 2u);
  const std::string fills = slurp(fs::path(r.sinks->run_dir()) / "fills.jsonl");
  EXPECT_NE(fills.find("\"iteration\":1"), std::string::npos) << fills;
  EXPECT_EQ(fills.find("\"iteration\":0"), std::string::npos) << fills;
}

}  // namespace
