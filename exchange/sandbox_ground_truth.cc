#include "exchange/sandbox_ground_truth.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/clock.h"
#include "core/json_text.h"

namespace shadow {
namespace {

void put_decimal(std::string& out, Fixed v) {
  char buf[kFixedMaxChars];
  out += '"';
  out += to_chars_fixed(v, buf);
  out += '"';
}

void put_optional(std::string& out, std::optional<Fixed> v) {
  if (v) {
    put_decimal(out, *v);
  } else {
    out += "null";
  }
}

}  // namespace

SandboxGroundTruth::~SandboxGroundTruth() {
  if (file_ != nullptr) std::fclose(file_);
}

bool SandboxGroundTruth::open(const std::string& path, std::string& error) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    error = std::strerror(errno);
    return false;
  }
  file_ = ::fdopen(fd, "a");
  if (file_ == nullptr) {
    error = std::strerror(errno);
    ::close(fd);
    return false;
  }
  return true;
}

void SandboxGroundTruth::begin(const char* event, const SandboxOrder& o, const SandboxInstrument& ins) {
  line_.clear();
  line_ += "{\"seq\":";
  line_ += std::to_string(++seq_);
  line_ += ",\"ts_ns\":";
  line_ += std::to_string(realtime_ns());
  line_ += ",\"event\":\"";
  line_ += event;
  line_ += "\",\"uid\":";
  line_ += std::to_string(o.uid);
  line_ += ",\"orderId\":";
  append_json_string(line_, o.order_id);
  line_ += ",\"orderLinkId\":";
  append_json_string(line_, o.order_link_id);
  line_ += ",\"category\":\"";
  line_ += category_name(ins.category);
  line_ += "\",\"symbol\":";
  append_json_string(line_, ins.symbol);
  line_ += ",\"side\":\"";
  line_ += side_name(o.side);
  line_ += '"';
}

void SandboxGroundTruth::end() {
  line_ += "}\n";
  if (std::fwrite(line_.data(), 1, line_.size(), file_) != line_.size()) ++write_errors_;
}

void SandboxGroundTruth::accepted(const SandboxOrder& o, const SandboxInstrument& ins,
                                  std::optional<Fixed> queue_ahead, Fixed level_qty) {
  if (file_ == nullptr) return;
  begin("accepted", o, ins);
  line_ += ",\"orderType\":\"";
  line_ += order_type_name(o.type);
  line_ += "\",\"timeInForce\":\"";
  line_ += time_in_force_name(o.tif);
  line_ += "\",\"price\":";
  put_decimal(line_, o.price);
  line_ += ",\"qty\":";
  put_decimal(line_, o.qty);
  line_ += ",\"queue_ahead\":";
  put_optional(line_, queue_ahead);
  line_ += ",\"level_qty\":";
  put_decimal(line_, level_qty);
  end();
}

void SandboxGroundTruth::amended(const SandboxOrder& o, const SandboxInstrument& ins,
                                 std::optional<Fixed> queue_ahead) {
  if (file_ == nullptr) return;
  begin("amended", o, ins);
  line_ += ",\"price\":";
  put_decimal(line_, o.price);
  line_ += ",\"qty\":";
  put_decimal(line_, o.qty);
  line_ += ",\"queue_ahead\":";
  put_optional(line_, queue_ahead);
  end();
}

void SandboxGroundTruth::match(const SandboxOrder& o, const SandboxInstrument& ins, const SandboxExecution& e,
                               bool real_counterparty, std::uint64_t counterparty_uid,
                               std::optional<Fixed> queue_before) {
  if (file_ == nullptr) return;
  begin("match", o, ins);
  line_ += ",\"execId\":";
  append_json_string(line_, e.exec_id);
  line_ += ",\"trade_id\":";
  line_ += std::to_string(e.trade_id);
  line_ += ",\"price\":";
  put_decimal(line_, e.price);
  line_ += ",\"qty\":";
  put_decimal(line_, e.qty);
  line_ += ",\"role\":\"";
  line_ += e.is_maker ? "maker" : "taker";
  line_ += "\",\"counterparty\":\"";
  line_ += real_counterparty ? "real" : "background";
  line_ += "\",\"counterparty_uid\":";
  line_ += real_counterparty ? std::to_string(counterparty_uid) : std::string("null");
  line_ += ",\"queue_ahead_before\":";
  put_optional(line_, queue_before);
  line_ += ",\"leaves_qty\":";
  put_decimal(line_, e.leaves_qty);
  end();
}

void SandboxGroundTruth::closed(const SandboxOrder& o, const SandboxInstrument& ins) {
  if (file_ == nullptr) return;
  begin("closed", o, ins);
  line_ += ",\"orderStatus\":\"";
  line_ += order_state_name(o.state);
  line_ += "\",\"cumExecQty\":";
  put_decimal(line_, o.cum_exec_qty);
  line_ += ",\"cancelType\":";
  append_json_string(line_, o.cancel_type);
  line_ += ",\"rejectReason\":";
  append_json_string(line_, o.reject_reason);
  end();
}

void SandboxGroundTruth::flush() noexcept {
  if (file_ != nullptr && std::fflush(file_) != 0) ++write_errors_;
}

}  // namespace shadow
