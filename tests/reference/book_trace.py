#!/usr/bin/env python3
"""Independent reference for shadow-replay's --book-trace.

Written from the venue documentation only, in plain Python with exact decimals and dict books,
sharing no code with the C++ implementation, so that diffing the two traces checks the decoders,
the sync rules and the trace format at once.

Trace line per book message applied to a synced book:
    symbol \t update_id \t best_bid_px \t best_bid_qty \t best_ask_px \t best_ask_qty
canonical decimals, "-" for both columns of an empty side.

Rules (DESIGN.md, Bybit v5 "Orderbook" and Binance "How to manage a local order book correctly"):
  Bybit: a snapshot, or any message with u == 1, resets the book; a delta must have
         u == previous u + 1, else the book is out of sync until the next snapshot.
  Binance: depth events are buffered until the REST snapshot (lastUpdateId L); events with
         u <= L (futures: u < L) are stale; the first applied event must bridge (spot U <= L+1 <= u, futures
         U <= L <= u) and the following ones continue (spot U == prev u + 1, futures
         pu == prev u); a break drops sync and buffering starts again from the breaking event.
"""
import json
import os
import sys
from decimal import Decimal

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from capture_file import capture_messages  # noqa: E402


def canon(d):
    s = format(d.normalize(), "f")
    return s


class Book:
    def __init__(self):
        self.bids, self.asks = {}, {}

    def reset(self):
        self.bids.clear()
        self.asks.clear()

    def apply(self, bids, asks):
        for side, levels in ((self.bids, bids), (self.asks, asks)):
            for px, qty in levels:
                p, q = Decimal(px), Decimal(qty)
                if q == 0:
                    side.pop(p, None)
                else:
                    side[p] = q

    def line(self, symbol, uid):
        cols = [symbol, str(uid)]
        if self.bids:
            p = max(self.bids)
            cols += [canon(p), canon(self.bids[p])]
        else:
            cols += ["-", "-"]
        if self.asks:
            p = min(self.asks)
            cols += [canon(p), canon(self.asks[p])]
        else:
            cols += ["-", "-"]
        return "\t".join(cols)


open_capture = capture_messages


def bybit_trace(lines, out):
    state = {}  # symbol -> [book, synced, last_u]
    for raw in lines:
        msg = json.loads(raw)
        topic = msg.get("topic", "")
        if not topic.startswith("orderbook."):
            continue
        data = msg["data"]
        sym, u = data["s"], int(data["u"])
        book, synced, last = state.setdefault(sym, [Book(), False, 0])
        if msg.get("type") == "snapshot" or u == 1:
            book.reset()
            book.apply(data.get("b", []), data.get("a", []))
            state[sym] = [book, True, u]
        elif synced and u == last + 1:
            book.apply(data.get("b", []), data.get("a", []))
            state[sym] = [book, True, u]
        else:
            state[sym] = [book, False, last]
            continue
        out.append(book.line(sym, u))


def binance_trace(lines, out):
    book, synced, last, futures = Book(), False, 0, False
    buffered, symbol = [], None

    def continues(ev):
        if "pu" in ev:
            return int(ev["pu"]) == last
        return int(ev["U"]) == last + 1

    def bridges(ev, lid):
        lo, hi = int(ev["U"]), int(ev["u"])
        return lo <= lid <= hi if "pu" in ev else lo <= lid + 1 <= hi

    def apply(ev):
        nonlocal last
        book.apply(ev.get("b", []), ev.get("a", []))
        last = int(ev["u"])
        out.append(book.line(ev["s"], last))

    for raw in lines:
        msg = json.loads(raw)
        if "lastUpdateId" in msg:
            lid = int(msg["lastUpdateId"])
            book.reset()
            book.apply(msg.get("bids", []), msg.get("asks", []))
            synced, last = True, lid
            out.append(book.line(symbol, lid))
            pending, buffered = buffered, []
            first = True
            for i, ev in enumerate(pending):
                # Stale: spot drops u <= L; futures drops only u < L, since an event ending
                # exactly at L is the one that bridges (U <= L <= u).
                if int(ev["u"]) < lid or (int(ev["u"]) == lid and "pu" not in ev):
                    continue
                ok = bridges(ev, lid) if first else continues(ev)
                first = False
                if not ok:
                    synced, buffered = False, pending[i:]
                    break
                apply(ev)
            continue
        data = msg.get("data", msg)
        if data.get("e") != "depthUpdate":
            continue
        symbol = data["s"]
        if not synced:
            buffered.append(data)
        elif int(data["u"]) <= last:
            continue  # stale duplicate
        elif continues(data):
            apply(data)
        else:
            synced, buffered = False, [data]


def main(argv):
    out = []
    for path in argv[1:]:
        lines = list(open_capture(path))
        first = lines[0] if lines else ""
        if '"topic"' in first or '"op"' in first:
            bybit_trace(lines, out)
        else:
            binance_trace(lines, out)
    sys.stdout.write("".join(line + "\n" for line in out))


if __name__ == "__main__":
    main(sys.argv)
