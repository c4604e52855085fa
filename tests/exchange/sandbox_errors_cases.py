"""The error paths of sandbox_client_test.py: authentication (10003/10004/10002), the rate limit
(10006 and the X-Bapi-Limit* headers), HTTP 404/413, and every order rejection with Bybit's
retCode (linear 10001 or the 110000s, spot the 170000s). A rejected request never leaves an order behind.
"""
import json
import time
from decimal import Decimal

from bybit_v5_client import Client
from sandbox_case import SYM, SandboxCase, link, px


class AuthAndLimitsTest(SandboxCase):
    def test_unknown_key_is_10003(self):
        stranger = Client(self.sandbox.rest_port, "NoSuchKey42", "whatever")
        self.err(stranger.get("/v5/order/realtime", {"category": "linear", "symbol": SYM}), 10003)
        self.err(stranger.post("/v5/order/create", {"category": "linear", "symbol": SYM, "side": "Buy",
                                                     "orderType": "Market", "qty": "0.001"}), 10003)

    def test_bad_signature_is_10004(self):
        forger = Client(self.sandbox.rest_port, self.c.api_key, "not-the-secret")
        self.err(forger.get("/v5/order/realtime", {"category": "linear", "symbol": SYM}), 10004)
        body = {"category": "linear", "symbol": SYM, "side": "Buy", "orderType": "Market", "qty": "0.001"}
        self.err(forger.post("/v5/order/create", body), 10004)
        # the right secret over a different payload: the body sent is not the body signed
        signed = json.dumps(body)
        sent = signed.replace('"0.001"', '"0.002"')
        ts = int(time.time() * 1000)
        self.err(self.c.post("/v5/order/create", None, raw=sent, timestamp=ts,
                             signature=self.c.sign(ts, 5000, signed)), 10004)
        self.assertEqual(self.open_ids("linear"), [])
        self.assertEqual(self.ok(self.c.get("/v5/execution/list", {"category": "linear"}), "execution/list")["list"], [])

    def test_timestamp_outside_recv_window_is_10002(self):
        now = int(time.time() * 1000)
        q = {"category": "linear", "symbol": SYM}
        self.err(self.c.get("/v5/order/realtime", q, timestamp=now - 10000, recv_window=5000), 10002)
        self.err(self.c.get("/v5/order/realtime", q, timestamp=now + 4000), 10002)  # >= server time + 1 s
        self.err(self.c.post("/v5/order/cancel-all", q, timestamp=now - 60000), 10002)
        # inside a wider recv_window the same age is fine
        self.ok(self.c.get("/v5/order/realtime", q, timestamp=now - 8000, recv_window=20000),
                "order/realtime", "linear")

    def test_payload_signed_exactly_as_sent(self):
        # GET: the query in any order; POST: any spacing and key order, as long as it is what was signed
        self.ok(self.c.get("/v5/order/realtime", [("symbol", SYM), ("category", "linear")]), "order/realtime", "linear")
        bid, _ = self.book("linear")
        raw = '{"symbol":"%s","qty":"0.001","category":"linear","price":"%s","side":"Buy","orderType":"Limit"}' % (
            SYM, px(bid - 400))
        self.ok(self.c.post("/v5/order/create", None, raw=raw), "order/ack")
        self.ok(self.c.post("/v5/order/create", None, raw=" {\n  " + raw[1:]), "order/ack")
        self.assertEqual(len(self.open_ids("linear")), 2)

    def test_rate_limit_is_10006_with_headers(self):
        bid, _ = self.book("linear")
        body = {"category": "linear", "symbol": SYM, "side": "Buy", "orderType": "Limit", "qty": "0.001",
                "price": px(bid - 500)}
        t0 = int(time.time() * 1000)
        resps = [self.c.post("/v5/order/create", body) for _ in range(13)]
        elapsed = int(time.time() * 1000) - t0
        self.assertLess(elapsed, 900, "13 requests took %d ms: no burst" % elapsed)
        codes = [r.ret_code for r in resps]
        self.assertEqual(codes, [0] * 10 + [10006] * 3, resps)
        for i, r in enumerate(resps):
            self.envelope(r)
            self.assertEqual(r.header("X-Bapi-Limit"), "10", r)  # linear order/create: 10/s
            self.assertEqual(r.header("X-Bapi-Limit-Status"), str(max(9 - i, 0)), r)
            reset = int(r.header("X-Bapi-Limit-Reset-Timestamp"))
            if r.ret_code == 10006:  # when the window lets the next one in
                self.assertEqual(r.json["retMsg"], "Too many visits!", r)  # quoted by the rate-limit page
                self.assertTrue(r.json["time"] <= reset <= t0 + 1000 + 50, (r, t0))
            else:  # "otherwise, this is just the current timestamp"
                self.assertLessEqual(abs(reset - r.json["time"]), 1000, r)
        self.assertEqual(len(self.open_ids("linear")), 10)
        # once the window has passed, orders go in again
        time.sleep(max(0, (int(resps[-1].header("X-Bapi-Limit-Reset-Timestamp")) - time.time() * 1000) / 1000) + 0.05)
        self.ok(self.c.post("/v5/order/create", body), "order/ack")
        # other endpoints have their own budgets (GET lists: 50/s)
        r = self.c.get("/v5/order/realtime", {"category": "linear", "symbol": SYM})
        self.assertEqual((r.ret_code, r.header("X-Bapi-Limit")), (0, "50"), r)

    def test_spot_order_create_limit_is_documented_20(self):
        bid, _ = self.book("spot")
        r = self.c.post("/v5/order/create", {"category": "spot", "symbol": SYM, "side": "Buy", "orderType": "Limit",
                                             "qty": "0.001", "price": px(bid - 500)})
        self.assertEqual(r.ret_code, 0, r)
        self.assertEqual(r.header("X-Bapi-Limit"), "20", "spot order/create is 20/s in Bybit's table: %r" % r)

    def test_lower_case_method_is_400(self):
        self.assertEqual(self.c.send("get", "/v5/market/time").status, 400)  # "must be capitalized"

    def test_unknown_path_is_404(self):
        self.assertEqual(self.c.get("/v5/order/no-such-endpoint", {"category": "linear"}).status, 404)
        self.assertEqual(self.c.post("/v5/no/such", {"category": "linear"}).status, 404)

    def test_oversized_body_is_413(self):
        body = {"category": "linear", "symbol": SYM, "side": "Buy", "orderType": "Market", "qty": "0.001",
                "orderLinkId": "x", "pad": "y" * (70 * 1024)}
        self.assertEqual(self.c.post("/v5/order/create", body).status, 413)
        self.assertEqual(self.open_ids("linear"), [])


class OrderErrorsTest(SandboxCase):
    def tearDown(self):
        # a rejected request leaves nothing behind
        for cat in ("linear", "spot"):
            self.assertEqual(sorted(self.open_ids(cat)), sorted(getattr(self, "kept_" + cat, [])), cat)

    def create_err(self, category, code, **order):
        body = {"category": category, "symbol": SYM}
        body.update(order)
        self.err(self.c.post("/v5/order/create", body), code)

    def limit(self, side="Buy", qty="0.001", offset=-100, **extra):
        bid, ask = self.book(extra.pop("category", "linear"))
        price = px((bid if side == "Buy" else ask) + offset) if not isinstance(offset, str) else offset
        order = {"side": side, "orderType": "Limit", "qty": qty, "price": price}
        order.update(extra)
        return order

    def test_malformed_missing_wrong_type_unknown_negative_is_10001(self):
        raw = '{"category": "linear", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Market", "qty": '
        self.err(self.c.post("/v5/order/create", None, raw=raw), 10001)
        self.err(self.c.post("/v5/order/create", None, raw="[1, 2]"), 10001)
        order = self.limit()
        for broken in ({k: v for k, v in order.items() if k != "side"},     # missing field
                       {k: v for k, v in order.items() if k != "qty"},
                       dict(order, qty=0.001),                                # number, not string
                       dict(order, reduceOnly="false"),                       # string, not bool
                       dict(order, sideways="Buy"),                           # unknown parameter
                       dict(order, qty="-0.001"),                             # negative
                       dict(order, qty="0"),
                       dict(order, side="buy"),                               # case-sensitive enum
                       dict(order, price=px(Decimal(order["price"])) + "5")):  # off tick (linear)
            self.create_err("linear", 10001, **broken)
        self.err(self.c.post("/v5/order/create", {"symbol": SYM, "side": "Buy", "orderType": "Market",
                                                  "qty": "0.001"}), 10001)    # no category

    def test_documented_parameter_rules_are_10001(self):
        # linear needs symbol, baseCoin or settleCoin to list or cancel-all; orderLinkId is at most 36
        # characters; qty a multiple of qtyStep
        self.err(self.c.get("/v5/order/realtime", {"category": "linear"}), 10001)
        self.err(self.c.post("/v5/order/cancel-all", {"category": "linear"}), 10001)
        self.create_err("linear", 10001, **self.limit(orderLinkId="x" * 37))
        self.create_err("linear", 10001, **self.limit(qty="0.0015"))

    def test_spot_qty_beyond_base_precision_is_170137(self):
        self.create_err("spot", 170137, **self.limit(category="spot", qty="0.0015"))

    def test_spot_off_tick_price_is_170134(self):
        order = self.limit(category="spot")
        self.create_err("spot", 170134, **dict(order, price=order["price"] + "5"))

    def test_duplicate_order_link_id(self):
        for cat, code in (("linear", 110072), ("spot", 170141)):
            lid = link("dup")
            first = self.create(cat, **self.limit(category=cat, orderLinkId=lid))
            self.create_err(cat, code, **self.limit(category=cat, orderLinkId=lid, offset=-120))
            row = self.order(cat, first)
            self.assertEqual((row["orderStatus"], row["orderLinkId"]), ("New", lid))
            setattr(self, "kept_" + cat, [first])

    def test_cancel_or_amend_unknown_order(self):
        for cat, code in (("linear", 110001), ("spot", 170213)):
            for ident in ({"orderId": "00000000-0000-0000-0000-000000000000"}, {"orderLinkId": "never-placed"}):
                self.err(self.c.post("/v5/order/cancel", dict(ident, category=cat, symbol=SYM)), code)
            # a finished order cannot be cancelled either
            oid = self.create(cat, **self.limit(category=cat))
            self.ok(self.c.post("/v5/order/cancel", {"category": cat, "symbol": SYM, "orderId": oid}), "order/ack")
            self.assertEqual(self.order(cat, oid, final=True)["orderStatus"], "Cancelled")
            self.err(self.c.post("/v5/order/cancel", {"category": cat, "symbol": SYM, "orderId": oid}), code)

    def test_insufficient_balance(self):
        self.c = self.sandbox.client(poor=True)  # 10 USDT, no BTC
        self.create_err("linear", 110007, **self.limit(qty="0.01"))  # 650 USDT notional, 65 margin
        self.create_err("spot", 170131, **self.limit(category="spot", qty="0.001"))  # 65 USDT
        self.create_err("spot", 170131, **self.limit(category="spot", side="Sell", offset=100))  # no BTC
        self.create_err("spot", 170131, side="Sell", orderType="Market", qty="0.001")

    def test_reduce_only_without_position_is_110017(self):
        self.create_err("linear", 110017, side="Sell", orderType="Market", qty="0.001", reduceOnly=True)
        self.create_err("linear", 110017, **self.limit(side="Sell", offset=100, reduceOnly=True))

    def test_below_min_notional(self):
        self.create_err("linear", 110094, **self.limit(offset="1000.0"))   # 0.001 x 1000 = 1 USDT < 5
        self.create_err("spot", 170140, **self.limit(category="spot", offset="1000.0"))

    def test_amend_unchanged_is_10001(self):
        order = self.limit()
        oid = self.create("linear", **order)
        base = {"category": "linear", "symbol": SYM, "orderId": oid}
        self.err(self.c.post("/v5/order/amend", dict(base, price=order["price"])), 10001)
        self.err(self.c.post("/v5/order/amend", dict(base, qty=order["qty"], price=order["price"])), 10001)
        row = self.order("linear", oid)
        self.assertEqual((row["orderStatus"], Decimal(row["price"]), Decimal(row["qty"])),
                         ("New", Decimal(order["price"]), Decimal(order["qty"])))
        self.kept_linear = [oid]
