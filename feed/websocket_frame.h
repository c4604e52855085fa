// RFC 6455 WebSocket framing for both ends of a connection, without sockets: BasicWsDeframer
// turns received bytes into messages, BasicWsFramer encodes the frames an endpoint sends. The
// role is a template parameter because §5.1 makes the two ends mirror images: a client masks
// what it sends and fails on a masked frame; a server sends unmasked frames and fails on an
// unmasked one. WsDeframer / WsFramer are the client's (the feed's hot path), WsServerDeframer
// (exchange/ws_server.h) and WsServerFramer the embedded exchange's.
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

// Which end of the connection an endpoint is (§5.1, §5.3).
enum class WsRole : std::uint8_t { kClient, kServer };

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

// What a deframer's next() reports. Values after kClosed are protocol errors: the connection
// must be failed (§7.1.7; the endpoint may send close ws_close_code_for(status) first).
enum class WsStatus : std::uint8_t {
  kMessage = 0,            // `msg` holds a complete message
  kNeedMore,               // every fed byte is consumed; feed() the next read
  kClosed,                 // a close frame was delivered earlier; later bytes are ignored
  kMaskedFrame,            // client role: a server frame has the MASK bit set (§5.1)
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
  kUnmaskedFrame,          // server role: a client frame without the MASK bit (§5.1)
};
inline constexpr std::size_t kWsStatusCount = 16;

inline constexpr bool is_error(WsStatus s) noexcept {
  return static_cast<std::uint8_t>(s) > static_cast<std::uint8_t>(WsStatus::kClosed);
}

// A stable one-line description for logs ("masked server frame (RFC 6455 5.1)", ...).
std::string_view to_string(WsStatus s) noexcept;

// The status code of the close frame that fails a connection for protocol error `s` (§7.4.1):
// 1009 "message too big" for kMessageTooBig, 1002 "protocol error" for every other error.
inline constexpr std::uint16_t ws_close_code_for(WsStatus s) noexcept {
  return s == WsStatus::kMessageTooBig ? 1009 : 1002;
}

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

// BasicWsDeframer<Role>: the receive side of one connection, as `Role` sees it.
//
//   shadow::WsDeframer d(1 << 20);               // max message size; allocates here only
//   d.feed(buf, n);                              // bytes of one recv; buf padded (see below)
//   shadow::WsMessage m;
//   shadow::WsStatus st;
//   while ((st = d.next(m)) == shadow::WsStatus::kMessage) handle(m);
//   if (shadow::is_error(st)) fail(shadow::to_string(st));   // else kNeedMore: recv again
//
// Client role (server frames are never masked, §5.1). Zero copy: a whole unfragmented frame
// inside the fed chunk comes back as a view into that chunk (msg.copied == false). Only a
// frame split across chunks, a fragmented message (§5.4) or a control frame split across
// chunks is copied, into buffers allocated by the constructor (max_message + kWsPadding, and
// 125 + kWsPadding for control frames): no allocation after construction.
//
// Server role (client frames are always masked, §5.1, §5.3): every payload is unmasked while
// it is copied into those same buffers (the fed chunk is read-only), so msg.copied is always
// true. The exchange's server is off the trading hot path; one copy per frame costs it little.
//
// When next() returns kNeedMore every byte of the chunk has been used (a partial frame was
// copied), so the caller may recycle the chunk's buffer right away.
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
template <WsRole Role>
class BasicWsDeframer {
 public:
  explicit BasicWsDeframer(std::size_t max_message = std::size_t{1} << 20);

  BasicWsDeframer(const BasicWsDeframer&) = delete;
  BasicWsDeframer& operator=(const BasicWsDeframer&) = delete;

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
  // Peer frames carry a masking key exactly when the peer is a client (§5.1).
  static constexpr bool kPeerMasks = Role == WsRole::kServer;

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
  unsigned char hdr_[14] = {};     // a header split across chunks (2 + 8 + 4-byte key)
  std::size_t hdr_have_ = 0;
  WsOpcode frame_op_ = WsOpcode::kBinary;
  bool frame_fin_ = false;
  std::size_t frame_len_ = 0;
  std::size_t remaining_ = 0;
  char* dst_ = nullptr;
  std::array<std::uint8_t, 4> key_{};  // server role: the frame's masking key (§5.3)

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

extern template class BasicWsDeframer<WsRole::kClient>;
extern template class BasicWsDeframer<WsRole::kServer>;
using WsDeframer = BasicWsDeframer<WsRole::kClient>;

// XORs data with the 4-byte masking key (§5.3); masking and unmasking are the same operation.
void ws_mask(char* data, std::size_t len, std::array<std::uint8_t, 4> key) noexcept;

// Bytes of a frame header (§5.2, minimal length encoding): 2 for payloads <= 125, 4 up to
// 65535, 10 above, plus the 4-byte masking key when the frame is masked.
constexpr std::size_t ws_header_size(std::size_t len, bool masked) noexcept {
  return (len <= 125 ? 2 : len <= 0xFFFF ? 4 : 10) + (masked ? 4 : 0);
}

// Writes the header of a frame with a `len`-byte payload into out (ws_header_size bytes, at
// most 14): FIN, opcode, MASK and the key when `key` is not null. Returns its size.
std::size_t ws_write_header(WsOpcode op, std::size_t len, bool fin,
                            const std::array<std::uint8_t, 4>* key, char* out) noexcept;

// BasicWsFramer<Role>: encodes the frames `Role` sends. A client masks every frame (§5.3: "a
// client MUST mask all frames"); a server never masks (§5.1).
//
// Client masking keys come from a splitmix64 generator seeded once from getrandom(). §10.3
// asks for unpredictable keys so that hostile script-controlled payloads cannot choose the
// bytes on the wire and poison intercepting proxies' caches; this client only sends payloads
// it builds itself (subscribe requests, pongs echoing the server, close), so nobody can mount
// that attack through it, and a per-process random seed keeps keys unguessable to anyone not
// observing the connection. A CSPRNG call per frame would be a syscall on the hot path.
//
// encode*() write into the caller's buffer and return the frame's size, or 0 when it does not
// fit or is not allowed (control frame > 125 bytes or not FIN, §5.5; close reason > 123
// bytes). Sending a fragmented message (fin = false, then kContinuation frames, §5.4) is the
// caller's business. noexcept, no allocation, no syscalls after construction.
template <WsRole Role>
class BasicWsFramer {
 public:
  static constexpr bool kMasks = Role == WsRole::kClient;
  static constexpr std::size_t kMaxHeader = ws_header_size(0x10000, kMasks);

  BasicWsFramer();                            // client: seeds from getrandom() (one syscall)
  explicit BasicWsFramer(std::uint64_t seed); // deterministic, for tests

  // Bytes a frame with a `len`-byte payload takes on the wire (header + key + payload).
  static constexpr std::size_t frame_size(std::size_t len) noexcept {
    return len + ws_header_size(len, kMasks);
  }

  std::size_t encode(WsOpcode op, const char* payload, std::size_t len, char* out,
                     std::size_t cap, bool fin = true) noexcept {
    if constexpr (kMasks) {
      const std::array<std::uint8_t, 4> key = next_key();
      return encode_frame(op, payload, len, &key, out, cap, fin);
    } else {
      return encode_frame(op, payload, len, nullptr, out, cap, fin);
    }
  }
  // Close frame with a status code (§5.5.1, §7.4) and an optional reason (<= 123 bytes).
  std::size_t encode_close(std::uint16_t code, std::string_view reason, char* out,
                           std::size_t cap) noexcept;

  static std::size_t encode_with_key(WsOpcode op, const char* payload, std::size_t len,
                                     std::array<std::uint8_t, 4> key, char* out,
                                     std::size_t cap, bool fin = true) noexcept
    requires kMasks
  {
    return encode_frame(op, payload, len, &key, out, cap, fin);
  }

  std::array<std::uint8_t, 4> next_key() noexcept;

 private:
  static std::size_t encode_frame(WsOpcode op, const char* payload, std::size_t len,
                                  const std::array<std::uint8_t, 4>* key, char* out,
                                  std::size_t cap, bool fin) noexcept;

  std::uint64_t state_;
  std::uint64_t spare_ = 0;   // the second 32 bits of the last splitmix64 output
  bool have_spare_ = false;
};

extern template class BasicWsFramer<WsRole::kClient>;
extern template class BasicWsFramer<WsRole::kServer>;
using WsFramer = BasicWsFramer<WsRole::kClient>;
using WsServerFramer = BasicWsFramer<WsRole::kServer>;

}  // namespace shadow
