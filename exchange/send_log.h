// SendLog: shadow-exchange's --send-log (docs/EMBEDDED_EXCHANGE.md, "Send log"): one 32-byte
// little-endian record per orderbook message sent, for the latency harness to measure from the
// intended send time (DESIGN.md "Latency": constant rate, no coordinated omission).
//
//   SendLog log;
//   if (!log.open(path, err)) fail(err);          // the file is created before listening
//   log.reserve(expected);                        // chunks allocated and touched up front
//   std::size_t i = log.add(intended_ns, u, market, SendLogRecord::kDelta);
//   log.stamp(i, sent_ns);                        // when the bytes reached the kernel
//   log.finish(err);                              // writes stamped records in add() order
//
// Records live in fixed-size chunks, so add() never moves earlier records (no copy of the
// whole log in the middle of a run); a new chunk is allocated only past the reserve. Records
// never stamped (the message was never written to any client) are left out of the file.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

namespace shadow {

struct SendLogRecord {
  static constexpr std::uint32_t kDelta = 1;
  static constexpr std::uint32_t kSnapshot = 2;

  std::int64_t intended_ns;  // CLOCK_MONOTONIC schedule time of the event whose flush made it
  std::int64_t sent_ns;      // CLOCK_MONOTONIC after the bytes went to the kernel; -1: not yet
  std::uint64_t u;           // the message's orderbook update id
  std::uint32_t market;      // index of the symbol in --symbols
  std::uint32_t kind;        // kDelta or kSnapshot
};
// The file format is this struct's bytes: fixed size and little-endian hosts only.
static_assert(sizeof(SendLogRecord) == 32, "send-log records are 32 bytes");
static_assert(std::endian::native == std::endian::little, "send-log is written little-endian");

class SendLog {
 public:
  static constexpr std::size_t kChunk = std::size_t{1} << 16;  // records per chunk (2 MiB)

  // Creates (truncates) the file. False with a message naming it when that fails.
  bool open(const std::string& path, std::string& error);
  bool is_open() const noexcept { return file_ != nullptr; }

  // Allocates and touches chunks for at least n records (page faults happen here, not later).
  void reserve(std::size_t n);

  // Appends a record (sent_ns -1) and returns its index.
  std::size_t add(std::int64_t intended_ns, std::uint64_t u, std::uint32_t market,
                  std::uint32_t kind) {
    if (size_ == chunks_.size() * kChunk) grow();
    SendLogRecord& r = chunks_[size_ / kChunk][size_ % kChunk];
    r = SendLogRecord{intended_ns, -1, u, market, kind};
    return size_++;
  }
  void stamp(std::size_t i, std::int64_t sent_ns) noexcept {
    chunks_[i / kChunk][i % kChunk].sent_ns = sent_ns;
  }

  std::size_t size() const noexcept { return size_; }

  // Writes every stamped record, in add() order, through a 1 MiB buffer; closes the file.
  // Returns false with a message on a write error. Safe to call once; later calls do nothing.
  bool finish(std::string& error, std::size_t* written = nullptr);

  SendLog() = default;
  SendLog(const SendLog&) = delete;
  SendLog& operator=(const SendLog&) = delete;
  ~SendLog();

 private:
  void grow();

  std::FILE* file_ = nullptr;
  std::string path_;
  std::vector<std::unique_ptr<SendLogRecord[]>> chunks_;
  std::size_t size_ = 0;
};

}  // namespace shadow
