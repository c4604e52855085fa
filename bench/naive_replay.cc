// naive-replay: a naive C++ pipeline doing shadow-replay's job, the peer it is measured against
// (bench/replay_peers.py, `make bench-replay`; docs/PERFORMANCE.md "Replay").
//
// What a first C++ version would look like: blocking reads one line at a time (zlib's gzgets,
// which reads gzip and plain files alike), a nlohmann::json DOM per line, std::stod on every
// price and quantity, and a std::map<double, double> per side per symbol. The book rules are
// bench/peers/replay_peer.py's (and shadow's): Binance spot depthUpdate buffered until the REST
// snapshot line, the first applied event bridges lastUpdateId, then U == previous u + 1; Bybit
// v5 orderbook snapshot / delta with u rising by 1; quantity 0 deletes the level. Prints one
// JSON line with the same fields as the Python peer.
#include <zlib.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "core/cli.h"
#include "core/exit_codes.h"

namespace {

using nlohmann::json;
using namespace shadow;

constexpr const char* kUsage =
    "usage: naive-replay [--mode both|preload|end-to-end] [--binance-symbol SYM] CAPTURE\n"
    "\n"
    "The naive C++ peer of shadow-replay: gzgets line by line, nlohmann::json per line,\n"
    "std::map books. Prints one JSON line: messages, msgs_per_s_end_to_end and/or\n"
    "msgs_per_s_preload, each book's best bid and ask.\n"
    "  --mode M              end-to-end: timed from open to the last line (read + gunzip +\n"
    "                        parse + book); preload: the file read into memory first, timed\n"
    "                        getline + parse + book; both (default): one, then the other\n"
    "  --binance-symbol SYM  symbol of Binance REST snapshot lines (default: the latest\n"
    "                        depthUpdate's)\n"
    "\n"
    "Exit status: 0 done and every book sane (best bid < best ask); 2 usage error or unreadable\n"
    "file; 3 a book ended crossed, empty or unsynced, or the two passes disagree.\n";

struct Book {
  std::string venue;
  std::map<double, double, std::greater<double>> bids;
  std::map<double, double> asks;
  bool synced = false;
  std::uint64_t last = 0;     // last applied update id, when synced
  std::vector<json> pending;  // Binance depth events that came before the snapshot
  std::uint64_t gaps = 0;
};

double num(const json& v) { return std::stod(v.get<std::string>()); }

template <class Side>
void apply(Side& side, const json& levels) {
  for (const json& l : levels) {
    const double px = num(l.at(0));
    const double qty = num(l.at(1));
    if (qty == 0.0) {
      side.erase(px);
    } else {
      side[px] = qty;
    }
  }
}

class Replay {
 public:
  explicit Replay(std::string binance_symbol) : binance_symbol_(std::move(binance_symbol)) {}

  void on_line(std::string line) {
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r' || line.back() == ' ')) {
      line.pop_back();
    }
    if (line.empty()) return;
    if (line[0] != '{') line.erase(0, line.find(' ') == std::string::npos ? line.size() : line.find(' ') + 1);
    ++messages;
    try {
      const json m = json::parse(line);
      if (m.contains("stream")) {
        const json& d = m.at("data");
        const std::string e = d.value("e", "");
        if (e == "depthUpdate") {
          binance_depth(d);
        } else if (e == "trade") {
          price_sum_ += num(d.at("p")) * num(d.at("q"));
          ++trades;
        } else if (d.contains("b") && d.contains("a")) {  // bookTicker
          price_sum_ += num(d.at("b")) + num(d.at("B")) + num(d.at("a")) + num(d.at("A"));
          ++bbo;
        }
      } else if (m.contains("lastUpdateId")) {
        binance_snapshot(m);
      } else if (m.contains("topic")) {
        const std::string topic = m.at("topic").get<std::string>();
        if (topic.rfind("orderbook.", 0) == 0) {
          bybit_book(m);
        } else if (topic.rfind("publicTrade.", 0) == 0) {
          for (const json& t : m.at("data")) {
            price_sum_ += num(t.at("p")) * num(t.at("v"));
            ++trades;
          }
        }
      }
    } catch (const std::exception&) {  // nlohmann's parse/type errors, std::stod's
      ++errors;
    }
  }

  // The trade and bookTicker conversions' sum, so they are not optimised away.
  double price_sum() const { return price_sum_; }

  std::uint64_t messages = 0, errors = 0, trades = 0, bbo = 0;
  std::map<std::string, Book> books;

 private:
  Book& book(const std::string& symbol, const char* venue) {
    Book& b = books[symbol];
    b.venue = venue;
    return b;
  }

  void binance_depth(const json& d) {
    latest_binance_ = d.at("s").get<std::string>();
    Book& b = book(latest_binance_, "binance-spot");
    if (!b.synced) {
      b.pending.push_back(d);
      return;
    }
    const auto first = d.at("U").get<std::uint64_t>(), last = d.at("u").get<std::uint64_t>();
    if (last <= b.last) return;
    if (first != b.last + 1) {  // a gap: wait for the next snapshot
      ++b.gaps;
      b.synced = false;
      b.pending = {d};
      return;
    }
    apply(b.bids, d.at("b"));
    apply(b.asks, d.at("a"));
    b.last = last;
  }

  void binance_snapshot(const json& m) {
    const std::string symbol = binance_symbol_.empty() ? latest_binance_ : binance_symbol_;
    if (symbol.empty()) {
      ++errors;
      return;
    }
    Book& b = book(symbol, "binance-spot");
    b.bids.clear();
    b.asks.clear();
    apply(b.bids, m.at("bids"));
    apply(b.asks, m.at("asks"));
    const auto id = m.at("lastUpdateId").get<std::uint64_t>();
    b.last = id;
    b.synced = true;
    std::vector<json> pending;
    pending.swap(b.pending);
    for (json& d : pending) {
      const auto first = d.at("U").get<std::uint64_t>(), last = d.at("u").get<std::uint64_t>();
      if (last <= b.last) continue;
      if (b.last == id) {  // the first one must bridge the snapshot
        if (!(first <= id + 1 && id + 1 <= last)) {
          ++b.gaps;
          b.synced = false;
          return;
        }
        d["U"] = id + 1;
      }
      binance_depth(d);
    }
  }

  void bybit_book(const json& m) {
    const json& d = m.at("data");
    Book& b = book(d.at("s").get<std::string>(), "bybit");
    const auto u = d.at("u").get<std::uint64_t>();
    if (m.at("type").get<std::string>() == "snapshot") {
      b.bids.clear();
      b.asks.clear();
    } else if (!b.synced) {
      return;
    } else if (u != b.last + 1) {
      ++b.gaps;
      b.synced = false;
      return;
    }
    apply(b.bids, d.at("b"));
    apply(b.asks, d.at("a"));
    b.last = u;
    b.synced = true;
  }

  std::string binance_symbol_, latest_binance_;
  double price_sum_ = 0;
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// One line from a gzip or plain file, blocking: gzgets into a fixed buffer until the newline.
bool next_line(gzFile f, std::string& line) {
  char buf[65536];
  line.clear();
  while (gzgets(f, buf, sizeof buf) != nullptr) {
    line += buf;
    if (line.back() == '\n') return true;
  }
  return !line.empty();
}

// Fails with the file's name and zlib's reason; "" when the stream ended cleanly.
std::string gz_error(gzFile f, const std::string& path) {
  int code = Z_OK;
  const char* msg = gzerror(f, &code);
  if (code == Z_OK || code == Z_STREAM_END) return "";
  return path + ": " + msg;
}

bool end_to_end(const std::string& path, Replay& r, double& secs, std::string& error) {
  const auto t0 = std::chrono::steady_clock::now();
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr) {
    error = path + ": cannot open";
    return false;
  }
  std::string line;
  while (next_line(f, line)) r.on_line(line);
  error = gz_error(f, path);
  gzclose(f);
  secs = seconds_since(t0);
  return error.empty();
}

bool preload(const std::string& path, Replay& r, double& secs, std::string& error) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr) {
    error = path + ": cannot open";
    return false;
  }
  std::string data;
  char buf[65536];
  int n = 0;
  while ((n = gzread(f, buf, sizeof buf)) > 0) data.append(buf, static_cast<std::size_t>(n));
  error = n < 0 ? gz_error(f, path) : "";
  gzclose(f);
  if (!error.empty()) return false;
  const auto t0 = std::chrono::steady_clock::now();
  std::istringstream in(data);
  std::string line;
  while (std::getline(in, line)) r.on_line(line);
  secs = seconds_since(t0);
  return true;
}

json book_json(const std::string& symbol, const Book& b) {
  json o = {{"symbol", symbol}, {"venue", b.venue}, {"synced", b.synced},
            {"last_update_id", b.synced ? json(b.last) : json(nullptr)},
            {"bid_levels", b.bids.size()}, {"ask_levels", b.asks.size()}, {"gaps", b.gaps}};
  o["bid_px"] = b.bids.empty() ? json(nullptr) : json(b.bids.begin()->first);
  o["bid_qty"] = b.bids.empty() ? json(nullptr) : json(b.bids.begin()->second);
  o["ask_px"] = b.asks.empty() ? json(nullptr) : json(b.asks.begin()->first);
  o["ask_qty"] = b.asks.empty() ? json(nullptr) : json(b.asks.begin()->second);
  return o;
}

json books_json(const Replay& r) {
  json books = json::array();
  for (const auto& [symbol, b] : r.books) books.push_back(book_json(symbol, b));
  return books;
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = "both", symbol, file;
  cli::Args cl("naive-replay", kUsage, argc, argv);
  while (cl.next()) {
    if (cl.is("--mode")) {
      mode = cl.value();
      if (mode != "both" && mode != "preload" && mode != "end-to-end") {
        cl.fail("--mode must be both, preload or end-to-end, not '" + printable(mode) + "'");
      }
    } else if (cl.is("--binance-symbol")) {
      symbol = cl.value();
    } else if (cl.is_option()) {
      cl.fail("unknown option " + printable(cl.arg()));
    } else if (file.empty()) {
      file = cl.arg();
    } else {
      cl.fail("one CAPTURE only");
    }
  }
  if (file.empty()) cl.fail("no capture file given");

  json out = {{"peer", "naive-cpp"}, {"file", file}};
  std::vector<Replay> runs;
  for (const char* pass : {"end-to-end", "preload"}) {
    if (mode != "both" && mode != pass) continue;
    Replay& r = runs.emplace_back(symbol);
    double secs = 0;
    std::string error;
    const bool e2e = std::string(pass) == "end-to-end";
    if (!(e2e ? end_to_end(file, r, secs, error) : preload(file, r, secs, error))) {
      std::fprintf(stderr, "naive-replay: %s\n", error.c_str());
      return kExitBadInput;
    }
    const std::string name = e2e ? "end_to_end" : "preload";
    out["msgs_per_s_" + name] = secs > 0 ? static_cast<double>(r.messages) / secs : 0.0;
    out["seconds_" + name] = secs;
  }
  const Replay& r = runs.front();
  out["messages"] = r.messages;
  out["decode_errors"] = r.errors;
  out["trades"] = r.trades;
  out["bbo"] = r.bbo;
  out["books"] = books_json(r);
  std::printf("%s\n", out.dump().c_str());
  if (runs.size() == 2 && (runs[1].messages != r.messages || books_json(runs[1]) != out["books"] ||
                           runs[1].price_sum() != r.price_sum())) {
    std::fprintf(stderr, "naive-replay: the preload and end-to-end passes disagree\n");
    return kExitRuntimeFailure;
  }
  for (const json& b : out["books"]) {
    if (!b["synced"].get<bool>() || b["bid_px"].is_null() || b["ask_px"].is_null() ||
        b["bid_px"].get<double>() >= b["ask_px"].get<double>()) {
      std::fprintf(stderr, "naive-replay: book %s is not sane at the end: %s\n",
                   b["symbol"].get<std::string>().c_str(), b.dump().c_str());
      return kExitRuntimeFailure;
    }
  }
  return kExitOk;
}
