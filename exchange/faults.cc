#include "exchange/faults.h"

#include <cstdio>

#include "exchange/ws_server.h"

namespace shadow {
namespace {

constexpr const char* kNames[] = {"dropped_deltas",   "disconnects",    "stalls",
                                  "malformed_frames", "malformed_json", "oversized_frames",
                                  "bad_handshakes"};
static_assert(sizeof kNames / sizeof kNames[0] == static_cast<int>(FaultKind::kCount));

}  // namespace

std::string FaultInjector::summary() const {
  std::string s;
  for (int k = 0; k < static_cast<int>(FaultKind::kCount); ++k) {
    if (k) s += ' ';
    s += kNames[k];
    s += '=';
    s += std::to_string(counts_[k]);
  }
  return s;
}

std::string FaultInjector::json() const {
  std::string s = "{";
  for (int k = 0; k < static_cast<int>(FaultKind::kCount); ++k) {
    if (k) s += ',';
    s += '"';
    s += kNames[k];
    s += "\":";
    s += std::to_string(counts_[k]);
  }
  s += '}';
  return s;
}

void FaultInjector::append_rsv1_frame(std::string& out, std::string_view text) {
  char h[kWsServerMaxHeader];
  const std::size_t n = ws_server_frame_header(WsOpcode::kText, text.size(), h);
  h[0] = static_cast<char>(static_cast<unsigned char>(h[0]) | 0x40);  // RSV1
  out.append(h, n);
  out.append(text);
}

void FaultInjector::append_truncated_json(std::string& out, std::string_view text) {
  std::size_t cut = text.size() / 2;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  ws_append_server_frame(out, WsOpcode::kText, text.substr(0, cut));
}

void FaultInjector::append_oversized_header(std::string& out, std::string_view text) {
  char h[10];
  h[0] = static_cast<char>(0x81);  // FIN | text
  h[1] = 127;                      // 64-bit extended payload length follows (§5.2)
  for (int i = 0; i < 8; ++i)
    h[2 + i] = static_cast<char>((kOversizedLength >> (8 * (7 - i))) & 0xFF);
  out.append(h, sizeof h);
  out.append(text);  // "some bytes" of the promised payload; the rest never comes
}

}  // namespace shadow
