// ExchangeServer's TLS transport (--tls-cert/--tls-key): the receive and send sides of a wss://
// session around the plaintext paths of exchange_server.cc. Each session's TlsTransport is
// feed's TlsSession in server mode over memory BIOs; this file moves bytes between it and the
// socket with the same EAGAIN / EPOLLOUT handling as ws://.
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <utility>

#include "exchange/exchange_server.h"

namespace shadow {

std::unique_ptr<TlsContext> make_server_tls(const ExchangeOptions& opt, std::string& error) {
  for (const auto& [flag, path] : {std::pair{"--tls-cert", &opt.tls_cert}, {"--tls-key", &opt.tls_key}}) {
    FILE* f = std::fopen(path->c_str(), "r");
    if (f == nullptr) {
      error = std::string(flag) + ": cannot read '" + *path + "': " + std::strerror(errno);
      return nullptr;
    }
    std::fclose(f);
  }
  TlsOptions o;
  o.cert_file = opt.tls_cert;
  o.key_file = opt.tls_key;
  std::unique_ptr<TlsContext> ctx = TlsContext::server(o, error);
  if (ctx == nullptr) {
    // TlsContext::server names the file: "cannot load the certificate '...'" or "cannot use
    // the key '...'" (which includes a key that does not match the certificate).
    const bool key = error.find("the key") != std::string::npos;
    error = std::string(key ? "--tls-key: " : "--tls-cert: ") + error;
  }
  return ctx;
}

// Ciphertext from the client: the TLS handshake first, then each decrypted chunk goes the
// plaintext way (on_bytes). A failed handshake (a plain ws:// client, an unknown protocol, the
// client refusing our certificate) or a TLS error ends the connection, after a best-effort send
// of the alert OpenSSL queued; close_notify ends it like EOF.
bool ExchangeServer::on_ciphertext(ClientSession& c, const char* p, std::size_t n) {
  TlsTransport& t = *c.tls;
  if (!t.put_ciphertext(p, n)) {
    drop(c);
    return false;
  }
  char plain[16384];
  for (;;) {
    const bool was_established = t.established();
    std::size_t got = 0;
    const TlsStatus st = t.read(plain, sizeof plain, got);
    if (got > 0 && !on_bytes(c, plain, got)) return false;
    if (st == TlsStatus::kOk) continue;
    if (st == TlsStatus::kWantMore) return true;
    if (st == TlsStatus::kError) {
      // Before the handshake: a refused connection; after it: a broken record stream.
      if (was_established) ++counters_.protocol_errors;
      else ++counters_.rejected;
    }
    end_tls(c);
    drop(c);
    return false;
  }
}

bool ExchangeServer::send_tls(ClientSession& c) {
  TlsTransport& t = *c.tls;
  for (;;) {
    const std::uint64_t queued_end = c.out_base + c.out.size();
    if (t.wants_plaintext() && t.encrypted() < queued_end) {
      // One record's worth at a time, from the first byte not yet encrypted.
      const std::size_t from = static_cast<std::size_t>(t.encrypted() - c.out_base);
      const std::size_t len = std::min<std::size_t>(c.out.size() - from, TlsTransport::kChunkBytes);
      if (!t.encrypt(c.out.data() + from, len)) {
        std::fprintf(stderr, "shadow-exchange: client %llu: %s\n",
                     static_cast<unsigned long long>(c.id), t.error());
        drop(c);
        return false;
      }
    }
    if (t.pending() == 0) return true;
    const ssize_t n = ::send(c.fd, t.data(), t.pending(), MSG_NOSIGNAL);
    if (n > 0) {
      // Plaintext counts as written once the ciphertext carrying it is with the kernel: the
      // send-log stamps mean the same over wss:// as over ws:// (encryption included).
      const std::uint64_t done = t.sent(static_cast<std::size_t>(n));
      const std::uint64_t before = c.out_base + c.out_off;
      if (done > before) c.written(static_cast<std::size_t>(done - before), send_log_);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    drop(c);  // peer gone
    return false;
  }
}

void ExchangeServer::end_tls(ClientSession& c) {
  if (c.fd < 0) return;
  c.tls->close_notify();  // nothing before the handshake is done; an alert may already wait
  if (c.tls->pending() > 0) ::send(c.fd, c.tls->data(), c.tls->pending(), MSG_NOSIGNAL | MSG_DONTWAIT);
}

}  // namespace shadow
