"""The sandbox's private WebSocket (/v5/private) against an independent client written from
Bybit's v5 docs (https://bybit-exchange.github.io/docs/v5/ws/connect, .../websocket/private/*):
auth with HMAC_SHA256(secret, "GET/realtime" + expires), its refusals, the private ping/pong,
subscribe rules, the order/execution/position/wallet pushes with the documented field names and
JSON types, their agreement with REST, spot pushes, and the dead-man's switch (dcp.future).

Nothing here comes from the server's code: requests are signed with Python's hmac, responses
read with json. Run as `sandbox_private_ws_test.py SHADOW_EXCHANGE_BINARY`.
"""
import asyncio
import hashlib
import hmac
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import requirements  # noqa: E402

websockets = requirements.require_module("websockets", "python3-websockets")
jsonschema = requirements.require_module("jsonschema", "python3-jsonschema")

SCHEMA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "schemas",
                      "sandbox_ground_truth.schema.json")

BINARY = None
KEY, SECRET = "wsKey1", "wsSecret-1"
KEY2, SECRET2 = "wsKey2", "wsSecret-2"

ACCOUNTS = f"""
[[account]]
uid = 501
api_key = "{KEY}"
api_secret = "{SECRET}"
[account.wallet]
USDT = "100000"
BTC = "1"

[[account]]
uid = 502
api_key = "{KEY2}"
api_secret = "{SECRET2}"
"""

# Field names of the pushes, from the docs' examples (websocket/private/order, execution,
# position, wallet). The sandbox may send more; it must send at least these.
ORDER_KEYS = {"category", "symbol", "orderId", "orderLinkId", "side", "orderType", "cancelType", "price", "qty",
              "orderIv", "timeInForce", "orderStatus", "lastPriceOnCreated", "reduceOnly", "leavesQty",
              "leavesValue", "cumExecQty", "cumExecValue", "avgPrice", "blockTradeId", "positionIdx",
              "cumExecFee", "closedPnl", "createdTime", "updatedTime", "rejectReason", "stopOrderType",
              "tpslMode", "triggerPrice", "takeProfit", "stopLoss", "tpTriggerBy", "slTriggerBy", "tpLimitPrice",
              "slLimitPrice", "triggerDirection", "triggerBy", "closeOnTrigger", "placeType", "smpType",
              "smpGroup", "smpOrderId", "feeCurrency", "cumFeeDetail", "rpiTakerAccess", "rpiMatchedQty"}
EXECUTION_KEYS = {"category", "symbol", "closedSize", "execFee", "execId", "execPrice", "execQty", "execType",
                  "execValue", "feeRate", "tradeIv", "markIv", "blockTradeId", "markPrice", "indexPrice",
                  "underlyingPrice", "leavesQty", "orderId", "orderLinkId", "orderPrice", "orderQty", "orderType",
                  "stopOrderType", "side", "execTime", "isLeverage", "isMaker", "seq", "marketUnit", "execPnl",
                  "createType", "extraFees", "feeCurrency"}
POSITION_KEYS = {"positionIdx", "tradeMode", "riskId", "riskLimitValue", "symbol", "side", "size", "entryPrice",
                 "leverage", "breakEvenPrice", "positionValue", "positionBalance", "markPrice", "positionIM",
                 "positionIMByMp", "positionMM", "positionMMByMp", "takeProfit", "stopLoss", "trailingStop",
                 "unrealisedPnl", "curRealisedPnl", "cumRealisedPnl", "sessionAvgPrice", "createdTime",
                 "updatedTime", "tpslMode", "liqPrice", "bustPrice", "category", "positionStatus",
                 "adlRankIndicator", "autoAddMargin", "leverageSysUpdatedTime", "mmrSysUpdatedTime", "seq",
                 "isReduceOnly"}
WALLET_KEYS = {"accountIMRate", "accountIMRateByMp", "accountMMRate", "accountMMRateByMp", "totalEquity",
               "totalWalletBalance", "totalMarginBalance", "totalAvailableBalance", "totalPerpUPL",
               "totalInitialMargin", "totalInitialMarginByMp", "totalMaintenanceMargin",
               "totalMaintenanceMarginByMp", "coin", "accountLTV", "accountType"}
COIN_KEYS = {"coin", "equity", "usdValue", "walletBalance", "availableToWithdraw", "availableToBorrow",
             "borrowAmount", "accruedInterest", "totalOrderIM", "totalPositionIM", "totalPositionMM",
             "unrealisedPnl", "cumRealisedPnl", "bonus", "collateralSwitch", "marginCollateral", "locked",
             "spotHedgingQty", "spotBorrow"}
# Non-string values in the docs' examples; every other value is a string.
NON_STRING = {"reduceOnly": bool, "closeOnTrigger": bool, "isMaker": bool, "positionIdx": int,
              "triggerDirection": int, "smpGroup": int, "seq": int, "tradeMode": int, "riskId": int,
              "adlRankIndicator": int, "autoAddMargin": int, "isReduceOnly": bool, "collateralSwitch": bool,
              "marginCollateral": bool, "rpiTakerAccess": bool, "cumFeeDetail": dict, "coin": list}


def check_object(test, obj, keys, what, types=None):
    missing = keys - set(obj)
    test.assertFalse(missing, f"{what}: documented keys missing: {sorted(missing)}")
    for k, v in obj.items():
        want = (types or {}).get(k, NON_STRING.get(k, str))
        test.assertIsInstance(v, want, f"{what}.{k} = {v!r}: expected {want.__name__}")


class Sandbox:
    def __init__(self, *extra):
        self.dir = tempfile.TemporaryDirectory()
        path = os.path.join(self.dir.name, "accounts.toml")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
        os.write(fd, ACCOUNTS.encode())
        os.close(fd)
        self.truth = os.path.join(self.dir.name, "truth.jsonl")
        self.proc = subprocess.Popen([BINARY, "--port", "0", "--rate", "2000", "--rest-port", "0",
                                      "--spot-symbols", "BTCUSDT", "--accounts", path,
                                      "--ground-truth", self.truth, *extra],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if " rest=" not in line:
            self.proc.kill()
            raise AssertionError(f"unexpected ready line {line!r}: {self.proc.stderr.read()}")
        ws, rest = line.split("listening on ")[1].split(" rest=")
        self.port = int(ws.split(":")[2].split("/")[0])
        self.private = f"ws://127.0.0.1:{self.port}/v5/private"
        self.rest = rest.strip()

    def stop(self):
        """Stops the exchange; returns its stderr and the ground-truth lines it wrote."""
        self.proc.terminate()
        _, err = self.proc.communicate(timeout=10)
        with open(self.truth, encoding="utf-8") as f:
            self.truth_lines = [json.loads(line) for line in f]
        self.dir.cleanup()
        return err

    def post(self, path, body, key=KEY, secret=SECRET):
        raw = json.dumps(body)
        ts = str(int(time.time() * 1000))
        sign = hmac.new(secret.encode(), (ts + key + "5000" + raw).encode(), hashlib.sha256).hexdigest()
        req = urllib.request.Request(self.rest + path, data=raw.encode(), method="POST", headers={
            "X-BAPI-API-KEY": key, "X-BAPI-TIMESTAMP": ts, "X-BAPI-RECV-WINDOW": "5000", "X-BAPI-SIGN": sign,
            "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=5) as r:
            return json.loads(r.read())

    def get(self, path, query, key=KEY, secret=SECRET):
        ts = str(int(time.time() * 1000))
        sign = hmac.new(secret.encode(), (ts + key + "5000" + query).encode(), hashlib.sha256).hexdigest()
        req = urllib.request.Request(f"{self.rest}{path}?{query}", headers={
            "X-BAPI-API-KEY": key, "X-BAPI-TIMESTAMP": ts, "X-BAPI-RECV-WINDOW": "5000", "X-BAPI-SIGN": sign})
        with urllib.request.urlopen(req, timeout=5) as r:
            return json.loads(r.read())


def auth_message(key=KEY, secret=SECRET, expires=None, req_id="auth-1"):
    expires = expires if expires is not None else int((time.time() + 10) * 1000)
    sign = hmac.new(secret.encode(), f"GET/realtime{expires}".encode(), hashlib.sha256).hexdigest()
    return json.dumps({"req_id": req_id, "op": "auth", "args": [key, expires, sign]})


async def recv_json(ws, timeout=5.0):
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def collect(ws, topics, seconds=3.0):
    """Pushes until one of each topic in `topics` arrived (or the time is up): {topic: [msg...]}."""
    got = {}
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not all(t in got for t in topics):
        try:
            m = await recv_json(ws, max(0.05, deadline - time.monotonic()))
        except asyncio.TimeoutError:
            break
        if "topic" in m:
            got.setdefault(m["topic"], []).append(m)
    return got


class PrivateStreamTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sb = Sandbox()

    @classmethod
    def tearDownClass(cls):
        cls.sb.stop()
        # Everything the class traded is in the ground-truth log, and every line is valid
        # against schemas/sandbox_ground_truth.schema.json.
        with open(SCHEMA, encoding="utf-8") as f:
            validator = jsonschema.Draft7Validator(json.load(f))
        lines = cls.sb.truth_lines
        assert len(lines) >= 10, f"only {len(lines)} ground-truth lines"
        for line in lines:
            errors = sorted(validator.iter_errors(line), key=str)
            assert not errors, f"ground-truth line not valid: {line}: {errors[0].message}"
        assert [l["seq"] for l in lines] == list(range(1, len(lines) + 1)), "seq is not 1, 2, 3, ..."
        assert {"accepted", "match", "closed"} <= {l["event"] for l in lines}, {l["event"] for l in lines}

    def run_async(self, coro):
        return asyncio.run(coro)

    def test_auth_refusals_and_ping(self):
        async def go():
            async with websockets.connect(self.sb.private) as ws:
                await ws.send(json.dumps({"op": "subscribe", "args": ["order"]}))
                r = await recv_json(ws)
                self.assertEqual((r["success"], r["ret_msg"], r["op"]), (False, "Request not authorized", "subscribe"))
                for msg in (auth_message(secret="wrong"), auth_message(key="nobody"),
                            auth_message(expires=int((time.time() - 5) * 1000))):
                    await ws.send(msg)
                    r = await recv_json(ws)
                    self.assertEqual((r["success"], r["ret_msg"], r["op"]), (False, "Params Error", "auth"), r)
                    self.assertEqual(r["req_id"], "auth-1")
                await ws.send(json.dumps({"req_id": "p1", "op": "ping"}))
                r = await recv_json(ws)
                # The private pong: op "pong", args = [server time in ms as a string].
                self.assertEqual((r["op"], r["req_id"]), ("pong", "p1"))
                self.assertIsInstance(r["args"][0], str)
                self.assertLess(abs(int(r["args"][0]) - time.time() * 1000), 5000)
                self.assertIsInstance(r["conn_id"], str)
                await ws.send(auth_message())
                r = await recv_json(ws)
                self.assertEqual((r["success"], r["ret_msg"], r["op"], r["req_id"]), (True, "", "auth", "auth-1"))
                await ws.send(json.dumps({"op": "subscribe", "args": ["order", "order.linear"]}))
                r = await recv_json(ws)
                self.assertFalse(r["success"], "all-in-one and categorised topics in one request")
                await ws.send(json.dumps({"op": "subscribe", "args": ["nosuch"]}))
                self.assertFalse((await recv_json(ws))["success"])
        self.run_async(go())

    def test_linear_fill_pushes_agree_with_rest(self):
        async def go():
            async with websockets.connect(self.sb.private) as ws:
                await ws.send(auth_message())
                self.assertTrue((await recv_json(ws))["success"])
                await ws.send(json.dumps({"op": "subscribe", "args": ["order", "execution", "position", "wallet"]}))
                self.assertTrue((await recv_json(ws))["success"])
                before = self.sb.get("/v5/account/wallet-balance", "accountType=UNIFIED&coin=USDT")
                usdt_before = float(before["result"]["list"][0]["coin"][0]["walletBalance"])
                r = self.sb.post("/v5/order/create", {"category": "linear", "symbol": "BTCUSDT", "side": "Buy",
                                                      "orderType": "Market", "qty": "0.004", "orderLinkId": "ws-m1"})
                self.assertEqual(r["retCode"], 0, r)
                order_id = r["result"]["orderId"]
                got = await collect(ws, ["order", "execution", "position", "wallet"])
                for t in ("order", "execution", "position", "wallet"):
                    self.assertIn(t, got, f"no {t} push after a filled market order")
                    for m in got[t]:
                        self.assertEqual(set(m), {"id", "topic", "creationTime", "data"})
                        self.assertIsInstance(m["id"], str)
                        self.assertIsInstance(m["creationTime"], int)
                execs = [e for m in got["execution"] for e in m["data"] if e["orderId"] == order_id]
                self.assertTrue(execs)
                for e in execs:
                    check_object(self, e, EXECUTION_KEYS, "execution")
                    self.assertEqual((e["category"], e["side"], e["execType"], e["isMaker"]),
                                     ("linear", "Buy", "Trade", False))
                orders = [o for m in got["order"] for o in m["data"] if o["orderId"] == order_id]
                self.assertTrue(orders)
                for o in orders:
                    check_object(self, o, ORDER_KEYS, "order")
                self.assertEqual(orders[-1]["orderStatus"], "Filled")
                self.assertEqual(orders[-1]["orderLinkId"], "ws-m1")
                # The pushes say what REST says.
                rest_execs = self.sb.get("/v5/execution/list", "category=linear&orderId=" + order_id)
                self.assertEqual(sorted(e["execId"] for e in execs),
                                 sorted(e["execId"] for e in rest_execs["result"]["list"]))
                filled = sum(float(e["execQty"]) for e in execs)
                self.assertAlmostEqual(filled, 0.004, places=9)
                pos = got["position"][-1]["data"][0]
                check_object(self, pos, POSITION_KEYS, "position")
                rest_pos = self.sb.get("/v5/position/list", "category=linear&symbol=BTCUSDT")["result"]["list"][0]
                self.assertEqual((pos["size"], pos["side"], pos["entryPrice"]),
                                 (rest_pos["size"], rest_pos["side"], rest_pos["avgPrice"]))
                wallet = got["wallet"][-1]["data"][0]
                check_object(self, wallet, WALLET_KEYS, "wallet")
                for c in wallet["coin"]:
                    check_object(self, c, COIN_KEYS, "wallet.coin", {"coin": str})
                rest_wallet = self.sb.get("/v5/account/wallet-balance", "accountType=UNIFIED")["result"]["list"][0]
                self.assertEqual(wallet["totalWalletBalance"], rest_wallet["totalWalletBalance"])
                # The USDT wallet moved by the fills' realised PnL (execPnl: a short opened by
                # another test may be closed here) minus their fees.
                usdt = next(c for c in rest_wallet["coin"] if c["coin"] == "USDT")
                fees = sum(float(e["execFee"]) for e in execs)
                pnl = sum(float(e["execPnl"]) for e in execs)
                self.assertAlmostEqual(float(usdt["walletBalance"]) - usdt_before, pnl - fees, places=6)
        self.run_async(go())

    def test_categorised_spot_topics(self):
        async def go():
            async with websockets.connect(self.sb.private) as ws:
                await ws.send(auth_message())
                self.assertTrue((await recv_json(ws))["success"])
                await ws.send(json.dumps({"op": "subscribe", "args": ["order.spot", "execution.spot"]}))
                self.assertTrue((await recv_json(ws))["success"])
                r = self.sb.post("/v5/order/create", {"category": "spot", "symbol": "BTCUSDT", "side": "Sell",
                                                      "orderType": "Market", "qty": "0.002"})
                self.assertEqual(r["retCode"], 0, r)
                got = await collect(ws, ["order.spot", "execution.spot"])
                self.assertIn("execution.spot", got)
                self.assertIn("order.spot", got)
                for m in got["execution.spot"]:
                    for e in m["data"]:
                        self.assertEqual(e["category"], "spot")
                        self.assertEqual(e["feeCurrency"], "USDT", "a spot sell pays its fee in the quote coin")
                # A linear order is not pushed on spot topics.
                r = self.sb.post("/v5/order/create", {"category": "linear", "symbol": "BTCUSDT", "side": "Sell",
                                                      "orderType": "Market", "qty": "0.001"})
                self.assertEqual(r["retCode"], 0, r)
                more = await collect(ws, ["order.linear"], seconds=1.0)
                self.assertFalse(any(t.endswith("linear") or t in ("order", "execution") for t in more), more)
        self.run_async(go())

    def test_categorised_topics_of_different_categories_in_one_session(self):
        """order.linear with execution.spot: linear orders on order.linear, spot fills on
        execution.spot, and nothing else (found by sandbox_ws_fuzz: every category used to come
        on the all-in-one names)."""
        async def go():
            async with websockets.connect(self.sb.private) as ws:
                await ws.send(auth_message())
                self.assertTrue((await recv_json(ws))["success"])
                await ws.send(json.dumps({"op": "subscribe", "args": ["order.linear", "execution.spot"]}))
                self.assertTrue((await recv_json(ws))["success"])
                # The all-in-one name of a family subscribed by category is refused.
                await ws.send(json.dumps({"op": "subscribe", "args": ["order"]}))
                self.assertFalse((await recv_json(ws))["success"])
                for cat, side in (("spot", "Sell"), ("linear", "Buy")):
                    r = self.sb.post("/v5/order/create", {"category": cat, "symbol": "BTCUSDT", "side": side,
                                                          "orderType": "Market", "qty": "0.001"})
                    self.assertEqual(r["retCode"], 0, r)
                got = await collect(ws, ["order.linear", "execution.spot"], seconds=2.0)
                self.assertEqual(set(got), {"order.linear", "execution.spot"}, got.keys())
                for m in got["order.linear"]:
                    self.assertTrue(all(o["category"] == "linear" for o in m["data"]), m)
                for m in got["execution.spot"]:
                    self.assertTrue(all(e["category"] == "spot" for e in m["data"]), m)
        self.run_async(go())

    def test_other_accounts_get_nothing(self):
        async def go():
            async with websockets.connect(self.sb.private) as ws:
                await ws.send(auth_message(KEY2, SECRET2))
                self.assertTrue((await recv_json(ws))["success"])
                await ws.send(json.dumps({"op": "subscribe", "args": ["order", "execution"]}))
                self.assertTrue((await recv_json(ws))["success"])
                r = self.sb.post("/v5/order/create", {"category": "linear", "symbol": "BTCUSDT", "side": "Buy",
                                                      "orderType": "Market", "qty": "0.001"})
                self.assertEqual(r["retCode"], 0, r)
                self.assertEqual(await collect(ws, ["order"], seconds=1.0), {})
        self.run_async(go())


class DeadMansSwitchTest(unittest.TestCase):
    def test_orders_are_cancelled_when_the_dcp_connection_is_gone(self):
        sb = Sandbox()
        try:
            r = sb.post("/v5/order/disconnected-cancel-all", {"product": "DERIVATIVES", "timeWindow": 3})
            self.assertEqual(r, {"retCode": 0, "retMsg": "success"})
            r = sb.post("/v5/order/disconnected-cancel-all", {"timeWindow": 2})
            self.assertEqual(r["retCode"], 10001, "timeWindow must be in [3, 300]")
            # Bybit's default product is OPTIONS: accepted, and the DERIVATIVES window stays 3 s.
            r = sb.post("/v5/order/disconnected-cancel-all", {"timeWindow": 300})
            self.assertEqual(r, {"retCode": 0, "retMsg": "success"})

            async def go():
                async with websockets.connect(sb.private) as ws:
                    await ws.send(auth_message())
                    self.assertTrue((await recv_json(ws))["success"])
                    await ws.send(json.dumps({"op": "subscribe", "args": ["dcp.future"]}))
                    self.assertTrue((await recv_json(ws))["success"])
                    r = sb.post("/v5/order/create", {"category": "linear", "symbol": "BTCUSDT", "side": "Buy",
                                                     "orderType": "Limit", "qty": "0.001", "price": "60000.0",
                                                     "orderLinkId": "dcp-1"})
                    self.assertEqual(r["retCode"], 0, r)
                    # Alive (pinging) for longer than the window: nothing is cancelled.
                    for _ in range(4):
                        await ws.send(json.dumps({"op": "ping"}))
                        await recv_json(ws)
                        await asyncio.sleep(1.0)
                    o = sb.get("/v5/order/realtime", "category=linear&orderLinkId=dcp-1")["result"]["list"][0]
                    self.assertEqual(o["orderStatus"], "New")
            asyncio.run(go())
            # The connection is gone: within the window (3 s) plus a margin the order is cancelled.
            deadline = time.monotonic() + 6.0
            status = None
            while time.monotonic() < deadline:
                o = sb.get("/v5/order/realtime", "category=linear&orderLinkId=dcp-1")["result"]["list"][0]
                status = (o["orderStatus"], o["cancelType"])
                if status[0] != "New":
                    break
                time.sleep(0.25)
            self.assertEqual(status, ("Cancelled", "CancelByDCP"))
        finally:
            err = sb.stop()
        self.assertIn("dcp_cancels=1", err)


class SlowClientTest(unittest.TestCase):
    def test_idle_connections_hold_the_rest_api_for_at_most_the_read_timeout(self):
        """8 connections that never send a request occupy every REST worker; each is dropped
        after the 5 s read timeout, so a real request waits at most about that long, and the
        public stream keeps flowing meanwhile."""
        import socket
        sb = Sandbox()
        try:
            host, port = sb.rest[len("http://"):].split(":")
            idle = [socket.create_connection((host, int(port))) for _ in range(8)]
            time.sleep(0.2)
            t0 = time.monotonic()
            r = sb.get("/v5/order/realtime", "category=linear&symbol=BTCUSDT")
            waited = time.monotonic() - t0
            self.assertEqual(r["retCode"], 0)
            self.assertLess(waited, 8.0, "a request waited longer than the idle connections' read timeout")

            async def book_messages():
                async with websockets.connect(f"ws://127.0.0.1:{sb.port}/v5/public/linear") as ws:
                    await ws.send(json.dumps({"op": "subscribe", "args": ["orderbook.50.BTCUSDT"]}))
                    n = 0
                    deadline = time.monotonic() + 1.0
                    while time.monotonic() < deadline:
                        m = await recv_json(ws)
                        n += m.get("topic") == "orderbook.50.BTCUSDT"
                    return n
            self.assertGreater(asyncio.run(book_messages()), 100, "the public stream stalled")
            for s in idle:
                s.close()
        finally:
            sb.stop()


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: sandbox_private_ws_test.py SHADOW_EXCHANGE_BINARY")
    BINARY = sys.argv.pop(1)
    unittest.main()
