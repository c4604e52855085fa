#!/usr/bin/env python3
"""Binance REST depth-snapshot peer for tests/feed/depth_snapshot_fetcher_http_test.cc.

A real HTTPS (or plain HTTP) server on 127.0.0.1 (standard library http.server + ssl) that
answers GET /api/v3/depth and /fapi/v1/depth with a recorded Binance snapshot: the one line of
the capture file whose message starts with {"lastUpdateId" (lines are "<local_ns> <json>").

For TLS it serves --tls-cert/--tls-key, or else makes throwaway certificates in --dir with
tests/support/tls_certs.py and serves the one for DNS:localhost only, so a client must trust
DIR/ca.pem and name the host "localhost": https://127.0.0.1:PORT is the wrong-hostname case, no
CA file the unknown-CA case.

Writes into --dir: snapshot.json (the exact bytes served), ca.pem (TLS only), requests.log (one
line per request: "<CLOCK_MONOTONIC ns> <path?query>", flushed at once).
Prints "<port> <lastUpdateId>" on stdout, then serves until killed.

--fail-first N answers the first N requests with --fail-kind instead of the snapshot:
  status    HTTP --fail-status (429, 418, 500...) with a Binance error body and, when
            --retry-after S >= 0, "Retry-After: S"
  notdepth  200 with {"code":-1121,"msg":"Invalid symbol."}
  big       200 with a 9 MiB body (over the fetcher's default 8 MiB cap)
--used-weight W adds "X-MBX-USED-WEIGHT-1M: W" to every answer.
--stale-first N answers the first N good requests with the snapshot made stale: its lastUpdateId
  lowered by 1000, so it cannot bridge the stream (the client must fetch another).
"""
import argparse
import json
import os
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "support"))
from capture_file import capture_messages  # noqa: E402
from requirements import require_module, require_path  # noqa: E402

PATHS = ("/api/v3/depth", "/fapi/v1/depth")


def recorded_snapshot(capture):
    for message in capture_messages(capture):
        if message.startswith('{"lastUpdateId"'):
            return message.encode()
    print(f"FAIL: no {{\"lastUpdateId\"...}} line in {capture}", file=sys.stderr)
    sys.exit(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--capture", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--plain", action="store_true", help="HTTP instead of HTTPS")
    ap.add_argument("--fail-first", type=int, default=0)
    ap.add_argument("--fail-kind", choices=("status", "notdepth", "big"), default="status")
    ap.add_argument("--fail-status", type=int, default=429)
    ap.add_argument("--retry-after", type=int, default=-1)
    ap.add_argument("--used-weight", type=int, default=-1)
    ap.add_argument("--stale-first", type=int, default=0)
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    args = ap.parse_args()
    require_path(args.capture, "recorded Binance capture")

    snapshot = recorded_snapshot(args.capture)
    recorded_id = json.loads(snapshot)["lastUpdateId"]
    stale = snapshot.replace(b'"lastUpdateId":%d' % recorded_id, b'"lastUpdateId":%d' % (recorded_id - 1000), 1)
    with open(os.path.join(args.dir, "snapshot.json"), "wb") as f:
        f.write(snapshot)
    log = open(os.path.join(args.dir, "requests.log"), "a", buffering=1)
    state = {"count": 0}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def answer(self, status, body, extra=()):
            self.send_response(status)
            self.send_header("Content-Type", "application/json;charset=UTF-8")
            self.send_header("Content-Length", str(len(body)))
            if args.used_weight >= 0:
                self.send_header("X-MBX-USED-WEIGHT-1M", str(args.used_weight))
            for name, value in extra:
                self.send_header(name, value)
            self.end_headers()
            try:
                for i in range(0, len(body), 1 << 16):
                    self.wfile.write(body[i:i + (1 << 16)])
            except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
                self.close_connection = True

        def do_GET(self):
            with lock:
                log.write(f"{time.monotonic_ns()} {self.path}\n")
                n = state["count"]
                state["count"] += 1
            if self.path.split("?")[0] not in PATHS:
                return self.answer(404, b'{"code":-1,"msg":"not found"}')
            if n < args.fail_first:
                if args.fail_kind == "notdepth":
                    return self.answer(200, b'{"code":-1121,"msg":"Invalid symbol."}')
                if args.fail_kind == "big":
                    return self.answer(200, b"[" + b"0," * (9 << 19) + b"0]")
                extra = [("Retry-After", str(args.retry_after))] if args.retry_after >= 0 else []
                body = json.dumps({"code": -1003, "msg": "Too much request weight used."})
                return self.answer(args.fail_status, body.encode(), extra)
            if n < args.fail_first + args.stale_first:
                return self.answer(200, stale)
            return self.answer(200, snapshot)

    ctx = None
    if not args.plain:
        if args.tls_cert:
            cert, key = args.tls_cert, args.tls_key
        else:
            require_module("cryptography", "python3-cryptography")
            from tls_certs import make_certs
            make_certs(args.dir)
            cert, key = (os.path.join(args.dir, "localhost-name." + ext) for ext in ("pem", "key"))
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(cert, key)

    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def finish_request(self, request, client_address):
            # The TLS handshake runs here, on the connection's own thread and with a timeout, so a
            # client that fails verification (and aborts) or stalls never holds up accept().
            if ctx is not None:
                request.settimeout(10)
                try:
                    request = ctx.wrap_socket(request, server_side=True)
                except (ssl.SSLError, OSError):
                    return
            super().finish_request(request, client_address)

    server = Server(("127.0.0.1", 0), Handler)
    last_update_id = json.loads(snapshot)["lastUpdateId"]
    print(f"{server.server_address[1]} {last_update_id}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
