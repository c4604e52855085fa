// SandboxGroundTruth: the append-only JSONL log of every real order's life that only a sandbox
// can give (docs/SANDBOX.md, "Ground truth"; schema: schemas/sandbox_ground_truth.schema.json).
// One line per event:
//   accepted  the order entered the book: the true quantity of earlier orders at its price
//             level (queue_ahead; null when nothing rests) and the level's total
//   amended   new price/qty, and the queue ahead after the change
//   match     one fill: price, qty, role (maker/taker), counterparty kind (background flow or a
//             real order, with its uid) and, for a maker, the true queue ahead just before the
//             aggressor that filled it arrived (what traded ahead of it at that price)
//   closed    Filled, Cancelled, PartiallyFilledCanceled, with Bybit's cancelType/rejectReason
// Every line carries ts_ns (CLOCK_REALTIME), the seq of the line, uid, orderId and
// orderLinkId, category and symbol. Numbers are decimal strings, as Bybit prints them.
//
// Lines are written with stdio buffering and flushed by flush() (the server calls it once
// per loop turn), so a crash loses at most one turn's lines and never a line's half.
//
// Threading: none; the exchange thread.
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

#include "core/fixed_point.h"
#include "exchange/sandbox_types.h"

namespace shadow {

class SandboxGroundTruth {
 public:
  SandboxGroundTruth() = default;
  SandboxGroundTruth(const SandboxGroundTruth&) = delete;
  SandboxGroundTruth& operator=(const SandboxGroundTruth&) = delete;
  ~SandboxGroundTruth();

  // Appends to `path` (created 0644 when missing). False with `error` (the OS reason).
  bool open(const std::string& path, std::string& error);
  bool is_open() const noexcept { return file_ != nullptr; }

  void accepted(const SandboxOrder& o, const SandboxInstrument& ins, std::optional<Fixed> queue_ahead,
                Fixed level_qty);
  void amended(const SandboxOrder& o, const SandboxInstrument& ins, std::optional<Fixed> queue_ahead);
  void match(const SandboxOrder& o, const SandboxInstrument& ins, const SandboxExecution& e,
             bool real_counterparty, std::uint64_t counterparty_uid, std::optional<Fixed> queue_before);
  void closed(const SandboxOrder& o, const SandboxInstrument& ins);
  void flush() noexcept;
  std::uint64_t lines() const noexcept { return seq_; }
  std::uint64_t write_errors() const noexcept { return write_errors_; }

 private:
  void begin(const char* event, const SandboxOrder& o, const SandboxInstrument& ins);
  void end();

  std::FILE* file_ = nullptr;
  std::string line_;
  std::uint64_t seq_ = 0;
  std::uint64_t write_errors_ = 0;
};

}  // namespace shadow
