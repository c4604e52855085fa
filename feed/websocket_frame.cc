// RFC 6455 framing for both roles: see websocket_frame.h.
#include "feed/websocket_frame.h"


#include <cassert>
#include <cstring>

#include "core/random.h"

namespace shadow {

std::string_view to_string(WsOpcode op) noexcept {
  switch (op) {
    case WsOpcode::kContinuation: return "continuation";
    case WsOpcode::kText: return "text";
    case WsOpcode::kBinary: return "binary";
    case WsOpcode::kClose: return "close";
    case WsOpcode::kPing: return "ping";
    case WsOpcode::kPong: return "pong";
  }
  return "unknown";
}

std::string_view to_string(WsStatus s) noexcept {
  switch (s) {
    case WsStatus::kMessage: return "message";
    case WsStatus::kNeedMore: return "need more bytes";
    case WsStatus::kClosed: return "connection closed by a close frame";
    case WsStatus::kMaskedFrame: return "masked server frame (RFC 6455 5.1)";
    case WsStatus::kReservedBits: return "reserved bits RSV1-3 set without an extension (RFC 6455 5.2)";
    case WsStatus::kUnknownOpcode: return "unknown opcode (RFC 6455 5.2)";
    case WsStatus::kControlTooLong: return "control frame payload over 125 bytes (RFC 6455 5.5)";
    case WsStatus::kControlFragmented: return "fragmented control frame (RFC 6455 5.5)";
    case WsStatus::kLengthHighBit: return "64-bit payload length with the high bit set (RFC 6455 5.2)";
    case WsStatus::kNonMinimalLength: return "payload length not minimally encoded (RFC 6455 5.2)";
    case WsStatus::kMessageTooBig: return "frame or message over the configured maximum size";
    case WsStatus::kUnexpectedContinuation: return "continuation frame without a fragmented message (RFC 6455 5.4)";
    case WsStatus::kExpectedContinuation: return "new data frame inside a fragmented message (RFC 6455 5.4)";
    case WsStatus::kBadClosePayload: return "close frame with a 1-byte payload (RFC 6455 5.5.1)";
    case WsStatus::kBadCloseCode: return "close status code not allowed on the wire (RFC 6455 7.4)";
    case WsStatus::kUnmaskedFrame: return "unmasked client frame (RFC 6455 5.1)";
  }
  return "unknown status";
}

namespace {

inline bool is_control(WsOpcode op) noexcept { return (static_cast<unsigned>(op) & 0x8) != 0; }

// Header bytes implied by the second header byte (§5.2): 2, +2 for length 126, +8 for 127,
// +4 for the masking key when the MASK bit is set and the peer masks. A client ignores the bit
// here (it fails the frame once the header is complete), so a masked server frame is reported
// after its first two bytes.
template <bool kPeerMasks>
inline std::size_t header_size(unsigned char b1) noexcept {
  const unsigned len7 = b1 & 0x7F;
  const std::size_t key = kPeerMasks && (b1 & 0x80) != 0 ? 4 : 0;
  return (len7 < 126 ? 2 : len7 == 126 ? 4 : 10) + key;
}

// The key that masks payload bytes from `offset` on (§5.3: byte i uses key[i mod 4]), for a
// frame whose payload arrives in pieces.
inline std::array<std::uint8_t, 4> key_at(std::array<std::uint8_t, 4> key,
                                          std::size_t offset) noexcept {
  const std::size_t r = offset & 3;
  return {key[r], key[(r + 1) & 3], key[(r + 2) & 3], key[(r + 3) & 3]};
}

// §7.4.1 codes usable on the wire, plus 1012-1014 (IANA registry, sent by real servers),
// plus 3000-4999 (libraries, applications). 1004-1006 and 1015 are reserved/never sent.
inline bool close_code_valid(unsigned code) noexcept {
  if (code >= 3000 && code <= 4999) return true;
  if (code < 1000 || code > 1014) return false;
  return code != 1004 && code != 1005 && code != 1006;
}

}  // namespace

template <WsRole Role>
BasicWsDeframer<Role>::BasicWsDeframer(std::size_t max_message)
    : max_message_(max_message), buf_(new char[max_message + kWsPadding]()) {}

template <WsRole Role>
void BasicWsDeframer<Role>::reset() noexcept {
  in_ = nullptr;
  in_len_ = pos_ = 0;
  in_payload_ = false;
  hdr_have_ = 0;
  frame_len_ = remaining_ = 0;
  dst_ = nullptr;
  fragmented_ = false;
  msg_len_ = 0;
  error_ = WsStatus::kMessage;
  closed_ = false;
  bytes_copied_ = 0;
}

template <WsRole Role>
void BasicWsDeframer<Role>::feed(const char* data, std::size_t len) noexcept {
  assert(pos_ == in_len_ && "feed() before next() returned kNeedMore drops bytes");
  in_ = data;
  in_len_ = len;
  pos_ = 0;
}

template <WsRole Role>
WsStatus BasicWsDeframer<Role>::parse_header(const unsigned char* h) noexcept {
  const unsigned b0 = h[0];
  const unsigned b1 = h[1];
  if (b0 & 0x70) return fail(WsStatus::kReservedBits);  // §5.2: no extension negotiated
  const unsigned opcode = b0 & 0x0F;
  if (!(opcode <= 0x2 || (opcode >= 0x8 && opcode <= 0xA))) return fail(WsStatus::kUnknownOpcode);
  if constexpr (kPeerMasks) {
    if (!(b1 & 0x80)) return fail(WsStatus::kUnmaskedFrame);  // §5.1: clients always mask
  } else {
    if (b1 & 0x80) return fail(WsStatus::kMaskedFrame);  // §5.1: servers never mask
  }
  const auto op = static_cast<WsOpcode>(opcode);
  const bool fin = (b0 & 0x80) != 0;
  const unsigned len7 = b1 & 0x7F;

  if (is_control(op)) {
    if (!fin) return fail(WsStatus::kControlFragmented);  // §5.5
    if (len7 > 125) return fail(WsStatus::kControlTooLong);
  } else if (op == WsOpcode::kContinuation) {
    if (!fragmented_) return fail(WsStatus::kUnexpectedContinuation);  // §5.4
  } else if (fragmented_) {
    return fail(WsStatus::kExpectedContinuation);  // §5.4: fragments of one message only
  }

  std::uint64_t len = len7;
  std::size_t key_at_byte = 2;
  if (len7 == 126) {
    key_at_byte = 4;
    len = (std::uint64_t{h[2]} << 8) | h[3];
    if (len < 126) return fail(WsStatus::kNonMinimalLength);
  } else if (len7 == 127) {
    key_at_byte = 10;
    len = 0;
    for (int i = 2; i < 10; ++i) len = (len << 8) | h[i];
    if (len >> 63) return fail(WsStatus::kLengthHighBit);
    if (len <= 0xFFFF) return fail(WsStatus::kNonMinimalLength);
  }

  // Data frames count toward the message being reassembled; control frames are <= 125 bytes.
  const std::size_t used = op == WsOpcode::kContinuation ? msg_len_ : 0;
  if (!is_control(op) && len > max_message_ - used) return fail(WsStatus::kMessageTooBig);

  if constexpr (kPeerMasks) std::memcpy(key_.data(), h + key_at_byte, 4);
  frame_op_ = op;
  frame_fin_ = fin;
  frame_len_ = static_cast<std::size_t>(len);
  return WsStatus::kMessage;
}

template <WsRole Role>
WsStatus BasicWsDeframer<Role>::emit(WsOpcode op, const char* data, std::size_t len, bool copied,
                                     WsMessage& msg) noexcept {
  msg.op = op;
  msg.copied = copied;
  msg.close_code = 0;
  if (op == WsOpcode::kClose) {
    // §5.5.1: empty, or a 2-byte big-endian status code followed by a reason.
    if (len == 1) return fail(WsStatus::kBadClosePayload);
    if (len == 0) {
      msg.close_code = 1005;  // §7.1.5 "no status code was present"
    } else {
      const auto* u = reinterpret_cast<const unsigned char*>(data);
      const unsigned code = (unsigned{u[0]} << 8) | u[1];
      if (!close_code_valid(code)) return fail(WsStatus::kBadCloseCode);
      msg.close_code = static_cast<std::uint16_t>(code);
      data += 2;
      len -= 2;
    }
    closed_ = true;
  }
  msg.data = data;
  msg.len = len;
  return WsStatus::kMessage;
}

template <WsRole Role>
WsStatus BasicWsDeframer<Role>::next(WsMessage& msg) noexcept {
  if (error_ != WsStatus::kMessage) return error_;
  if (closed_) {
    pos_ = in_len_;  // §5.5.1: nothing may follow a close; ignore it
    return WsStatus::kClosed;
  }
  for (;;) {
    if (!in_payload_) {
      // --- header -------------------------------------------------------------------------
      const std::size_t avail = in_len_ - pos_;
      const unsigned char* h;
      if (hdr_have_ == 0 && avail >= 2 &&
          avail >= header_size<kPeerMasks>(static_cast<unsigned char>(in_[pos_ + 1]))) {
        h = reinterpret_cast<const unsigned char*>(in_ + pos_);  // common case: in the chunk
        pos_ += header_size<kPeerMasks>(h[1]);
      } else {
        // The header straddles chunks: gather it in hdr_ (at most 14 bytes).
        std::size_t need = hdr_have_ < 2 ? 2 : header_size<kPeerMasks>(hdr_[1]);
        for (;;) {
          const std::size_t take = need - hdr_have_ < in_len_ - pos_ ? need - hdr_have_ : in_len_ - pos_;
          if (take != 0) std::memcpy(hdr_ + hdr_have_, in_ + pos_, take);  // in_ may be null when empty
          hdr_have_ += take;
          pos_ += take;
          if (hdr_have_ < need) {
            if constexpr (kPeerMasks) {
              // Fail a bad frame as soon as its length is known, before its masking key is in.
              if (hdr_have_ >= 2 && (hdr_[1] & 0x80) != 0 && hdr_have_ + 4 >= need) {
                if (const WsStatus st = parse_header(hdr_); st != WsStatus::kMessage) return st;
              }
            }
            return WsStatus::kNeedMore;
          }
          if (need == 2 && header_size<kPeerMasks>(hdr_[1]) > 2) {
            need = header_size<kPeerMasks>(hdr_[1]);
            continue;
          }
          break;
        }
        h = hdr_;
        hdr_have_ = 0;
      }
      if (const WsStatus st = parse_header(h); st != WsStatus::kMessage) return st;

      const std::size_t len = frame_len_;
      const bool control = is_control(frame_op_);
      if (!kPeerMasks && in_len_ - pos_ >= len &&
          (control || (frame_fin_ && frame_op_ != WsOpcode::kContinuation))) {
        // Whole unfragmented unmasked frame in the chunk: hand out a view, no copy.
        const char* data = in_ + pos_;
        pos_ += len;
        return emit(frame_op_, data, len, false, msg);
      }
      // Copy path: a split frame, or a fragment of a message (§5.4).
      if (control) {
        dst_ = ctrl_;
      } else {
        if (frame_op_ != WsOpcode::kContinuation) {  // first frame of a message
          msg_op_ = frame_op_;
          msg_len_ = 0;
          fragmented_ = !frame_fin_;
        }
        dst_ = buf_.get() + msg_len_;
      }
      remaining_ = len;
      in_payload_ = true;
    }

    // --- payload (copy path; server role: unmasked as it is copied, §5.3) ------------------
    const std::size_t avail = in_len_ - pos_;
    const std::size_t take = remaining_ < avail ? remaining_ : avail;
    if (take != 0) std::memcpy(dst_, in_ + pos_, take);
    if constexpr (kPeerMasks) ws_mask(dst_, take, key_at(key_, frame_len_ - remaining_));
    dst_ += take;
    pos_ += take;
    remaining_ -= take;
    bytes_copied_ += take;
    if (remaining_ != 0) return WsStatus::kNeedMore;
    in_payload_ = false;

    if (is_control(frame_op_)) return emit(frame_op_, ctrl_, frame_len_, true, msg);
    msg_len_ += frame_len_;
    if (frame_fin_) {
      fragmented_ = false;
      const std::size_t n = msg_len_;
      msg_len_ = 0;
      return emit(msg_op_, buf_.get(), n, true, msg);
    }
    // A non-final fragment: keep reading frames.
  }
}

// --- masking and the framer ----------------------------------------------------------------

void ws_mask(char* data, std::size_t len, std::array<std::uint8_t, 4> key) noexcept {
  // Eight bytes at a time with the key repeated twice in memory order, then the tail.
  unsigned char k8[8];
  std::memcpy(k8, key.data(), 4);
  std::memcpy(k8 + 4, key.data(), 4);
  std::uint64_t k;
  std::memcpy(&k, k8, 8);
  std::size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, data + i, 8);
    w ^= k;
    std::memcpy(data + i, &w, 8);
  }
  for (; i < len; ++i) data[i] = static_cast<char>(data[i] ^ key[i & 3]);
}


std::size_t ws_write_header(WsOpcode op, std::size_t len, bool fin,
                            const std::array<std::uint8_t, 4>* key, char* out) noexcept {
  auto* o = reinterpret_cast<unsigned char*>(out);
  const unsigned mask_bit = key != nullptr ? 0x80 : 0x00;
  o[0] = static_cast<unsigned char>((fin ? 0x80 : 0x00) | static_cast<unsigned>(op));
  std::size_t h;
  if (len <= 125) {
    o[1] = static_cast<unsigned char>(mask_bit | len);
    h = 2;
  } else if (len <= 0xFFFF) {
    o[1] = static_cast<unsigned char>(mask_bit | 126);
    o[2] = static_cast<unsigned char>(len >> 8);
    o[3] = static_cast<unsigned char>(len);
    h = 4;
  } else {
    o[1] = static_cast<unsigned char>(mask_bit | 127);
    const auto l = static_cast<std::uint64_t>(len);
    for (int i = 0; i < 8; ++i) o[2 + i] = static_cast<unsigned char>(l >> (56 - 8 * i));
    h = 10;
  }
  if (key != nullptr) {
    std::memcpy(o + h, key->data(), 4);
    h += 4;
  }
  return h;
}

// A server needs no keys: it does not pay for the getrandom() call.
template <WsRole Role>
BasicWsFramer<Role>::BasicWsFramer() : state_(kMasks ? os_random_seed() : 0) {}
template <WsRole Role>
BasicWsFramer<Role>::BasicWsFramer(std::uint64_t seed) : state_(seed) {}

template <WsRole Role>
std::array<std::uint8_t, 4> BasicWsFramer<Role>::next_key() noexcept {
  std::uint32_t v;
  if (have_spare_) {
    v = static_cast<std::uint32_t>(spare_);
    have_spare_ = false;
  } else {
    const std::uint64_t r = splitmix64(state_);
    v = static_cast<std::uint32_t>(r >> 32);
    spare_ = r & 0xFFFFFFFFu;
    have_spare_ = true;
  }
  std::array<std::uint8_t, 4> key;
  std::memcpy(key.data(), &v, 4);
  return key;
}

template <WsRole Role>
std::size_t BasicWsFramer<Role>::encode_frame(WsOpcode op, const char* payload,
                                              std::size_t len,
                                              const std::array<std::uint8_t, 4>* key,
                                              char* out, std::size_t cap, bool fin) noexcept {
  if (is_control(op) && (len > 125 || !fin)) return 0;  // §5.5
  if (static_cast<std::uint64_t>(len) >> 63) return 0;  // §5.2: high bit must be 0
  const std::size_t total = len + ws_header_size(len, key != nullptr);
  if (total > cap || total < len) return 0;
  const std::size_t h = ws_write_header(op, len, fin, key, out);
  if (len != 0) std::memcpy(out + h, payload, len);
  if (key != nullptr) ws_mask(out + h, len, *key);
  return total;
}

template <WsRole Role>
std::size_t BasicWsFramer<Role>::encode_close(std::uint16_t code, std::string_view reason,
                                              char* out, std::size_t cap) noexcept {
  if (reason.size() > 123) return 0;  // §5.5: 2-byte code + reason <= 125
  char payload[125];
  payload[0] = static_cast<char>(code >> 8);
  payload[1] = static_cast<char>(code & 0xFF);
  if (!reason.empty()) std::memcpy(payload + 2, reason.data(), reason.size());
  return encode(WsOpcode::kClose, payload, reason.size() + 2, out, cap);
}

template class BasicWsDeframer<WsRole::kClient>;
template class BasicWsDeframer<WsRole::kServer>;
template class BasicWsFramer<WsRole::kClient>;
template class BasicWsFramer<WsRole::kServer>;

}  // namespace shadow
