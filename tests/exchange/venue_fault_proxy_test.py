"""tests/peers/venue_fault_proxy.py, the dry-run fault tests' proxy, between shadow-exchange (one
account from SHADOW_SANDBOX_API_KEY/SECRET) and the independent Bybit v5 client
(bybit_v5_client.py): requests pass untouched over keep-alive, and every fault does what the
order gateway will be tested against -- 5xx, rate limit, a timeout after the venue accepted the
order (an idempotent retry answers 110072, not a second order), the private WebSocket dropped,
the venue down -- and the control port counts each. Run as
`venue_fault_proxy_test.py SHADOW_EXCHANGE_BINARY`.
"""
import asyncio
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "support"))
import requirements  # noqa: E402

websockets = requirements.require_module("websockets", "python3-websockets")
from bybit_v5_client import Client  # noqa: E402

PROXY = os.path.join(HERE, "..", "peers", "venue_fault_proxy.py")
BINARY = None
KEY, SECRET = "proxyKey1", "proxy-Secret-1"
SYM = "BTCUSDT"
_link = [0]


def link(tag):
    _link[0] += 1
    return "%s-%d-%d" % (tag, os.getpid() % 10000, _link[0])


def limit_order(link_id, price="50000.0"):
    return {"category": "linear", "symbol": SYM, "side": "Buy", "orderType": "Limit", "qty": "0.001",
            "price": price, "orderLinkId": link_id}


class Venue:
    """shadow-exchange on free ports with the one environment account."""

    def __init__(self):
        env = {k: v for k, v in os.environ.items() if k != "SHADOW_SANDBOX_ACCOUNTS"}
        env.update(SHADOW_SANDBOX_API_KEY=KEY, SHADOW_SANDBOX_API_SECRET=SECRET)
        self.proc = subprocess.Popen([BINARY, "--port", "0", "--rest-port", "0", "--rate", "500"],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        line = self.proc.stdout.readline()
        if " rest=" not in line:
            self.proc.kill()
            raise AssertionError(f"unexpected ready line {line!r}: {self.proc.stderr.read()}")
        ws, rest = line.split("listening on ")[1].split(" rest=")
        self.ws = "ws://" + ws.split("//")[1].split("/")[0]
        self.rest = rest.strip()

    def stop(self):
        self.proc.terminate()
        _, err = self.proc.communicate(timeout=10)
        return self.proc.returncode, err


class Proxy:
    """venue_fault_proxy.py under /usr/bin/python3, its ports read from the ready line."""

    def __init__(self, venue):
        requirements.require_path(requirements.SYSTEM_PYTHON, "the system python3")
        self.proc = subprocess.Popen([requirements.SYSTEM_PYTHON, PROXY, "--rest-upstream", venue.rest,
                                      "--ws-upstream", venue.ws, "--control-port", "0"],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.line = self.proc.stdout.readline()
        words = dict(w.split("=", 1) for w in self.line.split()[1:])
        if not self.line.startswith("proxy ") or set(words) != {"rest", "ws", "control"}:
            self.proc.kill()
            raise AssertionError(f"unexpected ready line {self.line!r}: {self.proc.stderr.read()}")
        self.rest_port = int(words["rest"].rsplit(":", 1)[1])
        self.private = words["ws"]
        self.control_port = int(words["control"].rsplit(":", 1)[1])

    def control(self, method, path, body=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.control_port, timeout=10)
        try:
            conn.request(method, path, body=None if body is None else json.dumps(body),
                         headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            return resp.status, json.loads(resp.read())
        finally:
            conn.close()

    def arm(self, **fault):
        status, r = self.control("POST", "/faults", fault)
        assert status == 200 and r["ok"], (status, r)
        return r

    def counters(self):
        status, r = self.control("GET", "/faults")
        assert status == 200, (status, r)
        return r

    def stop(self):
        """SIGTERM; returns (exit status, seconds it took, stderr)."""
        t0 = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            _, err = self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
            return None, time.monotonic() - t0, err
        return self.proc.returncode, time.monotonic() - t0, err


async def recv_json(ws, timeout=5.0):
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


class FaultProxyTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.venue = Venue()
        cls.proxy = Proxy(cls.venue)
        cls.c = Client(cls.proxy.rest_port, KEY, SECRET)

    @classmethod
    def tearDownClass(cls):
        rc, took, err = cls.proxy.stop()
        assert rc == 0 and took < 5, f"proxy exit {rc} after {took:.1f} s: {err[-2000:]}"
        rc, err = cls.venue.stop()
        assert rc == 0, f"shadow-exchange exit {rc}: {err[-2000:]}"

    def setUp(self):
        self.c.timeout = 10
        self.before = self.proxy.counters()

    def delta(self, group, key):
        return self.proxy.counters()[group].get(key, 0) - self.before[group].get(key, 0)

    def realtime(self, link_id):
        r = self.c.get("/v5/order/realtime", {"category": "linear", "orderLinkId": link_id})
        self.assertEqual((r.status, r.ret_code), (200, 0), r)
        return r.result["list"]

    def create(self, link_id):
        r = self.c.post("/v5/order/create", limit_order(link_id))
        self.assertEqual((r.status, r.ret_code), (200, 0), r)
        self.assertEqual(r.result["orderLinkId"], link_id)
        return r.result["orderId"]

    def cancel(self, link_id):
        r = self.c.post("/v5/order/cancel", {"category": "linear", "symbol": SYM, "orderLinkId": link_id})
        self.assertEqual((r.status, r.ret_code), (200, 0), r)

    def test_requests_pass_untouched_over_one_keep_alive_connection(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.proxy.rest_port, timeout=10)
        try:
            socks = set()
            for i in range(6):  # more than cpp-httplib's 5 requests per upstream connection
                query = "category=linear&symbol=BTCUSDT"
                conn.request("GET", "/v5/order/realtime?" + query, headers=self.c.auth_headers(query))
                resp = conn.getresponse()
                raw = resp.read()
                socks.add(id(conn.sock))
                self.assertEqual(resp.status, 200)
                self.assertEqual(int(resp.getheader("Content-Length")), len(raw))
                self.assertEqual(json.loads(raw)["retCode"], 0, raw)
                for h in ("X-Bapi-Limit", "X-Bapi-Limit-Status", "X-Bapi-Limit-Reset-Timestamp"):
                    self.assertIsNotNone(resp.getheader(h), f"{h} not passed on")
            body = json.dumps(limit_order(link("ka")))
            conn.request("POST", "/v5/order/create", body=body,
                         headers=dict(self.c.auth_headers(body), **{"Content-Type": "application/json"}))
            resp = conn.getresponse()
            self.assertEqual(json.loads(resp.read())["retCode"], 0)
            socks.add(id(conn.sock))
            self.assertEqual(len(socks), 1, "the proxy closed the client's keep-alive connection")
        finally:
            conn.close()
        # A bad signature is the venue's answer, passed on: the X-BAPI-* headers went through.
        r = self.c.get("/v5/order/realtime", {"category": "linear"}, signature="0" * 64)
        self.assertEqual(r.ret_code, 10004, r)
        self.assertEqual(self.delta("forwarded", "/v5/order/realtime"), 7)
        self.assertEqual(self.delta("forwarded", "/v5/order/create"), 1)

    def test_normal_create_and_cancel(self):
        lid = link("ok")
        order_id = self.create(lid)
        self.assertEqual([(o["orderId"], o["orderStatus"]) for o in self.realtime(lid)], [(order_id, "New")])
        self.cancel(lid)
        self.assertEqual(self.realtime(lid)[0]["orderStatus"], "Cancelled")

    def test_http_5xx_once_then_forwarded(self):
        self.proxy.arm(kind="http_5xx", path="/v5/order/create", count=1)
        lid = link("5xx")
        r = self.c.post("/v5/order/create", limit_order(lid))
        self.assertEqual(r.status, 503, r)
        self.assertEqual(self.realtime(lid), [], "a 5xx answer was forwarded")
        self.create(lid)
        self.cancel(lid)
        self.assertEqual(self.delta("applied", "http_5xx"), 1)
        self.assertEqual(self.delta("forwarded", "/v5/order/create"), 1)
        self.proxy.arm(kind="http_5xx", path="/v5/order/cancel", status=500, count=2)
        for _ in range(2):
            self.assertEqual(self.c.post("/v5/order/cancel", {"category": "linear", "symbol": SYM,
                                                              "orderLinkId": lid}).status, 500)
        self.assertEqual(self.proxy.counters()["armed"], [])

    def test_rate_limit_answers_10006_without_forwarding(self):
        self.proxy.arm(kind="rate_limit", path="/v5/order/create", count=1)
        lid = link("rl")
        r = self.c.post("/v5/order/create", limit_order(lid))
        self.assertEqual((r.status, r.ret_code, r.json["retMsg"]), (200, 10006, "Too many visits!"), r)
        self.assertEqual((r.json["result"], r.json["retExtInfo"]), ({}, {}))
        self.assertLess(abs(r.json["time"] - time.time() * 1000), 5000)
        self.assertEqual(r.header("X-Bapi-Limit-Status"), "0")
        self.assertGreaterEqual(int(r.header("X-Bapi-Limit-Reset-Timestamp")), r.json["time"])
        self.assertEqual(self.realtime(lid), [])
        self.create(lid)
        self.cancel(lid)
        self.assertEqual(self.delta("applied", "rate_limit"), 1)

    def test_timeout_after_accept_then_idempotent_retry(self):
        self.proxy.arm(kind="timeout_after_accept", path="/v5/order/create", count=1, hold_ms=3000)
        lid = link("tmo")
        self.c.timeout = 1.0
        t0 = time.monotonic()
        with self.assertRaises((TimeoutError, socket.timeout)):
            self.c.post("/v5/order/create", limit_order(lid))
        self.assertLess(time.monotonic() - t0, 2.5)
        self.c.timeout = 10
        rows = self.realtime(lid)
        self.assertEqual([(o["orderLinkId"], o["orderStatus"]) for o in rows], [(lid, "New")],
                         "the venue did not get the timed-out order")
        r = self.c.post("/v5/order/create", limit_order(lid))
        self.assertEqual((r.status, r.ret_code), (200, 110072), r)
        self.assertEqual(len(self.realtime(lid)), 1, "the retry doubled the order")
        self.cancel(lid)
        self.assertEqual(self.delta("applied", "timeout_after_accept"), 1)
        self.assertEqual(self.delta("forwarded", "/v5/order/create"), 2)

    def test_drop_ws_ends_the_private_stream_and_reconnect_works(self):
        async def go():
            ws = await websockets.connect(self.proxy.private)
            await ws.send(self.c.ws_auth())
            r = await recv_json(ws)
            self.assertEqual((r["op"], r["success"]), ("auth", True), r)
            await ws.send(json.dumps({"op": "subscribe", "args": ["order"]}))
            self.assertTrue((await recv_json(ws))["success"])
            lid = link("ws")
            await asyncio.to_thread(self.create, lid)
            push = await recv_json(ws)
            self.assertEqual((push["topic"], push["data"][0]["orderLinkId"]), ("order", lid), push)
            await asyncio.to_thread(self.cancel, lid)
            r = await asyncio.to_thread(self.proxy.arm, kind="drop_ws", refuse_ms=2000)
            self.assertEqual(r["dropped"], 1, r)
            with self.assertRaises(websockets.ConnectionClosed) as closed:
                while True:
                    await recv_json(ws)
            self.assertEqual(closed.exception.code, 1006, "closed with a close frame, not abruptly")
            with self.assertRaises(websockets.InvalidStatusCode) as refused:
                await websockets.connect(self.proxy.private)
            self.assertEqual(refused.exception.status_code, 503)
            await asyncio.sleep(2.1)
            async with websockets.connect(self.proxy.private) as ws2:
                await ws2.send(self.c.ws_auth(req_id="again"))
                r = await recv_json(ws2)
                self.assertEqual((r["op"], r["success"], r["req_id"]), ("auth", True, "again"), r)
                await ws2.send(json.dumps({"req_id": "p", "op": "ping"}))
                self.assertEqual((await recv_json(ws2))["op"], "pong")
        asyncio.run(go())
        self.assertEqual(self.delta("applied", "drop_ws"), 1)
        self.assertEqual(self.delta("ws", "dropped"), 1)
        self.assertEqual(self.delta("refused", "ws"), 1)
        self.assertEqual(self.delta("ws", "accepted"), 2)

    def test_upstream_down_refuses_rest_and_ws_then_recovers(self):
        async def ws_refused():
            with self.assertRaises((OSError, websockets.InvalidHandshake, asyncio.TimeoutError)):
                await websockets.connect(self.proxy.private, open_timeout=3)
        async def open_private():
            ws = await websockets.connect(self.proxy.private)
            await ws.send(self.c.ws_auth())
            self.assertTrue((await recv_json(ws))["success"])
            return ws

        async def ended(ws):
            with self.assertRaises(websockets.ConnectionClosed):
                while True:
                    await recv_json(ws)
            return ws.close_code

        for mode in ("reset", "502"):
            loop = asyncio.new_event_loop()
            ws = loop.run_until_complete(open_private())
            r = self.proxy.arm(kind="upstream_down", ms=1500, mode=mode)
            self.assertEqual(r["dropped"], 1, "the venue's restart left a WebSocket open")
            self.assertEqual(loop.run_until_complete(ended(ws)), 1006)
            loop.close()
            lid = link("down")
            if mode == "reset":
                with self.assertRaises((ConnectionError, http.client.HTTPException)):
                    self.c.post("/v5/order/create", limit_order(lid))
            else:
                self.assertEqual(self.c.post("/v5/order/create", limit_order(lid)).status, 502)
            asyncio.run(ws_refused())
            time.sleep(1.6)
            self.assertEqual(self.realtime(lid), [])
            self.create(lid)
            self.cancel(lid)
        self.assertEqual(self.delta("applied", "upstream_down"), 2)
        self.assertEqual(self.delta("refused", "rest"), 2)
        self.assertEqual(self.delta("refused", "ws"), 2)
        self.assertEqual(self.delta("ws", "dropped"), 2)

    def test_control_refusals_limits_and_reset(self):
        status, r = self.proxy.control("POST", "/faults", {"kind": "nosuch"})
        self.assertEqual(status, 400)
        self.assertIn("'kind' must be one of", r["error"])
        status, r = self.proxy.control("POST", "/faults", {"kind": "http_5xx", "count": 0})
        self.assertEqual((status, r["error"]), (400, "'count' must be an integer in [1, 1000000], got 0"))
        status, r = self.proxy.control("POST", "/faults", {"kind": "http_5xx", "path": "/v5/x", "hold_ms": 5})
        self.assertEqual((status, r["error"]), (400, "'hold_ms' does not apply to http_5xx"))
        big = json.dumps({"pad": "x" * (64 * 1024)})
        r = self.c.post("/v5/order/create", None, raw=big)
        self.assertEqual(r.status, 413, r)
        self.proxy.arm(kind="rate_limit", path="/v5/nowhere", count=3)
        self.assertEqual(len(self.proxy.counters()["armed"]), 1)
        self.assertEqual(self.proxy.control("POST", "/reset"), (200, {"ok": True}))
        after = self.proxy.counters()
        self.assertEqual(after["armed"], [])
        self.assertEqual(after["forwarded"], {})
        self.assertEqual(set(after["applied"].values()), {0})
        self.before = after


class ShutdownTest(unittest.TestCase):
    def test_sigterm_ends_the_proxy_while_an_answer_is_held(self):
        venue = Venue()
        proxy = None
        try:
            proxy = Proxy(venue)
            proxy.arm(kind="timeout_after_accept", hold_ms=600000)
            c = Client(proxy.rest_port, KEY, SECRET)
            errors = []

            def held():
                try:
                    c.get("/v5/order/realtime", {"category": "linear"})
                except OSError as e:
                    errors.append(e)
            t = threading.Thread(target=held)
            t.start()
            deadline = time.monotonic() + 5
            while not proxy.counters()["forwarded"] and time.monotonic() < deadline:
                time.sleep(0.05)
            # Forwarded (the venue answered), and held.
            self.assertEqual(proxy.counters()["forwarded"], {"/v5/order/realtime": 1})
            self.assertEqual(proxy.counters()["applied"]["timeout_after_accept"], 1)
            self.assertTrue(t.is_alive(), "the held request ended before the shutdown")
            rc, took, err = proxy.stop()
            self.assertEqual(rc, 0, err)
            self.assertLess(took, 5, err)
            t.join(10)
            self.assertEqual(len(errors), 1, "the held request got an answer")
        finally:
            if proxy is not None and proxy.proc.poll() is None:
                proxy.proc.kill()
                proxy.proc.communicate()
            rc, err = venue.stop()
        self.assertEqual(rc, 0, err)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: venue_fault_proxy_test.py SHADOW_EXCHANGE_BINARY")
    BINARY = sys.argv.pop(1)
    unittest.main()
