"""The fixture of sandbox_client_test.py: one shadow-exchange (bybit_v5_client.Sandbox) per test
class, a fresh account per test, and the checks every call goes through (envelope, retCode, the
documented shape of the result).
"""
import os
import sys
import time
import unittest
from decimal import Decimal

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import requirements  # noqa: E402,F401
import bybit_doc_examples as docs  # noqa: E402
from bybit_v5_client import Sandbox, shape_errors  # noqa: E402

BINARY = None  # set by main() in the test file; read at call time
SYM = "BTCUSDT"
TICK = Decimal("0.1")
FINAL = {"Filled", "Cancelled", "Rejected", "PartiallyFilledCanceled", "Deactivated"}
_link = [0]


def link(tag):
    _link[0] += 1
    return "%s-%d-%d" % (tag, os.getpid() % 10000, _link[0])


def px(value):
    return str(Decimal(value).quantize(TICK))


class SandboxCase(unittest.TestCase):
    reported = set()  # (endpoint, differences) already failed in this run

    @classmethod
    def setUpClass(cls):
        cls.sandbox = Sandbox(BINARY)

    @classmethod
    def tearDownClass(cls):
        rc, err = cls.sandbox.stop()
        assert rc == 0, "shadow-exchange exit status %r, stderr %s" % (rc, err[-2000:])
        assert "Sanitizer" not in err and "runtime error" not in err, err[-2000:]

    def setUp(self):
        self.c = self.sandbox.client()

    # --- responses ---------------------------------------------------------------------------
    def envelope(self, resp):
        self.assertEqual(resp.status, 200, resp)
        self.assertIsInstance(resp.json, dict, resp)
        self.assertEqual(shape_errors(resp.json, docs.ENVELOPE, "body"), [], resp)

    def ok(self, resp, endpoint, category=None):
        """Envelope, retCode 0, result shaped like the documented example; returns result."""
        self.envelope(resp)
        self.assertEqual(resp.ret_code, 0, resp)
        self.check_shape(resp, resp.result, docs.result(endpoint, category), "%s %s" % (endpoint, category or ""))
        return resp.result

    def check_shape(self, resp, actual, example, what):
        """A shape difference fails the test but lets it go on (subTest), so one missing key does
        not hide what the rest of the test checks; each distinct difference is reported once."""
        errors = shape_errors(actual, example)
        if errors and (what, tuple(errors)) not in SandboxCase.reported:
            SandboxCase.reported.add((what, tuple(errors)))
            with self.subTest(documented_shape=what):
                self.fail("%s differs from the documented example:\n  %s\nresponse: %r"
                          % (what, "\n  ".join(errors), resp))

    def err(self, resp, code):
        self.envelope(resp)
        self.assertEqual(resp.ret_code, code, resp)
        self.assertNotEqual(resp.json["retMsg"], "", resp)

    # --- trading helpers ---------------------------------------------------------------------
    def book(self, category):
        r = self.ok(self.c.get("/v5/market/orderbook", {"category": category, "symbol": SYM, "limit": 5},
                               signed=False), "market/orderbook")
        return Decimal(r["b"][0][0]), Decimal(r["a"][0][0])

    def create(self, category, **order):
        body = {"category": category, "symbol": SYM}
        body.update(order)
        r = self.ok(self.c.post("/v5/order/create", body), "order/ack")
        if "orderLinkId" in order:
            self.assertEqual(r["orderLinkId"], order["orderLinkId"])
        self.assertNotEqual(r["orderId"], "")
        return r["orderId"]

    def realtime(self, category, **query):
        q = {"category": category}
        q.update(query)
        return self.ok(self.c.get("/v5/order/realtime", q), "order/realtime", category)["list"]

    def order(self, category, order_id, final=False):
        """The order by orderId; with final=True, once it reached a final status (≤ 5 s)."""
        deadline = time.monotonic() + 5
        while True:
            rows = self.realtime(category, orderId=order_id)
            self.assertEqual(len(rows), 1, rows)
            if not final or rows[0]["orderStatus"] in FINAL or time.monotonic() > deadline:
                return rows[0]
            time.sleep(0.02)

    def history(self, category, order_id):
        rows = self.ok(self.c.get("/v5/order/history", {"category": category, "orderId": order_id}),
                       "order/history", category)["list"]
        self.assertEqual([r["orderId"] for r in rows], [order_id])
        return rows[0]

    def execs(self, category, order_id):
        rows = self.ok(self.c.get("/v5/execution/list", {"category": category, "orderId": order_id}),
                       "execution/list")["list"]
        for e in rows:
            self.assertEqual((e["orderId"], e["symbol"], e["execType"]), (order_id, SYM, "Trade"), e)
        return rows

    def wallet(self, coin):
        r = self.ok(self.c.get("/v5/account/wallet-balance", {"accountType": "UNIFIED"}), "account/wallet-balance")
        self.assertEqual(len(r["list"]), 1, r)
        self.assertEqual(r["list"][0]["accountType"], "UNIFIED")
        coins = {c["coin"]: c for c in r["list"][0]["coin"]}
        return coins.get(coin, {"walletBalance": "0", "locked": "0"})

    def position(self):
        rows = self.ok(self.c.get("/v5/position/list", {"category": "linear", "symbol": SYM}), "position/list")["list"]
        self.assertEqual(len(rows), 1, rows)
        self.assertEqual((rows[0]["symbol"], rows[0]["positionIdx"]), (SYM, 0))
        return rows[0]

    def open_ids(self, category):
        return [o["orderId"] for o in self.realtime(category, symbol=SYM)]


def total(rows, key):
    return sum((Decimal(r[key]) for r in rows), Decimal(0))
