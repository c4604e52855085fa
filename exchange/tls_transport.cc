#include "exchange/tls_transport.h"

namespace shadow {

bool TlsTransport::start(const TlsContext& ctx, std::string& error) {
  return tls_.start_server(ctx, error);
}

bool TlsTransport::put_ciphertext(const char* p, std::size_t n) noexcept {
  return tls_.put_ciphertext(p, n);
}

TlsStatus TlsTransport::read(char* out, std::size_t cap, std::size_t& got) {
  got = 0;
  if (!tls_.handshake_done()) {
    const TlsStatus st = tls_.handshake();
    drain();  // our flight (ServerHello ... Finished), or an alert on failure
    if (st != TlsStatus::kOk) return st;
  }
  const TlsStatus st = tls_.read(out, cap, got);
  drain();  // TLS 1.3 session tickets after the handshake, key-update answers
  return st;
}

bool TlsTransport::encrypt(const char* p, std::size_t n) {
  if (!tls_.write(p, n)) return false;
  drain();
  plain_encrypted_ += n;
  marks_.emplace_back(cipher_made_, plain_encrypted_);
  return true;
}

std::uint64_t TlsTransport::sent(std::size_t n) noexcept {
  cipher_off_ += n;
  cipher_sent_ += n;
  while (marks_head_ < marks_.size() && marks_[marks_head_].first <= cipher_sent_) {
    plain_sent_ = marks_[marks_head_].second;
    ++marks_head_;
  }
  if (marks_head_ == marks_.size()) {
    marks_.clear();
    marks_head_ = 0;
  }
  if (cipher_off_ == cipher_.size()) {
    cipher_.clear();  // keeps its capacity: steady state does not allocate
    cipher_off_ = 0;
  }
  return plain_sent_;
}

void TlsTransport::close_notify() {
  if (!tls_.handshake_done()) return;
  tls_.shutdown();
  drain();
}

void TlsTransport::drain() {
  for (std::size_t n; (n = tls_.pending_ciphertext()) > 0;) {
    if (cipher_off_ > 0 && cipher_off_ >= cipher_.size() / 2) {
      cipher_.erase(0, cipher_off_);  // reclaim the sent prefix before growing
      cipher_off_ = 0;
    }
    const std::size_t old = cipher_.size();
    cipher_.resize(old + n);
    const std::size_t got = tls_.take_ciphertext(cipher_.data() + old, n);
    cipher_.resize(old + got);
    cipher_made_ += got;
    if (got == 0) break;
  }
}

}  // namespace shadow
