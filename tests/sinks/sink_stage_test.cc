// SinkStage from the producer's side, drained on the test's thread: an iteration handed over
// becomes ITER_SUMMARY_<n>.json (with the feed's decode errors booked on it) and its pool index
// comes back; fills become fills.jsonl lines (warm-up ones are not written); a full record ring
// drops fills live but keeps the reserve for iteration records; the end writes the run summary.
#include "sinks/sink_stage.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>

#include "tests/support/text_file.h"

namespace {

using namespace shadow;
namespace fs = std::filesystem;
using test_support::slurp;

struct Dir {
  explicit Dir(const std::string& name)
      : path(fs::temp_directory_path() / ("sink-stage-test-" + std::to_string(getpid()) + "-" + name)) {
    fs::remove_all(path);
  }
  ~Dir() { fs::remove_all(path); }
  fs::path path;
};

RunInfo info() {
  RunInfo i;
  i.run_id = "20261121T101500Z-3f2a";
  i.symbols = {"BTCUSDT", "ETHUSDT"};
  return i;
}

void drain(SinkStage& s) {
  while (s.work() > 0) {
  }
}

TEST(SinkStage, WritesAnIterationSummaryFromRecordsAndGivesThePoolIndexBack) {
  Dir dir("summary");
  SinkStageConfig cfg;
  cfg.out_dir = dir.path.string();
  std::atomic<double> p99{0};
  cfg.last_p99_us = &p99;
  SinkStage s(cfg, info());
  EXPECT_FALSE(fs::is_symlink(dir.path / "latest"));  // moved only when the run starts
  s.mark_started();
  EXPECT_EQ(fs::read_symlink(dir.path / "latest"), "20261121T101500Z-3f2a");
  std::atomic<std::uint64_t> decode_errors{3};
  s.book_decode_errors_of(&decode_errors);

  Fill f{};
  f.symbol = 0;
  EXPECT_TRUE(s.push_fill(0, f));  // warm-up: counted by the engine, not written
  EXPECT_TRUE(s.push_fill(1, f));
  EXPECT_TRUE(s.push_fill(1, f));
  IterationKpis& k = s.kpis(0);
  k.iteration = 1;
  k.started_realtime_ns = 1'000'000'000;
  k.ended_realtime_ns = 3'000'000'000;
  k.symbols[0].ticks = 42;
  s.hand_over(0);
  drain(s);

  const fs::path run = s.run_dir();
  const std::string summary = slurp(run / "ITER_SUMMARY_1.json");
  EXPECT_NE(summary.find("\"run_id\":\"20261121T101500Z-3f2a\""), std::string::npos) << summary;
  EXPECT_NE(summary.find("\"ticks\":42"), std::string::npos) << summary;
  EXPECT_NE(summary.find("\"decode_errors\":3"), std::string::npos) << summary;
  EXPECT_EQ(s.fills_written(), 2u);
  std::ifstream fills(run / "fills.jsonl");
  int lines = 0;
  for (std::string line; std::getline(fills, line);) {
    ++lines;
    EXPECT_NE(line.find("\"iteration\":1"), std::string::npos) << line;
  }
  EXPECT_EQ(lines, 2);
  // The three spares, then the index just written.
  std::uint32_t idx = 0;
  for (std::uint32_t want : {1u, 2u, 3u, 0u}) {
    ASSERT_TRUE(s.try_take_spare(idx));
    EXPECT_EQ(idx, want);
  }
  EXPECT_FALSE(s.try_take_spare(idx));

  EXPECT_FALSE(s.done());
  s.end("signal");
  drain(s);
  EXPECT_TRUE(s.done());
  EXPECT_EQ(s.completed(), 1u);
  const std::string run_summary = slurp(run / "SHADOW_RUN_SUMMARY.json");
  EXPECT_NE(run_summary.find("\"stop_reason\":\"signal\""), std::string::npos) << run_summary;
  EXPECT_NE(run_summary.find("\"partial\":true"), std::string::npos) << run_summary;
}

// Issue 11: stdout said "0 iteration(s) completed" while the summary counted the partial
// iteration as completed. iterations_completed counts full iterations; partial ones apart.
TEST(SinkStage, TheRunSummaryCountsFullAndPartialIterationsApart) {
  Dir dir("counts");
  SinkStageConfig cfg;
  cfg.out_dir = dir.path.string();
  SinkStage s(cfg, info());
  s.mark_started();
  std::uint32_t spare = 0;
  for (std::uint32_t n = 1; n <= 2; ++n) {
    const std::uint32_t idx = n == 1 ? 0 : spare;
    IterationKpis& k = s.kpis(idx);
    k.iteration = n;
    k.partial = n == 2;
    k.started_realtime_ns = n * 1'000'000'000LL;
    k.ended_realtime_ns = k.started_realtime_ns + 500'000'000;
    s.hand_over(idx);
    drain(s);
    ASSERT_TRUE(s.try_take_spare(spare));
  }
  s.end("signal");
  drain(s);
  ASSERT_TRUE(s.done());
  EXPECT_EQ(s.completed(), 1u);
  EXPECT_EQ(s.partial_count(), 1u);
  const std::string run_summary = slurp(fs::path(s.run_dir()) / "SHADOW_RUN_SUMMARY.json");
  EXPECT_NE(run_summary.find("\"iterations_completed\":1,"), std::string::npos) << run_summary;
  EXPECT_NE(run_summary.find("\"iterations_partial\":1,"), std::string::npos) << run_summary;
}

// Issue 11: a run that fails to start leaves no empty run directory and does not move `latest`.
TEST(SinkStage, ARunThatNeverStartedLeavesNoRunDirectoryAndKeepsLatest) {
  Dir dir("never-started");
  fs::create_directories(dir.path / "previous-run");
  fs::create_directory_symlink("previous-run", dir.path / "latest");
  SinkStageConfig cfg;
  cfg.out_dir = dir.path.string();
  std::string run_dir;
  {
    SinkStage s(cfg, info());
    run_dir = s.run_dir();
    EXPECT_TRUE(fs::exists(run_dir));
  }  // destroyed without mark_started(): what refused to start came after it
  EXPECT_FALSE(fs::exists(run_dir));
  EXPECT_EQ(fs::read_symlink(dir.path / "latest"), "previous-run");
}

TEST(SinkStage, ATakenMetricsPortLeavesNoRunDirectory) {
  Dir dir("port-taken");
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  socklen_t len = sizeof a;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
  SinkStageConfig cfg;
  cfg.out_dir = dir.path.string();
  cfg.metrics_addr = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  try {
    SinkStage s(cfg, info());
    ADD_FAILURE() << "the metrics endpoint listened on a taken port";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(cfg.metrics_addr), std::string::npos) << e.what();
  }
  ::close(fd);
  EXPECT_FALSE(fs::exists(dir.path / "20261121T101500Z-3f2a"));
  EXPECT_FALSE(fs::is_symlink(dir.path / "latest"));
}

TEST(SinkStage, AFullRingDropsFillsLiveButKeepsRoomForTheIteration) {
  Dir dir("full");
  SinkStageConfig cfg;
  cfg.out_dir = dir.path.string();
  cfg.record_ring = 64;
  SinkStage s(cfg, info());
  Fill f{};
  int taken = 0, dropped = 0;
  for (int i = 0; i < 100; ++i) (s.push_fill(1, f) ? taken : dropped)++;
  EXPECT_EQ(taken, 64 - static_cast<int>(SinkStage::kRecordReserve));
  EXPECT_EQ(dropped, 100 - taken);
  s.kpis(0).iteration = 1;
  s.hand_over(0);  // uses the reserve: never lost
  s.end("completed");
  drain(s);
  EXPECT_TRUE(s.done());
  EXPECT_EQ(s.fills_written(), static_cast<std::uint64_t>(taken));
  EXPECT_TRUE(fs::exists(fs::path(s.run_dir()) / "ITER_SUMMARY_1.json"));
}

TEST(SinkStage, AnExistingRunDirectoryIsRefused) {
  Dir dir("exists");
  SinkStageConfig cfg;
  cfg.out_dir = dir.path.string();
  fs::create_directories(dir.path / "20261121T101500Z-3f2a");
  EXPECT_THROW(SinkStage(cfg, info()), std::runtime_error);
}

}  // namespace
