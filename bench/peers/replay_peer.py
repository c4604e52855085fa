#!/usr/bin/env python3
"""replay_peer.py: the seed's Python stack doing shadow-replay's job, as a peer to measure it by.

usage: replay_peer.py [--mode both|preload|end-to-end] [--binance-symbol SYM] CAPTURE

Reads a capture file (gzip or plain, whatever its name; `<local_ns> <json>` lines or plain
JSONL; blank lines skipped), json.loads every line, keeps a dict-based L2 book per symbol the
way the venue defines it, counts the messages, and prints one JSON line on stdout:
  {"peer":"python","file":...,"messages":N,"msgs_per_s_preload":...,"msgs_per_s_end_to_end":...,
   "books":[{"symbol":...,"bid_px":...,"ask_px":...},...],...}
  end-to-end   timed from open to the last line: read + gunzip + json.loads + book
  preload      the decompressed file read into memory first; timed: line split + json.loads + book
  both         (default) end-to-end, then preload on fresh books; both must agree
Books: Binance spot depthUpdate buffered until the REST snapshot line {"lastUpdateId":...}
(symbol: --binance-symbol, else the latest depthUpdate's), events with u <= lastUpdateId
dropped, the first applied one must bridge (U <= lastUpdateId + 1 <= u), then U == previous
u + 1 (Binance "How to manage a local order book correctly"); Bybit v5 orderbook snapshot
replaces the book, delta applies on it, u rises by 1. Quantity 0 deletes a level. bookTicker
and trades are decoded (prices and quantities to float) and counted.
Exit status: 0 done and every book sane (best bid < best ask); 2 usage or unreadable file;
3 a book ended crossed, empty or unsynced.
"""
import gzip
import json
import sys
import time


class Book:
    def __init__(self, venue):
        self.venue, self.bids, self.asks = venue, {}, {}
        self.last = None      # last applied update id; None until synced
        self.pending = []     # Binance depth events that came before the snapshot
        self.gaps = 0

    def apply(self, side, levels):
        for px, qty in levels:
            p, q = float(px), float(qty)
            if q == 0.0:
                side.pop(p, None)
            else:
                side[p] = q

    def reset(self, bids, asks, last):
        self.bids, self.asks, self.last = {}, {}, last
        self.apply(self.bids, bids)
        self.apply(self.asks, asks)

    def summary(self, symbol):
        bid = max(self.bids) if self.bids else None
        ask = min(self.asks) if self.asks else None
        return {"symbol": symbol, "venue": self.venue, "synced": self.last is not None,
                "last_update_id": self.last, "bid_px": bid, "bid_qty": self.bids.get(bid),
                "ask_px": ask, "ask_qty": self.asks.get(ask), "bid_levels": len(self.bids),
                "ask_levels": len(self.asks), "gaps": self.gaps}


class Replay:
    def __init__(self, binance_symbol):
        self.books, self.messages, self.errors, self.trades, self.bbo = {}, 0, 0, 0, 0
        self.binance_symbol, self.latest_binance = binance_symbol, None

    def book(self, symbol, venue):
        b = self.books.get(symbol)
        if b is None:
            b = self.books[symbol] = Book(venue)
        return b

    def binance_depth(self, d):
        self.latest_binance = d["s"]
        b = self.book(d["s"], "binance-spot")
        if b.last is None:
            b.pending.append(d)
        elif d["u"] > b.last:
            if d["U"] != b.last + 1:  # a gap: wait for the next snapshot
                b.gaps += 1
                b.last, b.pending = None, [d]
                return
            b.apply(b.bids, d["b"])
            b.apply(b.asks, d["a"])
            b.last = d["u"]

    def binance_snapshot(self, m):
        symbol = self.binance_symbol or self.latest_binance
        if symbol is None:
            self.errors += 1
            return
        b = self.book(symbol, "binance-spot")
        b.reset(m["bids"], m["asks"], m["lastUpdateId"])
        pending, b.pending = b.pending, []
        for d in pending:
            if d["u"] <= b.last:
                continue
            if b.last == m["lastUpdateId"]:  # the first one must bridge the snapshot
                if not d["U"] <= b.last + 1 <= d["u"]:
                    b.gaps += 1
                    b.last = None
                    return
                d = dict(d, U=b.last + 1)
            self.binance_depth(d)

    def bybit_book(self, m):
        d = m["data"]
        b = self.book(d["s"], "bybit")
        if m["type"] == "snapshot":
            b.reset(d["b"], d["a"], d["u"])
        elif b.last is not None:
            if d["u"] != b.last + 1:
                b.gaps += 1
                b.last = None
                return
            b.apply(b.bids, d["b"])
            b.apply(b.asks, d["a"])
            b.last = d["u"]

    def on_line(self, line):
        line = line.strip()
        if not line:
            return
        if line[0] != 0x7B:  # not '{': a `<local_ns> ` prefix
            line = line.partition(b" ")[2]
        self.messages += 1
        try:
            m = json.loads(line)
            if "stream" in m:
                d = m["data"]
                e = d.get("e")
                if e == "depthUpdate":
                    self.binance_depth(d)
                elif e == "trade":
                    float(d["p"]), float(d["q"])
                    self.trades += 1
                elif "b" in d and "a" in d:  # bookTicker
                    float(d["b"]), float(d["B"]), float(d["a"]), float(d["A"])
                    self.bbo += 1
            elif "lastUpdateId" in m:
                self.binance_snapshot(m)
            elif m.get("topic", "").startswith("orderbook."):
                self.bybit_book(m)
            elif m.get("topic", "").startswith("publicTrade."):
                for t in m["data"]:
                    float(t["p"]), float(t["v"])
                    self.trades += 1
        except (ValueError, KeyError, TypeError, AttributeError, IndexError):
            self.errors += 1


def open_capture(path):
    f = open(path, "rb")
    if f.read(2) == b"\x1f\x8b":
        f.close()
        return gzip.open(path, "rb")
    f.seek(0)
    return f


def end_to_end(path, symbol):
    r = Replay(symbol)
    t0 = time.perf_counter()
    with open_capture(path) as f:
        for line in f:
            r.on_line(line)
    return r, time.perf_counter() - t0


def preload(path, symbol):
    with open_capture(path) as f:
        data = f.read()
    r = Replay(symbol)
    t0 = time.perf_counter()
    for line in data.split(b"\n"):
        r.on_line(line)
    return r, time.perf_counter() - t0


def main(argv):
    mode, symbol, files = "both", None, []
    args = iter(argv)
    for a in args:
        if a in ("-h", "--help"):
            print(__doc__.strip())
            return 0
        if a in ("--mode", "--binance-symbol"):
            v = next(args, None)
            if v is None:
                print(f"replay_peer.py: {a} needs a value", file=sys.stderr)
                return 2
            if a == "--mode":
                mode = v
            else:
                symbol = v
        elif a.startswith("-"):
            print(f"replay_peer.py: unknown option {a!r}\n{__doc__.strip()}", file=sys.stderr)
            return 2
        else:
            files.append(a)
    if mode not in ("both", "preload", "end-to-end") or len(files) != 1:
        print("replay_peer.py: --mode must be both, preload or end-to-end, and one CAPTURE given",
              file=sys.stderr)
        return 2
    out = {"peer": "python", "file": files[0]}
    runs = []
    try:
        for name, fn in (("end_to_end", end_to_end), ("preload", preload)):
            if mode in ("both", name.replace("_", "-")):
                r, secs = fn(files[0], symbol)
                out[f"msgs_per_s_{name}"] = r.messages / secs if secs > 0 else 0.0
                out[f"seconds_{name}"] = secs
                runs.append(r)
    except (OSError, EOFError, gzip.BadGzipFile) as e:
        print(f"replay_peer.py: {files[0]}: {e}", file=sys.stderr)
        return 2
    r = runs[0]
    books = [b.summary(s) for s, b in sorted(r.books.items())]
    out.update(messages=r.messages, decode_errors=r.errors, trades=r.trades, bbo=r.bbo, books=books)
    print(json.dumps(out))
    if len(runs) == 2 and (runs[1].messages != r.messages or
                           [b.summary(s) for s, b in sorted(runs[1].books.items())] != books):
        print("replay_peer.py: the preload and end-to-end passes disagree", file=sys.stderr)
        return 3
    for b in books:
        if not b["synced"] or b["bid_px"] is None or b["ask_px"] is None or \
                b["bid_px"] >= b["ask_px"]:
            print(f"replay_peer.py: book {b['symbol']} is not sane at the end: {b}", file=sys.stderr)
            return 3
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
