#include "feed/tls_session.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <atomic>
#include <climits>
#include <cstdio>

namespace shadow {
namespace {

// The reason of the newest error on this thread's OpenSSL queue ("tlsv1 alert unknown ca",
// "wrong version number", "no such file"), then the queue is emptied.
std::string openssl_reason(const char* fallback) {
  unsigned long last = 0;
  for (unsigned long e; (e = ERR_get_error()) != 0;) last = e;
  if (last == 0) return fallback;
  const char* r = ERR_reason_error_string(last);
  if (r != nullptr) return r;
  char buf[256];
  ERR_error_string_n(last, buf, sizeof buf);
  return buf;
}

std::atomic<bool> g_insecure_logged{false};

bool is_ip_literal(const std::string& host) {
  unsigned char addr[16];
  return inet_pton(AF_INET, host.c_str(), addr) == 1 || inet_pton(AF_INET6, host.c_str(), addr) == 1;
}

}  // namespace

std::unique_ptr<TlsContext> TlsContext::client(const TlsOptions& opts, std::string& error) {
  ERR_clear_error();
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == nullptr) {
    error = "TLS: SSL_CTX_new: " + openssl_reason("out of memory");
    return nullptr;
  }
  std::unique_ptr<TlsContext> c(new TlsContext(ctx, !opts.insecure_skip_verify));
  // TLS 1.2 is the floor every venue we connect to supports; 1.0/1.1 are deprecated (RFC 8996).
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(ctx, opts.max_version == 12 ? TLS1_2_VERSION : TLS1_3_VERSION);
  // Keep the record buffers for the connection's life: releasing them would allocate per read.
  SSL_CTX_clear_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  if (opts.insecure_skip_verify) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
    if (!g_insecure_logged.exchange(true)) {
      std::fprintf(stderr,
                   "WARNING: TLS certificate and host-name verification is OFF "
                   "(--insecure-skip-verify / venue.insecure_skip_verify). Anyone on the path can "
                   "read and alter the feed. Use this in a lab only.\n");
    }
    return c;
  }
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  if (!opts.ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(ctx, opts.ca_file.c_str(), nullptr) != 1) {
      error = "TLS: cannot load the CA file '" + opts.ca_file + "' (--ca-file / venue.ca_file): " +
              openssl_reason("not a PEM certificate file");
      return nullptr;
    }
  } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
    error = "TLS: cannot load the system CA store: " + openssl_reason("unknown reason");
    return nullptr;
  }
  return c;
}

std::unique_ptr<TlsContext> TlsContext::server(const TlsOptions& opts, std::string& error) {
  ERR_clear_error();
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr) {
    error = "TLS: SSL_CTX_new: " + openssl_reason("out of memory");
    return nullptr;
  }
  std::unique_ptr<TlsContext> c(new TlsContext(ctx, false));
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_clear_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  if (SSL_CTX_use_certificate_chain_file(ctx, opts.cert_file.c_str()) != 1) {
    error = "TLS: cannot load the certificate '" + opts.cert_file + "': " + openssl_reason("bad PEM");
    return nullptr;
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, opts.key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(ctx) != 1) {
    error = "TLS: cannot use the key '" + opts.key_file + "': " + openssl_reason("bad PEM");
    return nullptr;
  }
  return c;
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

TlsSession::~TlsSession() { reset(); }

void TlsSession::reset() noexcept {
  if (ssl_ != nullptr) SSL_free(ssl_);  // frees both BIOs
  ssl_ = nullptr;
  rbio_ = wbio_ = nullptr;
  done_ = false;
}

static bool attach_bios(SSL* ssl, BIO*& rbio, BIO*& wbio) {
  rbio = BIO_new(BIO_s_mem());
  wbio = BIO_new(BIO_s_mem());
  if (rbio == nullptr || wbio == nullptr) {
    BIO_free(rbio);
    BIO_free(wbio);
    rbio = wbio = nullptr;
    return false;
  }
  // An empty input BIO means "no more yet" (retry), not end of file.
  BIO_set_mem_eof_return(rbio, -1);
  BIO_set_mem_eof_return(wbio, -1);
  SSL_set_bio(ssl, rbio, wbio);
  return true;
}

bool TlsSession::begin(const TlsContext& ctx, std::string& error) {
  reset();
  error_[0] = '\0';
  ERR_clear_error();
  ssl_ = SSL_new(ctx.get());
  if (ssl_ == nullptr || !attach_bios(ssl_, rbio_, wbio_)) {
    reset();
    error = "TLS: SSL_new: " + openssl_reason("out of memory");
    return false;
  }
  return true;
}

bool TlsSession::start_client(const TlsContext& ctx, const std::string& host, std::string& error) {
  if (!begin(ctx, error)) return false;
  SSL_set_connect_state(ssl_);
  const bool ip = is_ip_literal(host);
  // SNI carries names only (RFC 6066 §3); venues behind CDNs need it to pick the certificate.
  if (!ip && SSL_set_tlsext_host_name(ssl_, host.c_str()) != 1) {
    reset();
    error = "TLS: cannot set SNI '" + host + "'";
    return false;
  }
  if (ctx.verifies()) {
    const int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), host.c_str())
                      : SSL_set1_host(ssl_, host.c_str());
    if (ok != 1) {
      reset();
      error = "TLS: cannot check the certificate against host '" + host + "'";
      return false;
    }
  }
  return true;
}

bool TlsSession::start_server(const TlsContext& ctx, std::string& error) {
  if (!begin(ctx, error)) return false;
  SSL_set_accept_state(ssl_);
  return true;
}

TlsStatus TlsSession::fail(int ret, const char* what) noexcept {
  const int e = SSL_get_error(ssl_, ret);
  if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return TlsStatus::kWantMore;
  if (e == SSL_ERROR_ZERO_RETURN) {
    std::snprintf(error_, sizeof error_, "%s: the peer closed the TLS session (close_notify)", what);
    ERR_clear_error();
    return TlsStatus::kClosed;
  }
  const long verify = done_ ? X509_V_OK : SSL_get_verify_result(ssl_);
  if (verify != X509_V_OK) {
    std::snprintf(error_, sizeof error_, "%s: certificate verify failed: %s", what,
                  X509_verify_cert_error_string(verify));
    ERR_clear_error();
    return TlsStatus::kError;
  }
  try {
    const std::string r = openssl_reason(e == SSL_ERROR_SYSCALL ? "unexpected end of stream" : "error");
    std::snprintf(error_, sizeof error_, "%s: %s", what, r.c_str());
  } catch (...) {
    std::snprintf(error_, sizeof error_, "%s: error", what);
  }
  return TlsStatus::kError;
}

TlsStatus TlsSession::handshake() noexcept {
  if (ssl_ == nullptr) {
    std::snprintf(error_, sizeof error_, "TLS handshake: no connection");
    return TlsStatus::kError;
  }
  if (done_) return TlsStatus::kOk;
  ERR_clear_error();
  const int r = SSL_do_handshake(ssl_);
  if (r == 1) {
    done_ = true;
    return TlsStatus::kOk;
  }
  return fail(r, "TLS handshake failed");
}

bool TlsSession::put_ciphertext(const char* p, std::size_t n) noexcept {
  while (n > 0) {
    const int chunk = n > static_cast<std::size_t>(INT_MAX) ? INT_MAX : static_cast<int>(n);
    const int w = BIO_write(rbio_, p, chunk);
    if (w <= 0) {
      std::snprintf(error_, sizeof error_, "TLS: cannot buffer %zu received bytes", n);
      return false;
    }
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

TlsStatus TlsSession::read(char* out, std::size_t cap, std::size_t& got) noexcept {
  got = 0;
  if (ssl_ == nullptr) {
    std::snprintf(error_, sizeof error_, "TLS read: no connection");
    return TlsStatus::kError;
  }
  ERR_clear_error();
  while (got < cap) {
    const std::size_t room = cap - got;
    const int r = SSL_read(ssl_, out + got, room > static_cast<std::size_t>(INT_MAX) ? INT_MAX
                                                                                     : static_cast<int>(room));
    if (r > 0) {
      got += static_cast<std::size_t>(r);
      continue;
    }
    return fail(r, "TLS read");
  }
  return TlsStatus::kOk;
}

bool TlsSession::write(const char* p, std::size_t n) noexcept {
  if (ssl_ == nullptr || !done_) {
    std::snprintf(error_, sizeof error_, "TLS write: no established session");
    return false;
  }
  ERR_clear_error();
  while (n > 0) {
    const int chunk = n > static_cast<std::size_t>(INT_MAX) ? INT_MAX : static_cast<int>(n);
    const int w = SSL_write(ssl_, p, chunk);
    if (w <= 0) {
      fail(w, "TLS write");
      return false;
    }
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

void TlsSession::shutdown() noexcept {
  if (ssl_ != nullptr && done_) {
    ERR_clear_error();
    SSL_shutdown(ssl_);
    ERR_clear_error();
  }
}

std::size_t TlsSession::pending_ciphertext() const noexcept {
  return wbio_ == nullptr ? 0 : BIO_ctrl_pending(wbio_);
}

std::size_t TlsSession::take_ciphertext(char* out, std::size_t cap) noexcept {
  if (wbio_ == nullptr || cap == 0) return 0;
  const int n = BIO_read(wbio_, out, cap > static_cast<std::size_t>(INT_MAX) ? INT_MAX : static_cast<int>(cap));
  return n > 0 ? static_cast<std::size_t>(n) : 0;
}

std::string_view TlsSession::version() const noexcept {
  return ssl_ == nullptr ? std::string_view{} : std::string_view(SSL_get_version(ssl_));
}

std::string_view TlsSession::cipher() const noexcept {
  const char* c = ssl_ == nullptr ? nullptr : SSL_get_cipher_name(ssl_);
  return c == nullptr ? std::string_view{} : std::string_view(c);
}

}  // namespace shadow
