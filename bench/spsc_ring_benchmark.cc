// shadow::SpscRing against its peers, side by side in one run:
//   boost::lockfree::spsc_queue, moodycamel::ReaderWriterQueue, moodycamel::ConcurrentQueue
//   (with a producer token, dequeuing from that producer: its fastest mode for one producer).
//
// BM_Throughput<Q>     8-byte items, producer (this thread) on CPU 0, consumer on CPU 1,
//                      one item per call on both sides; items/s.
// BM_ThroughputBatch<Q> the same with the queues' bulk calls, 32 items per call (RWQ has none).
// BM_Throughput512<Q>  512-byte MarketEvents, the pipeline's real item: SpscRing fills the slot
//                      in place (claim/publish) and reads it in place (front/pop); boost builds
//                      the event on the stack, copies it in (push) and reads it in place
//                      (consume_one), its cheapest path.
// BM_RoundTrip<Q>      ping-pong over two queues: this thread pushes to q1 and waits for the
//                      echo on q2, the other thread (CPU 1) pops q1 and pushes to q2. Time per
//                      iteration, and the ns_per_roundtrip counter, are nanoseconds per round
//                      trip (wall clock).
// All queues have the same capacity (65536 items; 4096 for the 512-byte items) and the same wait
// loop (spin_pause() after a failed push or pop). Note the regime BM_Throughput measures: each
// 1M-item chunk fills the ring within the first ~65536 items, then the producer is mostly
// blocked on a full ring. RWQ (65536 -> 130 blocks of 512) copes well there by design: a blocked
// producer may not enter the consumer's block, so it polls only the rarely written frontBlock
// pointer and then gets ~511 free slots at once, far from the line the consumer is reading;
// SpscRing keeps all capacity() slots usable and exact "full", so its blocked producer must
// re-read the consumer's hot index and refills slots right behind the consumer.
#include <benchmark/benchmark.h>

#include <atomic>
#include <boost/lockfree/spsc_queue.hpp>
#include <chrono>
#include <concurrentqueue/concurrentqueue.h>
#include <cstdint>
#include <memory>
#include <readerwriterqueue/readerwriterqueue.h>
#include <thread>

#include "core/market_event.h"
#include "core/thread_affinity.h"
#include "ringbuf/spsc_ring.h"

namespace {

constexpr std::size_t kCapacity = 65536;
constexpr std::size_t kCapacity512 = 4096;
constexpr std::uint64_t kChunk = 1 << 20;  // items per benchmark iteration (throughput)
constexpr std::size_t kBatch = 32;
constexpr int kProducerCpu = 0;
constexpr int kConsumerCpu = 1;

// ---- Adapters: one item per call, the way each queue is meant to be used ---------------------

// Every single-item adapter has the same shape: bool push(v) / bool pop(v&), each one call into
// the queue's own copy-out API (SpscRing::try_pop, spsc_queue::pop, RWQ::try_dequeue). Not
// front() + pop(): that reads the index twice, the second read behind the slot load, and
// measures the adapter rather than the ring (~400 vs ~600+ M/s).
struct SpscRing {
  explicit SpscRing(std::size_t cap) : q(cap) {}
  bool push(std::uint64_t v) noexcept { return q.try_push(v); }
  bool pop(std::uint64_t& v) noexcept { return q.try_pop(v); }
  std::size_t push_n(const std::uint64_t* v, std::size_t n) noexcept { return q.try_push_n(v, n); }
  std::size_t pop_n(std::uint64_t* v, std::size_t n) noexcept { return q.try_pop_n(v, n); }
  shadow::SpscRing<std::uint64_t> q;
};

struct BoostSpsc {
  explicit BoostSpsc(std::size_t cap) : q(cap) {}
  bool push(std::uint64_t v) noexcept { return q.push(v); }
  bool pop(std::uint64_t& v) noexcept { return q.pop(v); }
  std::size_t push_n(const std::uint64_t* v, std::size_t n) noexcept { return q.push(v, n); }
  std::size_t pop_n(std::uint64_t* v, std::size_t n) noexcept { return q.pop(v, n); }
  boost::lockfree::spsc_queue<std::uint64_t> q;
};

struct MoodycamelRWQ {
  explicit MoodycamelRWQ(std::size_t cap) : q(cap) {}
  // try_enqueue never allocates: same bounded behaviour as the others.
  bool push(std::uint64_t v) noexcept { return q.try_enqueue(v); }
  bool pop(std::uint64_t& v) noexcept { return q.try_dequeue(v); }
  moodycamel::ReaderWriterQueue<std::uint64_t> q;
};

struct MoodycamelCQ {
  explicit MoodycamelCQ(std::size_t cap) : q(cap), ptok(q), ctok(q) {}
  bool push(std::uint64_t v) noexcept { return q.try_enqueue(ptok, v); }
  // With one producer, dequeuing straight from its sub-queue is CQ's fastest consumer path.
  bool pop(std::uint64_t& v) noexcept { return q.try_dequeue_from_producer(ptok, v); }
  std::size_t push_n(const std::uint64_t* v, std::size_t n) noexcept {
    return q.try_enqueue_bulk(ptok, v, n) ? n : 0;
  }
  std::size_t pop_n(std::uint64_t* v, std::size_t n) noexcept {
    return q.try_dequeue_bulk(ctok, v, n);
  }
  moodycamel::ConcurrentQueue<std::uint64_t> q;
  moodycamel::ProducerToken ptok;  // enqueues: producer thread; dequeue_from_producer: consumer
  moodycamel::ConsumerToken ctok;  // used by the consumer thread only
};

// What a pipeline wait strategy does between polls of an empty (or full) queue: tells the core
// it is spinning, so the polling thread does not steal the cache lines the other side is
// writing on every iteration. Same for every queue; the round trip spins without it.
inline void spin_pause() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

bool pin_or_skip(benchmark::State& state, int cpu) {
  // Counted once, before the first pin: afterwards this thread's own mask holds one CPU.
  static const bool two_cpus = shadow::available_cpus() >= 2;
  if (!two_cpus || !shadow::pin_current_thread(cpu)) {
    state.SkipWithError("needs CPUs 0 and 1 to pin producer and consumer apart");
    return false;
  }
  return true;
}

// Shared between the benchmark thread and its peer, each on its own cache line.
struct alignas(64) Flag {
  std::atomic<bool> stop{false};
};
struct alignas(64) Progress {
  std::atomic<std::uint64_t> consumed{0};
};

// ---- Throughput ----------------------------------------------------------------------------

// The two-thread harness every throughput benchmark runs through, so that the queues differ only
// in their adapter. It pins this thread to kProducerCpu (or skips) and builds a Q of `capacity`.
// Per benchmark iteration this thread calls produce(q, i, end) to push items [i, end); the
// consumer thread (kConsumerCpu) calls consume(q, sum), which takes what it can, folds it into
// sum and returns how many items it took (0: empty). The iteration ends when the consumer has
// taken all `chunk` items: only items that went all the way through are counted.
template <class Q, class Produce, class Consume>
void run_throughput(benchmark::State& state, std::size_t capacity, std::uint64_t chunk,
                    Produce produce, Consume consume) {
  if (!pin_or_skip(state, kProducerCpu)) return;
  const auto ring = std::make_unique<Q>(capacity);
  Q& q = *ring;
  Flag flag;
  Progress progress;
  std::thread consumer([&] {
    shadow::pin_current_thread(kConsumerCpu);
    shadow::name_current_thread("bench-consumer");
    std::uint64_t n = 0, sum = 0, next_report = chunk;
    while (true) {
      const std::size_t got = consume(q, sum);
      if (got != 0) {
        n += got;
        if (n >= next_report) {
          progress.consumed.store(n, std::memory_order_release);
          next_report += chunk;
        }
      } else if (flag.stop.load(std::memory_order_relaxed)) {
        break;
      } else {
        spin_pause();
      }
    }
    benchmark::DoNotOptimize(sum);
  });
  std::uint64_t i = 0;
  for (auto _ : state) {
    const std::uint64_t end = i + chunk;
    produce(q, i, end);
    i = end;
    while (progress.consumed.load(std::memory_order_acquire) < end) {
    }
  }
  flag.stop.store(true, std::memory_order_relaxed);
  consumer.join();
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * chunk));
}

// One item per push call, pausing while the queue is full.
template <class Q>
inline void push_each(Q& q, std::uint64_t i, std::uint64_t end) noexcept {
  while (i < end) {
    if (q.push(i)) {
      ++i;
    } else {
      spin_pause();
    }
  }
}

template <class Q>
void BM_Throughput(benchmark::State& state) {
  run_throughput<Q>(state, kCapacity, kChunk, push_each<Q>,
                    [](Q& q, std::uint64_t& sum) -> std::size_t {
                      std::uint64_t v = 0;
                      if (!q.pop(v)) return 0;
                      sum += v;
                      return 1;
                    });
}

template <class Q>
void BM_ThroughputBatch(benchmark::State& state) {
  // Each side's buffer lives on its own thread's stack, away from the other's cache lines.
  run_throughput<Q>(
      state, kCapacity, kChunk,
      [](Q& q, std::uint64_t i, std::uint64_t end) {  // kChunk is a multiple of kBatch
        std::uint64_t in[kBatch];
        for (; i < end; i += kBatch) {
          for (std::size_t k = 0; k < kBatch; ++k) in[k] = i + k;
          std::size_t done = 0;
          while (done < kBatch) done += q.push_n(in + done, kBatch - done);
        }
      },
      [](Q& q, std::uint64_t& sum) {
        std::uint64_t out[kBatch];
        const std::size_t got = q.pop_n(out, kBatch);
        for (std::size_t k = 0; k < got; ++k) sum += out[k];
        return got;
      });
}

// ---- 512-byte events -----------------------------------------------------------------------

// What a decoder writes for a small book delta: the header and four levels.
inline void fill_event(shadow::MarketEvent& e, std::uint64_t i) noexcept {
  e.local_ns = static_cast<std::int64_t>(i);
  e.recv_mono_ns = static_cast<std::int64_t>(i);
  e.seq = i;
  e.msg_seq = i;
  e.kind = shadow::EventKind::kBookDelta;
  e.flags = shadow::kFirstInMessage | shadow::kLastInMessage;
  e.n_bids = 2;
  e.n_asks = 2;
  for (int k = 0; k < 4; ++k) e.levels[k] = {static_cast<shadow::Fixed>(i + k), 1};
}
inline std::uint64_t read_event(const shadow::MarketEvent& e) noexcept {
  return e.seq + static_cast<std::uint64_t>(e.levels[0].px + e.levels[3].qty);
}

struct SpscRing512 {
  explicit SpscRing512(std::size_t cap) : q(cap) {}
  bool push(std::uint64_t i) noexcept {
    shadow::MarketEvent* e = q.claim(0);
    if (e == nullptr) return false;
    fill_event(*e, i);
    q.publish(1);
    return true;
  }
  bool pop(std::uint64_t& sum) noexcept {
    const shadow::MarketEvent* e = q.front();
    if (e == nullptr) return false;
    sum += read_event(*e);
    q.pop();
    return true;
  }
  shadow::SpscRing<shadow::MarketEvent> q;
};

struct BoostSpsc512 {
  explicit BoostSpsc512(std::size_t cap) : q(cap) {}
  bool push(std::uint64_t i) noexcept {
    // A decoder without claim/publish fills a scratch event and copies it in.
    fill_event(scratch, i);
    return q.push(scratch);
  }
  bool pop(std::uint64_t& sum) noexcept {
    return q.consume_one([&](const shadow::MarketEvent& e) { sum += read_event(e); });
  }
  boost::lockfree::spsc_queue<shadow::MarketEvent> q;
  shadow::MarketEvent scratch{};  // producer thread only
};

template <class Q>
void BM_Throughput512(benchmark::State& state) {
  constexpr std::uint64_t kChunk512 = kChunk / 8;
  run_throughput<Q>(state, kCapacity512, kChunk512, push_each<Q>,
                    [](Q& q, std::uint64_t& sum) -> std::size_t { return q.pop(sum) ? 1 : 0; });
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * kChunk512 *
                                                    sizeof(shadow::MarketEvent)));
}

// ---- Round trip ----------------------------------------------------------------------------

template <class Q>
void BM_RoundTrip(benchmark::State& state) {
  if (!pin_or_skip(state, kProducerCpu)) return;
  auto q1 = std::make_unique<Q>(kCapacity);
  auto q2 = std::make_unique<Q>(kCapacity);
  Flag flag;
  std::thread echo([&] {
    shadow::pin_current_thread(kConsumerCpu);
    shadow::name_current_thread("bench-echo");
    std::uint64_t v = 0;
    while (!flag.stop.load(std::memory_order_relaxed)) {
      if (q1->pop(v)) {
        while (!q2->push(v)) {
        }
      }
    }
  });
  std::uint64_t i = 0, v = 0;
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    while (!q1->push(i)) {
    }
    while (!q2->pop(v)) {
    }
    benchmark::DoNotOptimize(v);
    ++i;
  }
  const auto stop = std::chrono::steady_clock::now();
  flag.stop.store(true, std::memory_order_relaxed);
  echo.join();
  const double ns = std::chrono::duration<double, std::nano>(stop - start).count();
  state.counters["ns_per_roundtrip"] =
      benchmark::Counter(state.iterations() ? ns / static_cast<double>(state.iterations()) : 0);
}

}  // namespace

BENCHMARK_TEMPLATE(BM_Throughput, SpscRing)->UseRealTime();
BENCHMARK_TEMPLATE(BM_Throughput, BoostSpsc)->UseRealTime();
BENCHMARK_TEMPLATE(BM_Throughput, MoodycamelRWQ)->UseRealTime();
BENCHMARK_TEMPLATE(BM_Throughput, MoodycamelCQ)->UseRealTime();
BENCHMARK_TEMPLATE(BM_ThroughputBatch, SpscRing)->UseRealTime();
BENCHMARK_TEMPLATE(BM_ThroughputBatch, BoostSpsc)->UseRealTime();
BENCHMARK_TEMPLATE(BM_ThroughputBatch, MoodycamelCQ)->UseRealTime();
BENCHMARK_TEMPLATE(BM_Throughput512, SpscRing512)->UseRealTime();
BENCHMARK_TEMPLATE(BM_Throughput512, BoostSpsc512)->UseRealTime();
BENCHMARK_TEMPLATE(BM_RoundTrip, SpscRing)->UseRealTime();
BENCHMARK_TEMPLATE(BM_RoundTrip, BoostSpsc)->UseRealTime();
BENCHMARK_TEMPLATE(BM_RoundTrip, MoodycamelRWQ)->UseRealTime();
BENCHMARK_TEMPLATE(BM_RoundTrip, MoodycamelCQ)->UseRealTime();

BENCHMARK_MAIN();
