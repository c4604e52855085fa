// TLS for the feed's io_uring path: OpenSSL over memory BIOs, no socket of its own.
//
// io_uring keeps receiving ciphertext into its provided-buffer ring; the feed thread hands each
// chunk to put_ciphertext() and takes plaintext out with read(), which the same WebSocket
// deframer then sees. Writes go the other way: write() encrypts into the outgoing memory BIO,
// take_ciphertext() empties it, and the caller sends those bytes with an io_uring send. OpenSSL
// never touches the socket, so nothing here blocks and the recv mode (multishot, single-shot,
// SQPOLL) is unchanged by TLS.
//
// Verification is on by default: the system CA store (or TlsOptions::ca_file), the host name
// checked against the certificate (SSL_set1_host, or the IP address for a numeric host), SNI
// sent for names, TLS 1.2 minimum. `insecure_skip_verify` turns the checks off for labs only;
// TlsContext logs that loudly once per process.
//
// Allocation: SSL_CTX at construction, one SSL (and its record buffers) per connection at
// start_*(); after the handshake, read()/write() reuse OpenSSL's buffers and the memory BIOs
// grow only until they hold the largest chunk seen (BUF_MEM keeps its capacity). What OpenSSL
// 3.0 still allocates — one 40-byte block per TLS 1.3 record decrypted, a few per SSL_write —
// is freed at once and served again from feed/openssl_block_cache.h's free lists, which the
// programs install first thing: tests/feed/ws_client_tls_test.cc counts zero mallocs while
// receiving and sending over TLS 1.3 and 1.2.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;
typedef struct bio_st BIO;

namespace shadow {

struct TlsOptions {
  std::string ca_file;                // PEM file of trusted CAs; empty = the system store
  bool insecure_skip_verify = false;  // no certificate or host check (labs only; logged)
  // Highest version offered: 13 (TLS 1.3, the default) or 12 (a venue or middlebox that
  // mishandles 1.3; benchmarks comparing the two).
  int max_version = 13;
  // Server side only (test peers and benchmarks): PEM certificate chain and private key.
  std::string cert_file;
  std::string key_file;
};

// One SSL_CTX: client (verifying) or server (cert + key). Built off the hot path.
class TlsContext {
 public:
  // Null + error naming the file or the OpenSSL reason on failure.
  static std::unique_ptr<TlsContext> client(const TlsOptions& opts, std::string& error);
  static std::unique_ptr<TlsContext> server(const TlsOptions& opts, std::string& error);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  SSL_CTX* get() const noexcept { return ctx_; }
  bool verifies() const noexcept { return verify_; }

 private:
  TlsContext(SSL_CTX* ctx, bool verify) : ctx_(ctx), verify_(verify) {}
  SSL_CTX* ctx_;
  bool verify_;
};

enum class TlsStatus : std::uint8_t {
  kOk,        // progress made (handshake done / bytes produced); call again
  kWantMore,  // needs more ciphertext from the peer
  kClosed,    // the peer sent close_notify
  kError,     // error(): the reason (verification result, alert, protocol error)
};

// TlsSession: one TLS connection over two memory BIOs. Not thread-safe; one thread owns it.
//
//   shadow::TlsSession tls;
//   tls.start_client(*ctx, "stream.bybit.com", err);
//   while ((st = tls.handshake()) == TlsStatus::kWantMore) {
//     send_all(tls);                          // take_ciphertext() -> socket
//     tls.put_ciphertext(buf, recv(buf));     // socket -> BIO
//   }
//   tls.write(req, n); send_all(tls);
//   tls.put_ciphertext(buf, n);
//   while (tls.read(plain, cap, got) == TlsStatus::kOk || got > 0) use(plain, got);
class TlsSession {
 public:
  TlsSession() = default;
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  // A fresh connection (any previous one is dropped). host: the name (or IP literal) the
  // certificate must carry; it is also sent as SNI when it is a name. False + error.
  bool start_client(const TlsContext& ctx, const std::string& host, std::string& error);
  bool start_server(const TlsContext& ctx, std::string& error);
  void reset() noexcept;  // drops the connection's SSL; safe to call twice
  bool active() const noexcept { return ssl_ != nullptr; }

  // Drives the handshake. kOk when done (handshake_done() stays true), kWantMore while the
  // peer's next flight is awaited (send take_ciphertext() first), kError with error() set.
  TlsStatus handshake() noexcept;
  bool handshake_done() const noexcept { return done_; }

  // Ciphertext received from the peer. False only when the BIO cannot take it (out of memory).
  bool put_ciphertext(const char* p, std::size_t n) noexcept;

  // Decrypts into out[0, cap): fills as much as the buffered records allow. got = bytes
  // written (possibly > 0 with any status). kOk: out is full, more may be ready; kWantMore:
  // everything buffered was decrypted; kClosed / kError: the connection is over.
  TlsStatus read(char* out, std::size_t cap, std::size_t& got) noexcept;

  // Encrypts all of p[0, n) into the outgoing BIO. False + error() on failure.
  bool write(const char* p, std::size_t n) noexcept;
  // Queues a close_notify alert (best effort).
  void shutdown() noexcept;

  // Ciphertext waiting to go to the peer, and taking it out (up to cap bytes).
  std::size_t pending_ciphertext() const noexcept;
  std::size_t take_ciphertext(char* out, std::size_t cap) noexcept;

  // The reason of the last kError / failed call: "certificate verify failed: certificate has
  // expired", "... Hostname mismatch", "... unable to get local issuer certificate", or the
  // OpenSSL error (alert, wrong version number, ...).
  const char* error() const noexcept { return error_; }
  // Negotiated protocol ("TLSv1.3") and cipher, after the handshake.
  std::string_view version() const noexcept;
  std::string_view cipher() const noexcept;

 private:
  bool begin(const TlsContext& ctx, std::string& error);  // a fresh SSL over two memory BIOs
  TlsStatus fail(int ret, const char* what) noexcept;
  SSL* ssl_ = nullptr;
  BIO* rbio_ = nullptr;  // ciphertext from the peer (owned by ssl_)
  BIO* wbio_ = nullptr;  // ciphertext to the peer (owned by ssl_)
  bool done_ = false;
  char error_[256] = {};
};

}  // namespace shadow
