// A whole shadow run allocates nothing on its hot threads (issue 15): the embedded exchange at
// 100,000 events/s (paced, one message per event), ShadowRun in the fused layout and then the
// split one, and tests/support/counting_new.cc counting every heap allocation and free per
// thread. From the end of the warm-up (iteration 1 starts) to the start of the last iteration
// (two full 1.5 s iterations in between), the hot threads (shadow-fused; shadow-feed and
// shadow-engine) must make 0 allocations and 0 frees while they decide every message.
#include <gtest/gtest.h>

#include <dirent.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>

#include "exchange/exchange_process.h"
#include "pipeline/run_config.h"
#include "pipeline/shadow_run.h"
#include "tests/support/counting_new.h"

namespace {

using namespace shadow;
namespace fs = std::filesystem;

// The process's threads by name (/proc/self/task/<tid>/comm).
std::map<std::string, int> threads_by_name() {
  std::map<std::string, int> out;
  for (const auto& d : fs::directory_iterator("/proc/self/task")) {
    std::ifstream f(d.path() / "comm");
    std::string name;
    if (std::getline(f, name)) out[name] = std::stoi(d.path().filename().string());
  }
  return out;
}

struct Window {
  std::map<std::string, shadow::testing::ThreadHeap> heap;  // at the window's end, minus its start
  std::uint64_t messages = 0;
};

Window measure(ThreadLayout layout, const std::string& url, const fs::path& out,
               std::initializer_list<const char*> hot) {
  RunConfig c = default_run_config();
  c.venue = VenueKind::kUrl;
  c.url = url;
  c.symbols = {"BTCUSDT"};
  c.iterations = 4;
  c.duration_s = 1.5;
  c.warmup_s = 1;
  c.layout = layout;
  c.out_dir = out.string();
  c.feed_idle = c.engine_idle = IdleKind::kSpinThenYield;
  c.finalize();
  ShadowRun run(c, url);
  RunResult result;
  std::thread runner([&] { result = run.run(); });
  const auto at_iteration = [&](std::uint32_t i) {
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (run.progress().iteration.load() < i && std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return run.progress().iteration.load() >= i;
  };
  Window w;
  const bool started = at_iteration(1);
  std::map<std::string, int> tids = threads_by_name();
  std::map<std::string, shadow::testing::ThreadHeap> before;
  for (const char* name : hot) before[name] = shadow::testing::thread_heap(tids[name]);
  const std::uint64_t m0 = run.progress().messages.load();
  const bool ended = at_iteration(c.iterations);
  w.messages = run.progress().messages.load() - m0;
  for (const char* name : hot) {
    const shadow::testing::ThreadHeap now = shadow::testing::thread_heap(tids[name]);
    w.heap[name] = {now.allocations - before[name].allocations, now.frees - before[name].frees};
  }
  runner.join();
  EXPECT_TRUE(started && ended) << "the run never reached its iterations: " << result.error;
  EXPECT_EQ(result.stop_reason, "completed") << result.error;
  for (const char* name : hot) EXPECT_NE(tids[name], 0) << "no thread named " << name;
  return w;
}

TEST(ZeroAllocationRun, HotThreadsNeitherAllocateNorFreeAt100kMessagesPerSecond) {
  {  // the counter sees a thread's allocations by its tid (or every zero below proves nothing)
    const int me = static_cast<int>(::gettid());
    const shadow::testing::ThreadHeap a = shadow::testing::thread_heap(me);
    delete new std::string(64, 'x');  // one allocation for the string, one for its buffer
    const shadow::testing::ThreadHeap b = shadow::testing::thread_heap(me);
    ASSERT_EQ(b.allocations - a.allocations, 2u);
    ASSERT_EQ(b.frees - a.frees, 2u);
  }
  ExchangeProcess ex;
  std::string err;
  ASSERT_TRUE(ex.start({SHADOW_EXCHANGE_BIN, "--port", "0", "--symbols", "BTCUSDT", "--rate", "100000",
                        "--batch", "1", "--profile", "paced", "--seed", "3"},
                       {}, err))
      << err;
  const fs::path tmp = fs::temp_directory_path() / ("zero-alloc-run-" + std::to_string(getpid()));
  fs::remove_all(tmp);
  struct Case {
    ThreadLayout layout;
    std::initializer_list<const char*> hot;
  };
  for (const Case& k : {Case{ThreadLayout::kFused, {"shadow-fused"}},
                        Case{ThreadLayout::kSplit, {"shadow-feed", "shadow-engine"}}}) {
    SCOPED_TRACE(k.layout == ThreadLayout::kFused ? "fused" : "split");
    const Window w = measure(k.layout, ex.url(), tmp / (k.layout == ThreadLayout::kFused ? "f" : "s"), k.hot);
    // Two iterations of 1.5 s at 100 k events/s: far more than this, or the window saw nothing.
    EXPECT_GT(w.messages, 50'000u);
    for (const auto& [name, h] : w.heap) {
      EXPECT_EQ(h.allocations, 0u) << name << " allocated in the measured window";
      EXPECT_EQ(h.frees, 0u) << name << " freed in the measured window";
    }
    std::printf("%s: %llu messages in the window; hot threads:", k.layout == ThreadLayout::kFused ? "fused" : "split",
                static_cast<unsigned long long>(w.messages));
    for (const auto& [name, h] : w.heap) {
      std::printf(" %s %llu allocations %llu frees;", name.c_str(), static_cast<unsigned long long>(h.allocations),
                  static_cast<unsigned long long>(h.frees));
    }
    std::printf("\n");
  }
  ex.stop(3000);
  fs::remove_all(tmp);
}

}  // namespace
