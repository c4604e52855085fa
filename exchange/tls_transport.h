// TlsTransport: the server side of one wss:// connection of the embedded exchange
// (shadow-exchange --tls-cert/--tls-key): feed's TlsSession in server mode over memory BIOs,
// plus the ciphertext queue between it and send(2).
//
// ExchangeServer keeps doing the socket I/O. Received bytes go in with put_ciphertext(); read()
// drives the TLS handshake and then yields plaintext for the existing WebSocket handshake and
// deframer. The plaintext a ClientSession queued (`out`, a byte stream with offsets) is
// encrypted a chunk at a time with encrypt(); the ciphertext waits here (data()/pending())
// until send(2) takes it, and sent() says up to which plaintext stream offset the kernel now
// holds the ciphertext. So ClientSession::written(), and with it the send-log stamps, advance
// only when the bytes carrying a message are handed to the kernel, as over ws:// — the stamp
// includes the encryption, as a venue's send time would.
//
// At most kAheadBytes of ciphertext are made ahead of the socket, so a slow client's backlog
// stays plaintext in its session (where --max-send-buffer counts it). One thread, no locks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "feed/tls_session.h"

namespace shadow {

class TlsTransport {
 public:
  // Plaintext encrypted per encrypt() call at most: one TLS record's payload (RFC 8446 §5.1).
  static constexpr std::size_t kChunkBytes = 16 * 1024;
  // Ciphertext made ahead of what the kernel took before encrypting more.
  static constexpr std::size_t kAheadBytes = 64 * 1024;

  // A fresh server-side session on `ctx` (outlives this). False + error.
  bool start(const TlsContext& ctx, std::string& error);

  // Ciphertext received from the client. False when it cannot be buffered.
  bool put_ciphertext(const char* p, std::size_t n) noexcept;
  // Drives the handshake, then decrypts into out[0, cap): got bytes of plaintext (possibly > 0
  // with any status). kOk: more may be ready; kWantMore: all buffered input used (handshake
  // flights may now be pending()); kClosed: close_notify; kError: error().
  TlsStatus read(char* out, std::size_t cap, std::size_t& got);
  bool established() const noexcept { return tls_.handshake_done(); }

  // Plaintext stream offset encrypted so far (the session's out_base + index).
  std::uint64_t encrypted() const noexcept { return plain_encrypted_; }
  // Whether encrypt() may run now: handshake done and little ciphertext waiting.
  bool wants_plaintext() const noexcept { return established() && pending() < kAheadBytes; }
  // Encrypts the next n bytes of the plaintext stream (those at offset encrypted()).
  bool encrypt(const char* p, std::size_t n);

  // Ciphertext waiting for send(2).
  const char* data() const noexcept { return cipher_.data() + cipher_off_; }
  std::size_t pending() const noexcept { return cipher_.size() - cipher_off_; }
  // send(2) took n bytes of data(); returns the plaintext stream offset whose ciphertext is
  // now wholly with the kernel.
  std::uint64_t sent(std::size_t n) noexcept;

  // Queues close_notify (best effort; only once the session is established).
  void close_notify();

  const char* error() const noexcept { return tls_.error(); }
  std::string_view version() const noexcept { return tls_.version(); }
  std::string_view cipher() const noexcept { return tls_.cipher(); }

 private:
  void drain();  // the session's outgoing BIO -> cipher_ (grows it: may throw bad_alloc)

  TlsSession tls_;
  std::string cipher_;           // ciphertext not yet sent: [cipher_off_, size)
  std::size_t cipher_off_ = 0;
  std::uint64_t cipher_made_ = 0;   // ciphertext stream offsets: produced, sent
  std::uint64_t cipher_sent_ = 0;
  std::uint64_t plain_encrypted_ = 0;
  std::uint64_t plain_sent_ = 0;
  // (ciphertext end, plaintext end) per encrypt(), in stream order; [marks_head_, size).
  std::vector<std::pair<std::uint64_t, std::uint64_t>> marks_;
  std::size_t marks_head_ = 0;
};

}  // namespace shadow
