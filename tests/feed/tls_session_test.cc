// TlsSession client against a TlsSession server in one process, bytes moved by hand between
// their memory BIOs: the record stream cut at every byte boundary (one byte at a time, and in
// two pieces at every offset) gives the same plaintext and the same WebSocket messages; a
// corrupted record, a close_notify, and a handshake against the wrong name end as they should.
// The certificate is made here with OpenSSL's own API (self-signed P-256, SAN localhost).
#include "feed/tls_session.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "feed/websocket_frame.h"
#include "tests/support/temp_dir.h"

namespace {

using shadow::TlsContext;
using shadow::TlsOptions;
using shadow::TlsSession;
using shadow::TlsStatus;

// A self-signed certificate for DNS:localhost written as cert.pem / key.pem in a fresh folder.
class SelfSigned {
 public:
  SelfSigned() {
    if (dir_.path().empty()) return;
    EVP_PKEY* key = EVP_EC_gen("P-256");
    X509* x = X509_new();
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, key);
    X509_NAME* name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("localhost"),
                               -1, -1, 0);
    X509_set_issuer_name(x, name);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
    X509_EXTENSION* san = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, "DNS:localhost");
    X509_add_ext(x, san, -1);
    X509_EXTENSION_free(san);
    X509_sign(x, key, EVP_sha256());
    FILE* f = std::fopen(cert().c_str(), "w");
    PEM_write_X509(f, x);
    std::fclose(f);
    f = std::fopen(key_file().c_str(), "w");
    PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(f);
    X509_free(x);
    EVP_PKEY_free(key);
  }
  std::string cert() const { return dir_.file("cert.pem"); }
  std::string key_file() const { return dir_.file("key.pem"); }

 private:
  shadow::test_support::TempDir dir_{"shadow-tls-unit"};
};

const SelfSigned& certs() {
  static SelfSigned s;
  return s;
}

// Moves every pending ciphertext byte from one session to the other.
void pump(TlsSession& from, TlsSession& to) {
  char buf[4096];
  while (std::size_t n = from.take_ciphertext(buf, sizeof buf)) ASSERT_TRUE(to.put_ciphertext(buf, n));
}

struct Pair {
  std::unique_ptr<TlsContext> cctx, sctx;
  TlsSession client, server;
};

// A client and a server with their handshake done; `host` is the name the client checks.
void connect(Pair& p, const std::string& host, int max_version = 13) {
  std::string err;
  TlsOptions co;
  co.ca_file = certs().cert();
  co.max_version = max_version;
  p.cctx = TlsContext::client(co, err);
  ASSERT_TRUE(p.cctx) << err;
  TlsOptions so;
  so.cert_file = certs().cert();
  so.key_file = certs().key_file();
  p.sctx = TlsContext::server(so, err);
  ASSERT_TRUE(p.sctx) << err;
  ASSERT_TRUE(p.client.start_client(*p.cctx, host, err)) << err;
  ASSERT_TRUE(p.server.start_server(*p.sctx, err)) << err;
  for (int i = 0; i < 10 && !(p.client.handshake_done() && p.server.handshake_done()); ++i) {
    const TlsStatus c = p.client.handshake();
    ASSERT_NE(c, TlsStatus::kError) << p.client.error();
    pump(p.client, p.server);
    const TlsStatus s = p.server.handshake();
    ASSERT_NE(s, TlsStatus::kError) << p.server.error();
    pump(p.server, p.client);
  }
  ASSERT_TRUE(p.client.handshake_done());
  ASSERT_TRUE(p.server.handshake_done());
}

// Server frames: small, medium, and one bigger than a TLS record (16 KiB).
std::string server_frames(std::vector<std::string>& payloads) {
  shadow::WsServerFramer framer(1);  // a server does not mask (RFC 6455 §5.1)
  std::string wire;
  for (std::size_t size : {5u, 120u, 700u, 20000u, 1u, 300u}) {
    std::string p(size, 'a');
    for (std::size_t j = 0; j < size; ++j) p[j] = static_cast<char>('a' + (j * 7 + size) % 26);
    std::vector<char> out(shadow::WsServerFramer::frame_size(size));
    const std::size_t n = framer.encode(shadow::WsOpcode::kText, p.data(), p.size(), out.data(), out.size());
    wire.append(out.data(), n);
    payloads.push_back(std::move(p));
  }
  return wire;
}

// Decrypts what `client` has buffered and deframes it; appends messages.
void drain(TlsSession& client, shadow::WsDeframer& d, std::vector<std::string>& got, std::string& plain) {
  std::vector<char> buf(2048 + shadow::kWsPadding);
  for (;;) {
    std::size_t n = 0;
    const TlsStatus st = client.read(buf.data(), buf.size() - shadow::kWsPadding, n);
    ASSERT_TRUE(st == TlsStatus::kOk || st == TlsStatus::kWantMore) << client.error();
    if (n > 0) {
      plain.append(buf.data(), n);
      d.feed(buf.data(), n);
      shadow::WsMessage m;
      while (d.next(m) == shadow::WsStatus::kMessage) got.emplace_back(m.data, m.len);
    }
    if (st == TlsStatus::kWantMore) return;
  }
}

std::string ciphertext_of(Pair& p, const std::string& wire) {
  // Several writes: several records, one of them split by the 16 KiB record limit.
  const std::size_t cut = wire.size() / 3;
  EXPECT_TRUE(p.server.write(wire.data(), cut));
  EXPECT_TRUE(p.server.write(wire.data() + cut, wire.size() - cut));
  std::string c(p.server.pending_ciphertext(), '\0');
  EXPECT_EQ(p.server.take_ciphertext(c.data(), c.size()), c.size());
  return c;
}

TEST(TlsSessionTest, RecordsCutAtEveryByteGiveTheSameMessages) {
  for (int version : {12, 13}) {
    Pair p;
    connect(p, "localhost", version);
    std::vector<std::string> payloads;
    const std::string wire = server_frames(payloads);
    const std::string cipher = ciphertext_of(p, wire);
    ASSERT_GT(cipher.size(), wire.size());  // record headers and tags
    shadow::WsDeframer d(1 << 20);
    std::vector<std::string> got;
    std::string plain;
    for (char byte : cipher) {  // every boundary at once: one byte per chunk
      ASSERT_TRUE(p.client.put_ciphertext(&byte, 1));
      drain(p.client, d, got, plain);
    }
    EXPECT_EQ(plain, wire) << "TLS 1." << version - 10;
    EXPECT_EQ(got, payloads) << "TLS 1." << version - 10;
  }
}

TEST(TlsSessionTest, TwoPiecesAtEveryOffsetGiveTheSameMessages) {
  // One fresh pair per offset (a session's record numbers move on); small frames keep it fast.
  std::vector<std::string> payloads;
  shadow::WsServerFramer framer(1);
  std::string wire;
  for (int i = 0; i < 4; ++i) {
    const std::string s = "msg-" + std::to_string(i) + std::string(static_cast<std::size_t>(20 * i), 'x');
    std::vector<char> out(shadow::WsServerFramer::frame_size(s.size()));
    wire.append(out.data(), framer.encode(shadow::WsOpcode::kText, s.data(), s.size(), out.data(), out.size()));
    payloads.push_back(s);
  }
  std::size_t offsets = 0;
  for (std::size_t cut = 1;; ++cut) {
    Pair p;
    connect(p, "localhost");
    const std::string cipher = ciphertext_of(p, wire);
    if (cut >= cipher.size()) break;
    shadow::WsDeframer d(1 << 20);
    std::vector<std::string> got;
    std::string plain;
    ASSERT_TRUE(p.client.put_ciphertext(cipher.data(), cut));
    drain(p.client, d, got, plain);
    ASSERT_TRUE(p.client.put_ciphertext(cipher.data() + cut, cipher.size() - cut));
    drain(p.client, d, got, plain);
    ASSERT_EQ(got, payloads) << "cut at " << cut << " of " << cipher.size();
    ++offsets;
  }
  EXPECT_GT(offsets, 100u);
}

TEST(TlsSessionTest, CorruptedRecordIsAnError) {
  Pair p;
  connect(p, "localhost");
  std::vector<std::string> payloads;
  std::string cipher = ciphertext_of(p, server_frames(payloads));
  cipher[cipher.size() / 2] ^= 0x01;  // the AEAD tag no longer matches
  ASSERT_TRUE(p.client.put_ciphertext(cipher.data(), cipher.size()));
  std::vector<char> buf(1 << 16);
  std::size_t n = 0;
  TlsStatus st = TlsStatus::kOk;
  while (st == TlsStatus::kOk) st = p.client.read(buf.data(), buf.size(), n);
  EXPECT_EQ(st, TlsStatus::kError);
  EXPECT_NE(std::string(p.client.error()).find("TLS read"), std::string::npos) << p.client.error();
}

TEST(TlsSessionTest, CloseNotifyEndsTheSession) {
  Pair p;
  connect(p, "localhost");
  p.server.shutdown();
  pump(p.server, p.client);
  std::vector<char> buf(256);
  std::size_t n = 0;
  EXPECT_EQ(p.client.read(buf.data(), buf.size(), n), TlsStatus::kClosed);
  EXPECT_NE(std::string(p.client.error()).find("close_notify"), std::string::npos) << p.client.error();
}

TEST(TlsSessionTest, WrongNameFailsTheHandshakeWithTheReason) {
  Pair p;
  std::string err;
  TlsOptions co;
  co.ca_file = certs().cert();
  p.cctx = TlsContext::client(co, err);
  TlsOptions so;
  so.cert_file = certs().cert();
  so.key_file = certs().key_file();
  p.sctx = TlsContext::server(so, err);
  ASSERT_TRUE(p.client.start_client(*p.cctx, "venue.example", err)) << err;
  ASSERT_TRUE(p.server.start_server(*p.sctx, err)) << err;
  TlsStatus c = TlsStatus::kWantMore;
  for (int i = 0; i < 10 && c == TlsStatus::kWantMore; ++i) {
    c = p.client.handshake();
    pump(p.client, p.server);
    p.server.handshake();
    pump(p.server, p.client);
  }
  EXPECT_EQ(c, TlsStatus::kError);
  EXPECT_NE(std::string(p.client.error()).find("hostname mismatch"), std::string::npos) << p.client.error();
}

TEST(TlsSessionTest, WriteBeforeTheHandshakeIsRefused) {
  TlsSession s;
  EXPECT_FALSE(s.write("x", 1));
  EXPECT_NE(std::string(s.error()).find("no established session"), std::string::npos);
}

}  // namespace
