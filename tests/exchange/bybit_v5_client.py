"""A minimal Bybit v5 REST client written from the public docs only (stdlib: http.client, hmac,
json), the sandbox process it talks to, and the shape check against the documented examples.

Signing (https://bybit-exchange.github.io/docs/v5/guide): X-BAPI-SIGN = lowercase hex
HMAC-SHA256(secret, timestamp + api_key + recv_window + payload), payload = the query string for
GET and the raw JSON body for POST, exactly the bytes sent; headers X-BAPI-API-KEY,
X-BAPI-TIMESTAMP (ms), X-BAPI-RECV-WINDOW, X-BAPI-SIGN.

Shares no code with the server (exchange/*): only the public docs, bybit_doc_examples.py.
"""
import hashlib
import hmac
import http.client
import json
import os
import signal
import subprocess
import tempfile
import time
import urllib.parse
from decimal import Decimal, InvalidOperation


class Response:
    def __init__(self, status, headers, raw):
        self.status = status
        self.headers = headers  # lower-case names
        self.raw = raw
        try:
            self.json = json.loads(raw) if raw else None
        except ValueError:
            self.json = None

    @property
    def ret_code(self):
        return self.json.get("retCode") if isinstance(self.json, dict) else None

    @property
    def result(self):
        return self.json["result"]

    def header(self, name):
        return self.headers.get(name.lower())

    def __repr__(self):
        return "HTTP %d %s %s" % (self.status, self.headers, self.raw.decode("utf-8", "replace")[:1500])


class Client:
    """One API key on one REST base. Each call is one HTTP/1.1 request on a new connection."""

    def __init__(self, port, api_key, secret, recv_window=5000):
        self.port = port
        self.api_key = api_key
        self.secret = secret
        self.recv_window = recv_window
        self.timeout = 10  # seconds per request (socket timeout)

    def sign(self, timestamp, recv_window, payload):
        text = "%s%s%s%s" % (timestamp, self.api_key, recv_window, payload)
        return hmac.new(self.secret.encode(), text.encode(), hashlib.sha256).hexdigest()

    def send(self, method, target, body=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        try:
            conn.request(method, target, body=body, headers=headers or {})
            resp = conn.getresponse()
            raw = resp.read()
            return Response(resp.status, {k.lower(): v for k, v in resp.getheaders()}, raw)
        finally:
            conn.close()

    def ws_auth(self, expires_ms=None, req_id="auth-1"):
        """The private WebSocket's auth request (https://bybit-exchange.github.io/docs/v5/ws/connect):
        args [api_key, expires (ms), hex HMAC-SHA256(secret, "GET/realtime" + expires)]."""
        expires = int((time.time() + 10) * 1000) if expires_ms is None else expires_ms
        sign = hmac.new(self.secret.encode(), ("GET/realtime%d" % expires).encode(), hashlib.sha256).hexdigest()
        return json.dumps({"req_id": req_id, "op": "auth", "args": [self.api_key, expires, sign]})

    def auth_headers(self, payload, timestamp=None, recv_window=None, signature=None):
        ts = str(int(time.time() * 1000)) if timestamp is None else str(timestamp)
        rw = str(self.recv_window if recv_window is None else recv_window)
        return {"X-BAPI-API-KEY": self.api_key, "X-BAPI-TIMESTAMP": ts, "X-BAPI-RECV-WINDOW": rw,
                "X-BAPI-SIGN": signature if signature is not None else self.sign(ts, rw, payload)}

    def get(self, path, params=None, signed=True, **auth):
        """GET path?query; params is a list of pairs (order kept, signed as sent) or a dict."""
        query = urllib.parse.urlencode(list(params.items()) if isinstance(params, dict) else (params or []))
        target = path + ("?" + query if query else "")
        return self.send("GET", target, headers=self.auth_headers(query, **auth) if signed else {})

    def post(self, path, body, raw=None, **auth):
        """POST the JSON of `body` (json.dumps' default spacing, signed byte for byte), or `raw`."""
        data = raw if raw is not None else json.dumps(body)
        headers = {"Content-Type": "application/json"}
        headers.update(self.auth_headers(data, **auth))
        return self.send("POST", path, body=data.encode(), headers=headers)


class Sandbox:
    """shadow-exchange with the sandbox REST API on free ports, `accounts` accounts (uid 1001..)
    with their own keys, the ground-truth log in a temporary folder. Account 'poor' (the last)
    holds 10 USDT only."""

    def __init__(self, binary, accounts=16):
        self.dir = tempfile.TemporaryDirectory(prefix="sandbox_client_test.")
        self.accounts = []
        lines = []
        for i in range(accounts + 1):
            uid, key, secret = 1001 + i, "PyKey%02d" % i, "py-Secret-%02d!x" % i
            wallet = ['USDT = "10"'] if i == accounts else ['USDT = "100000"', 'BTC = "1"']
            lines += ["[[account]]", "uid = %d" % uid, 'api_key = "%s"' % key, 'api_secret = "%s"' % secret,
                      'maker_fee_rate = "0.0002"', 'taker_fee_rate = "0.00055"', "leverage = 10",
                      "[account.wallet]"] + wallet + [""]
            self.accounts.append((key, secret))
        self.poor = self.accounts.pop()
        path = os.path.join(self.dir.name, "accounts.toml")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write("\n".join(lines))
        self.ground_truth = os.path.join(self.dir.name, "ground_truth.jsonl")
        env = dict(os.environ, SHADOW_SANDBOX_ACCOUNTS=path)
        self.proc = subprocess.Popen(
            [binary, "--port", "0", "--rest-port", "0", "--spot-symbols", "BTCUSDT", "--rate", "2000",
             "--seed", "11", "--ground-truth", self.ground_truth],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        line = self.proc.stdout.readline()
        if "rest=http://127.0.0.1:" not in line:
            self.proc.kill()
            raise AssertionError("unexpected first line %r, stderr %r" % (line, self.proc.stderr.read()))
        self.rest_port = int(line.rsplit(":", 1)[1])
        self.next_account = 0

    def client(self, poor=False):
        """A client of an account no other test used."""
        if poor:
            return Client(self.rest_port, *self.poor)
        key, secret = self.accounts[self.next_account]
        self.next_account += 1
        return Client(self.rest_port, key, secret)

    def public(self):
        return Client(self.rest_port, "", "")

    def stop(self):
        """SIGTERM; returns (exit status, stderr)."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            rc = None
        err = self.proc.stderr.read()
        self.proc.stdout.close()
        self.proc.stderr.close()
        self.dir.cleanup()
        return rc, err


def _json_type(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    return {float: "float", str: "string", list: "array", dict: "object"}[type(value)]


def _is_number_text(text):
    try:
        Decimal(text)
        return True
    except InvalidOperation:
        return False


# Objects whose keys are data (coin -> fee), not field names.
MAP_KEYS = {"cumFeeDetail"}
# String ids that happen to be all digits in one example and UUIDs elsewhere.
_ID_KEYS = {"orderId", "orderLinkId", "execId", "smpOrderId", "blockTradeId"}


def shape_errors(actual, example, path="result"):
    """Every key of the documented `example` must be in `actual` with the same JSON type
    (null in the example: null or object); a string that is a number in the example must be a
    number (or "") in `actual`. Extra keys are allowed (Bybit adds fields). Returns the
    differences, one line each."""
    errors = []
    want, got = _json_type(example), _json_type(actual)
    if want == "null":
        if got not in ("null", "object"):
            errors.append("%s: %s, documented null/object" % (path, got))
        return errors
    if want != got:
        return ["%s: %s %r, documented %s (e.g. %r)" % (path, got, actual, want, example)]
    if want == "object":
        if path.rsplit(".", 1)[-1] in MAP_KEYS:
            for k, v in actual.items():
                if not isinstance(v, str) or not _is_number_text(v):
                    errors.append("%s.%s: %r, documented a number string" % (path, k, v))
            return errors
        missing = [k for k in example if k not in actual]
        if missing:
            errors.append("%s: missing documented keys %s" % (path, ", ".join(missing)))
        for k in example:
            if k in actual:
                errors += shape_errors(actual[k], example[k], "%s.%s" % (path, k))
    elif want == "array" and example:
        for i, item in enumerate(actual):
            errors += shape_errors(item, example[0], "%s[%d]" % (path, i))
    elif want == "string" and example != "" and _is_number_text(example):
        key = path.rsplit(".", 1)[-1]
        if key not in _ID_KEYS and actual != "" and not _is_number_text(actual):
            errors.append("%s: %r is not a number string (documented e.g. %r)" % (path, actual, example))
    return errors
