#include "exchange/ws_server.h"


namespace shadow {

std::size_t ws_server_frame_header(WsOpcode op, std::size_t len, char* out) noexcept {
  return ws_write_header(op, len, true, nullptr, out);
}

void ws_append_server_frame(std::string& out, WsOpcode op, std::string_view payload) {
  const bool control = static_cast<unsigned>(op) >= 0x8;
  if (control && payload.size() > 125) payload = payload.substr(0, 125);  // §5.5
  const std::size_t at = out.size();
  out.resize(at + ws_server_frame_size(payload.size()));
  WsServerFramer framer(0);
  const std::size_t n =
      framer.encode(op, payload.data(), payload.size(), out.data() + at, out.size() - at);
  out.resize(at + n);
}

void ws_append_server_close(std::string& out, std::uint16_t code, std::string_view reason) {
  const std::size_t at = out.size();
  out.resize(at + ws_server_frame_size(125));
  WsServerFramer framer(0);
  const std::size_t n = framer.encode_close(code, reason.substr(0, 123),
                                            out.data() + at, out.size() - at);
  out.resize(at + n);
}

WsServerDeframer::Status WsServerDeframer::next(WsMessage& msg) {
  if (!error_.empty()) return kError;
  for (;;) {
    const WsStatus st = frames_.next(msg);
    if (st == WsStatus::kMessage) return kMessage;
    if (st == WsStatus::kClosed) {
      pending_.clear();  // §5.5.1: nothing after a close is read
      return kClosed;
    }
    if (is_error(st)) {
      close_code_ = ws_close_code_for(st);
      error_ = std::string(to_string(st));
      return kError;
    }
    // kNeedMore: frames_ copied any partial frame, so chunk_ may take the bytes fed since.
    if (pending_.empty()) return kNeedMore;
    chunk_.swap(pending_);
    pending_.clear();
    frames_.feed(chunk_.data(), chunk_.size());
  }
}

}  // namespace shadow
