// RFC 6455 WebSocket framing for the client side, without sockets: WsDeframer turns received
// bytes into messages, WsFramer encodes the (masked) frames a client sends.
//
// The io_uring reader hands each completed recv buffer to WsDeframer::feed() and drains
// WsDeframer::next(). See docs/WEBSOCKET.md for the reader's duties (answer pings, close
// handshake) and the zero-copy contract.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

namespace shadow {

// Padding the JSON decoder needs after a message (== simdjson::SIMDJSON_PADDING, not included
// here to keep this header free of simdjson).
inline constexpr std::size_t kWsPadding = 64;

// Frame opcodes, RFC 6455 §5.2 / §11.8.
enum class WsOpcode : std::uint8_t {
  kContinuation = 0x0,
  kText = 0x1,
  kBinary = 0x2,
  kClose = 0x8,
  kPing = 0x9,
  kPong = 0xA,
};

// "continuation", "text", "binary", "close", "ping", "pong", "unknown".
std::string_view to_string(WsOpcode op) noexcept;

// What WsDeframer::next() reports. Values after kClosed are protocol errors: the connection
// must be failed (§7.1.7; a client may send close 1002 first, then closes the socket).
enum class WsStatus : std::uint8_t {
  kMessage = 0,            // `msg` holds a complete message
  kNeedMore,               // every fed byte is consumed; feed() the next read
  kClosed,                 // a close frame was delivered earlier; later bytes are ignored
  kMaskedFrame,            // a server frame has the MASK bit set (§5.1: the client must fail)
  kReservedBits,           // RSV1-3 set, no extension negotiated (§5.2)
  kUnknownOpcode,          // opcode 3-7 or 0xB-0xF (§5.2)
  kControlTooLong,         // control frame payload > 125 bytes (§5.5)
  kControlFragmented,      // control frame without FIN (§5.5)
  kLengthHighBit,          // 64-bit payload length with the most significant bit set (§5.2)
  kNonMinimalLength,       // length not in the minimal number of bytes (§5.2 "MUST be used")
  kMessageTooBig,          // frame or reassembled message over the configured maximum
  kUnexpectedContinuation, // continuation frame with no fragmented message open (§5.4)
  kExpectedContinuation,   // text/binary frame while a fragmented message is open (§5.4)
  kBadClosePayload,        // close frame with a 1-byte payload (§5.5.1: 0 or >= 2 bytes)
  kBadCloseCode,           // close status code not allowed on the wire (§7.4.1, §7.4.2)
};
inline constexpr std::size_t kWsStatusCount = 15;

inline constexpr bool is_error(WsStatus s) noexcept {
  return static_cast<std::uint8_t>(s) > static_cast<std::uint8_t>(WsStatus::kClosed);
}

// A stable one-line description for logs ("masked server frame (RFC 6455 5.1)", ...).
std::string_view to_string(WsStatus s) noexcept;

// One complete message. For kClose, data/len is the reason text (may be empty) and
// close_code the status code (1005 "no status received" when the payload was empty, §7.1.5).
// For ping/pong, data/len is the application data (<= 125 bytes).
struct WsMessage {
  WsOpcode op = WsOpcode::kBinary;  // kText, kBinary, kClose, kPing or kPong (never continuation)
  const char* data = nullptr;
  std::size_t len = 0;
  std::uint16_t close_code = 0;     // kClose only
  bool copied = false;              // true: data is in the deframer's buffer, false: in the fed chunk

  std::string_view view() const noexcept { return {data, len}; }
};

// WsDeframer: the receive side of a client connection (server frames are never masked).
//
//   shadow::WsDeframer d(1 << 20);               // max message size; allocates here only
//   d.feed(buf, n);                              // bytes of one recv; buf padded (see below)
//   shadow::WsMessage m;
//   shadow::WsStatus st;
//   while ((st = d.next(m)) == shadow::WsStatus::kMessage) handle(m);
//   if (shadow::is_error(st)) fail(shadow::to_string(st));   // else kNeedMore: recv again
//
// Zero copy: a whole unfragmented frame inside the fed chunk comes back as a view into that
// chunk (msg.copied == false). Only a frame split across chunks, a fragmented message (§5.4) or
// a control frame split across chunks is copied, into buffers allocated by the constructor
// (max_message + kWsPadding, and 125 + kWsPadding for control frames): no allocation after
// construction. When next() returns kNeedMore every byte of the chunk has been used (a
// partial frame was copied), so the reader may recycle the chunk's buffer right away.
//
// Padding contract: the caller's chunk [data, data + len) must be readable up to
// data + len + kWsPadding (the reader's recv buffers are allocated with that slack), so every
// view has kWsPadding readable bytes after it, as simdjson wants. Copied messages have it too.
//
// Lifetime: a message is valid until the next call to next(), feed() or reset(); a view into
// the chunk also only as long as the caller keeps the chunk.
//
// UTF-8 in text frames and close reasons is not validated here (§8.1 asks the endpoint to
// fail on invalid UTF-8): every text message goes to simdjson, which validates UTF-8 in its
// stage 1 anyway, so checking twice would only cost time.
//
// Errors are sticky: after an error, next() keeps returning it until reset(). Not thread-safe;
// one deframer per connection, used by the reader thread. The hot path is noexcept, makes no
// syscalls and no allocations.
class WsDeframer {
 public:
  explicit WsDeframer(std::size_t max_message = std::size_t{1} << 20);

  WsDeframer(const WsDeframer&) = delete;
  WsDeframer& operator=(const WsDeframer&) = delete;

  // Hands the deframer the next received bytes. Call it at the start or after next() returned
  // kNeedMore (bytes of an earlier chunk still unparsed would be dropped; debug builds assert).
  void feed(const char* data, std::size_t len) noexcept;

  // Next complete message, kNeedMore when the fed bytes are used up, kClosed after a close,
  // or a sticky protocol error.
  WsStatus next(WsMessage& msg) noexcept;

  // Back to the initial state for a new connection (keeps the buffers).
  void reset() noexcept;

  std::size_t max_message() const noexcept { return max_message_; }
  // Capacity of the reassembly buffer (max_message + kWsPadding); constant after construction.
  std::size_t buffer_capacity() const noexcept { return max_message_ + kWsPadding; }
  // Bytes of the current chunk not parsed yet (0 after kNeedMore).
  std::size_t unparsed() const noexcept { return in_len_ - pos_; }
  // True while a fragmented message is being reassembled.
  bool in_fragmented_message() const noexcept { return fragmented_; }
  // Bytes copied so far (split frames, fragments): lets tests and metrics see the copy rate.
  std::uint64_t bytes_copied() const noexcept { return bytes_copied_; }

 private:
  WsStatus fail(WsStatus s) noexcept { return error_ = s; }
  WsStatus parse_header(const unsigned char* h) noexcept;
  WsStatus emit(WsOpcode op, const char* data, std::size_t len, bool copied,
                WsMessage& msg) noexcept;

  // The fed chunk.
  const char* in_ = nullptr;
  std::size_t in_len_ = 0;
  std::size_t pos_ = 0;

  // Frame in progress.
  bool in_payload_ = false;        // header parsed, copying payload into dst_
  unsigned char hdr_[14] = {};     // a header split across chunks (2 + 8 bytes + spare)
  std::size_t hdr_have_ = 0;
  WsOpcode frame_op_ = WsOpcode::kBinary;
  bool frame_fin_ = false;
  std::size_t frame_len_ = 0;
  std::size_t remaining_ = 0;
  char* dst_ = nullptr;

  // Message being reassembled in buf_ (split or fragmented data frames).
  bool fragmented_ = false;        // a non-FIN text/binary frame was seen (§5.4)
  WsOpcode msg_op_ = WsOpcode::kBinary;
  std::size_t msg_len_ = 0;

  std::size_t max_message_;
  std::unique_ptr<char[]> buf_;    // max_message_ + kWsPadding
  char ctrl_[125 + kWsPadding] = {};  // a control frame split across chunks (§5.5: <= 125)

  WsStatus error_ = WsStatus::kMessage;  // kMessage = no error
  bool closed_ = false;
  std::uint64_t bytes_copied_ = 0;
};

// XORs data with the 4-byte masking key (§5.3); masking and unmasking are the same operation.
void ws_mask(char* data, std::size_t len, std::array<std::uint8_t, 4> key) noexcept;

// WsFramer: encodes client frames, always masked (§5.3: "a client MUST mask all frames").
//
// Masking keys come from a splitmix64 generator seeded once from getrandom(). §10.3 asks for
// unpredictable keys so that hostile script-controlled payloads cannot choose the bytes on the
// wire and poison intercepting proxies' caches; this client only sends payloads it builds
// itself (subscribe requests, pongs echoing the server, close), so nobody can mount that
// attack through it, and a per-process random seed keeps keys unguessable to anyone not
// observing the connection. A CSPRNG call per frame would be a syscall on the hot path.
//
// Header sizes (§5.2): 2 bytes + 4-byte key for payloads <= 125, 4 + 4 up to 65535, 10 + 4
// above. encode*() write into the caller's buffer and return the frame's size, or 0 when it
// does not fit or is not allowed (control frame > 125 bytes or not FIN, §5.5). Sending a
// fragmented message (fin = false, then kContinuation frames, §5.4) is the caller's business.
// noexcept, no allocation, no syscalls after construction.
class WsFramer {
 public:
  static constexpr std::size_t kMaxHeader = 14;

  WsFramer();                            // seeds from getrandom() (one syscall)
  explicit WsFramer(std::uint64_t seed); // deterministic, for tests

  // Bytes a frame with a `len`-byte payload takes on the wire (header + key + payload).
  static constexpr std::size_t frame_size(std::size_t len) noexcept {
    return len + 4 + (len <= 125 ? 2 : len <= 0xFFFF ? 4 : 10);
  }

  std::size_t encode(WsOpcode op, const char* payload, std::size_t len, char* out,
                     std::size_t cap, bool fin = true) noexcept {
    return encode_with_key(op, payload, len, next_key(), out, cap, fin);
  }
  // Close frame with a status code (§5.5.1, §7.4) and an optional reason (<= 123 bytes).
  std::size_t encode_close(std::uint16_t code, std::string_view reason, char* out,
                           std::size_t cap) noexcept;

  static std::size_t encode_with_key(WsOpcode op, const char* payload, std::size_t len,
                                     std::array<std::uint8_t, 4> key, char* out,
                                     std::size_t cap, bool fin = true) noexcept;

  std::array<std::uint8_t, 4> next_key() noexcept;

 private:
  std::uint64_t state_;
  std::uint64_t spare_ = 0;   // the second 32 bits of the last splitmix64 output
  bool have_spare_ = false;
};

}  // namespace shadow
