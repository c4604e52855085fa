#!/usr/bin/python3
"""A fault-injecting reverse proxy for a Bybit v5 trading venue (the embedded sandbox), for the
dry-run fault tests: the order gateway talks to the proxy, the proxy to the venue, and a test
arms faults through a control port. Python 3 stdlib + python3-websockets only.

usage: venue_fault_proxy.py --rest-upstream http://127.0.0.1:R --ws-upstream ws://127.0.0.1:P
                            [--rest-port 0] [--ws-port 0] [--control-port 0] [--verbose]

Prints one line when ready, then serves until SIGTERM/SIGINT (exit 0 within a few seconds):
  proxy rest=http://127.0.0.1:A ws=ws://127.0.0.1:B/v5/private control=http://127.0.0.1:C

REST (A): every request (method, path, query, body, every header but the hop-by-hop ones, so all
X-BAPI-*) is forwarded to --rest-upstream over one keep-alive connection per client connection;
the upstream's status, headers (X-Bapi-Limit*) and body come back with a correct Content-Length.
HTTP/1.1 keep-alive to the client. Bodies over 64 KiB: 413; chunked request bodies: 411.
WebSocket (B): any path (/v5/private, /v5/public/linear) is forwarded to --ws-upstream + path,
message by message both ways, text as text, binary as binary; a close frame on one side is passed
on with its code, an abrupt end is passed on as an abrupt end. (WebSocket-level ping/pong frames
are answered by each hop, not forwarded; Bybit's JSON {"op":"ping"} is an ordinary message.)

Control (C), JSON in and out (fault_book.py has the fields and their ranges):
  POST /faults {"kind": "http_5xx", "path": "/v5/order/create", "count": 1, "status": 503}
  POST /faults {"kind": "rate_limit", "path": ..., "count": 1, "limit": 10, "reset_ms": 1000}
  POST /faults {"kind": "timeout_after_accept", "path": ..., "count": 1, "hold_ms": 15000}
  POST /faults {"kind": "drop_ws", "refuse_ms": 0, "path": "/v5/private"}
  POST /faults {"kind": "upstream_down", "ms": 3000, "mode": "reset" | "502"}
     -> 200 {"ok": true, "id": N, "fault": {...}} (drop_ws adds "dropped": connections closed);
        400 {"ok": false, "error": "..."} naming the bad field. A list of such objects arms each.
  GET /faults  -> {"applied": {kind: n}, "forwarded": {path: n}, "armed": [...],
                   "refused": {"rest": n, "ws": n}, "ws": {"accepted", "dropped", "open"}, ...}
  POST /reset  -> disarms everything, ends refusal windows, zeroes the counters.
Request faults hit the next `count` requests on `path` (omitted: any path), without forwarding
(http_5xx: that status; rate_limit: HTTP 200 with retCode 10006 "Too many visits!" and
X-Bapi-Limit-Status: 0) except timeout_after_accept: forwarded (the venue acts), the answer read
and dropped, the client's connection held silent for hold_ms, then closed without an answer.
drop_ws closes every open WebSocket on its path now, both legs, without a close frame, and
answers new ones 503 for refuse_ms. upstream_down drops every WebSocket and for `ms` refuses
everything: mode "reset" closes REST connections without an answer and WebSocket handshakes
abruptly; mode "502" answers 502.
"""
import argparse
import asyncio
import http.client
import http.server
import json
import logging
import os
import signal
import socket
import struct
import sys
import threading
import time
import urllib.parse
from http import HTTPStatus

try:
    import websockets
    import websockets.legacy.server
except ImportError:
    sys.exit("venue_fault_proxy: python module 'websockets' not available (Debian package python3-websockets; "
             "run with /usr/bin/python3)")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fault_book import FaultBook, FaultError, parse_fault  # noqa: E402

MAX_BODY = 64 * 1024
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding",
              "upgrade", "proxy-authenticate", "proxy-authorization", "host", "content-length", "expect"}
UPSTREAM_IDLE_S = 2.0  # reconnect before reusing an upstream connection idle this long
STOP = threading.Event()  # set on shutdown: ends every hold


def json_bytes(obj):
    return json.dumps(obj, separators=(",", ":")).encode()


class RestProxyHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 120  # an idle client connection ends after this long
    book = None  # FaultBook, set by serve()
    upstream_host = upstream_port = None
    verbose = False

    def setup(self):
        super().setup()
        self.upstream = None
        self.upstream_used = 0.0

    def finish(self):
        self.close_upstream()
        super().finish()

    def log_message(self, fmt, *args):
        if self.verbose:
            sys.stderr.write("rest: " + (fmt % args) + "\n")

    def close_upstream(self):
        if self.upstream is not None:
            self.upstream.close()
            self.upstream = None

    # --- the request --------------------------------------------------------------------------
    def do_GET(self):
        self.proxy()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_GET

    def read_body(self):
        """The request body, or None after answering 411/413."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.answer(411, b"chunked request bodies are not supported\n", close=True)
            return None
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY:
            self.answer(413, b"request body over 64 KiB or bad Content-Length\n", close=True)
            return None
        return self.rfile.read(length) if length else b""

    def proxy(self):
        body = self.read_body()
        if body is None:
            return
        path = urllib.parse.urlsplit(self.path).path
        down = self.book.down_mode()
        if down is not None:
            self.book.count_refused("rest")
            self.close_upstream()
            if down == "502":
                self.answer(502, b"upstream down\n", close=True)
            else:
                self.drop()
            return
        fault = self.book.take(path)
        if fault is None:
            self.forward(path, body)
        elif fault["kind"] == "http_5xx":
            self.answer(fault["status"], json_bytes({"error": "injected by venue_fault_proxy"}),
                        {"Content-Type": "application/json"})
        elif fault["kind"] == "rate_limit":
            now_ms = int(time.time() * 1000)
            self.answer(200, json_bytes({"retCode": 10006, "retMsg": "Too many visits!", "result": {},
                                         "retExtInfo": {}, "time": now_ms}),
                        {"Content-Type": "application/json", "X-Bapi-Limit": str(fault["limit"]),
                         "X-Bapi-Limit-Status": "0",
                         "X-Bapi-Limit-Reset-Timestamp": str(now_ms + fault["reset_ms"])})
        else:  # timeout_after_accept
            try:
                self.call_upstream(path, body)
            except OSError:
                self.close_upstream()  # the venue did not act; the client still sees a timeout
            STOP.wait(fault["hold_ms"] / 1000)
            self.drop()

    def forward(self, path, body):
        try:
            status, reason, headers, data = self.call_upstream(path, body)
        except OSError as e:
            self.close_upstream()
            self.answer(502, f"upstream unreachable: {e}\n".encode(), close=True)
            return
        self.answer(status, data, headers, reason=reason)

    def call_upstream(self, path, body):
        """One request to the upstream on this connection's keep-alive upstream connection: a
        reused connection the upstream closed while idle gets one retry on a fresh one (the
        upstream never saw the request then). Returns (status, reason, headers, body)."""
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        if body or self.command in ("POST", "PUT", "PATCH"):
            headers["Content-Length"] = str(len(body))
        if self.upstream is not None and time.monotonic() - self.upstream_used > UPSTREAM_IDLE_S:
            self.close_upstream()
        for attempt in (0, 1):
            reused = self.upstream is not None
            if not reused:
                self.upstream = http.client.HTTPConnection(self.upstream_host, self.upstream_port, timeout=30)
            try:
                self.upstream.request(self.command, self.path, body=body or None, headers=headers)
                resp = self.upstream.getresponse()
                data = resp.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.close_upstream()
                if reused and attempt == 0:
                    continue
                raise
            except (OSError, http.client.HTTPException) as e:
                self.close_upstream()
                raise OSError(str(e)) from e
            self.upstream_used = time.monotonic()
            if resp.will_close:
                self.close_upstream()
            self.book.count_forwarded(path)
            out = [(k, v) for k, v in resp.getheaders() if k.lower() not in HOP_BY_HOP]
            return resp.status, resp.reason, out, data
        raise AssertionError("unreachable")

    # --- answers ------------------------------------------------------------------------------
    def answer(self, status, data, headers=(), reason=None, close=False):
        self.send_response_only(status, reason)
        for k, v in (headers.items() if isinstance(headers, dict) else headers):
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        self.wfile.flush()

    def drop(self):
        """Closes the client's connection without an answer (RST: SO_LINGER 0)."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass


class ControlHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 60
    book = None
    ws = None  # WsProxy

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, obj):
        data = json_bytes(obj)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if urllib.parse.urlsplit(self.path).path != "/faults":
            return self.reply(404, {"ok": False, "error": "GET /faults, POST /faults, POST /reset"})
        self.reply(200, self.book.snapshot(self.ws.open_count()))

    def do_POST(self):
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY:
            self.close_connection = True
            return self.reply(413, {"ok": False, "error": "body over 64 KiB or bad Content-Length"})
        raw = self.rfile.read(length)
        path = urllib.parse.urlsplit(self.path).path
        if path == "/reset":
            self.book.reset()
            return self.reply(200, {"ok": True})
        if path != "/faults":
            return self.reply(404, {"ok": False, "error": "GET /faults, POST /faults, POST /reset"})
        try:
            specs = json.loads(raw)
            faults = [parse_fault(s) for s in (specs if isinstance(specs, list) else [specs])]
        except (ValueError, FaultError) as e:
            return self.reply(400, {"ok": False, "error": str(e)})
        answers = [self.arm(f) for f in faults]
        self.reply(200, answers[0] if len(answers) == 1 else {"ok": True, "faults": answers})

    def arm(self, fault):
        fid = self.book.arm(fault)
        out = {"ok": True, "id": fid, "fault": fault}
        if fault["kind"] == "drop_ws":
            out["dropped"] = self.ws.drop(fault["path"])
        elif fault["kind"] == "upstream_down":
            out["dropped"] = self.ws.drop(None)
        return out


class WsProxyProtocol(websockets.legacy.server.WebSocketServerProtocol):
    """Opens the upstream leg before accepting the client, so a refused upstream is a refused
    handshake (502), and refusal windows are applied here."""
    proxy = None  # WsProxy

    async def process_request(self, path, request_headers):
        refusal = self.proxy.book.ws_refusal()
        if refusal is not None:
            self.proxy.book.count_refused("ws")
            if refusal == "reset":
                self.transport.abort()
                raise ConnectionResetError("upstream_down")
            return HTTPStatus(int(refusal)), [("Content-Type", "text/plain")], b"refused by venue_fault_proxy\n"
        try:
            self.upstream = await websockets.connect(self.proxy.upstream + path, max_size=None, compression=None,
                                                     ping_interval=None, open_timeout=5, close_timeout=2)
        except (OSError, asyncio.TimeoutError, websockets.InvalidHandshake) as e:
            return HTTPStatus.BAD_GATEWAY, [("Content-Type", "text/plain")], f"upstream refused: {e}\n".encode()
        return None

    def connection_lost(self, exc):
        """The client is gone (also when its handshake failed after the upstream leg opened)."""
        super().connection_lost(exc)
        up = getattr(self, "upstream", None)
        if up is not None and not up.closed:
            up.transport.abort()


class WsProxy:
    def __init__(self, book, upstream):
        self.book = book
        self.upstream = upstream.rstrip("/")
        self.loop = None
        self.pairs = set()  # (client, upstream) protocols

    def open_count(self):
        return len(self.pairs)

    async def handler(self, client, path=None):
        up = client.upstream
        pair = (client, up)
        self.pairs.add(pair)
        self.book.count_ws("accepted")
        try:
            tasks = [asyncio.ensure_future(self.pump(client, up)), asyncio.ensure_future(self.pump(up, client))]
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for t in tasks:
                t.cancel()
        finally:
            self.pairs.discard(pair)
            for side in pair:
                if not side.closed:
                    side.transport.abort()

    @staticmethod
    async def pump(src, dst):
        """Messages from src to dst until src ends; then dst ends the same way (close code or
        abrupt)."""
        try:
            async for msg in src:
                await dst.send(msg)
        except websockets.ConnectionClosed:
            pass
        if dst.closed:
            return
        code = src.close_code
        if code is None or code == 1006:
            dst.transport.abort()
        else:
            try:
                await asyncio.wait_for(dst.close(code if code not in (1005,) else 1000, src.close_reason or ""), 2)
            except (asyncio.TimeoutError, websockets.ConnectionClosed, OSError):
                dst.transport.abort()

    def drop(self, path):
        """From another thread: aborts every pair whose path is `path` (None: all); returns how
        many."""
        async def go():
            n = 0
            for client, up in list(self.pairs):
                if path is None or client.path == path:
                    client.transport.abort()
                    up.transport.abort()
                    self.pairs.discard((client, up))
                    n += 1
            self.book.count_ws("dropped", n)
            return n
        return asyncio.run_coroutine_threadsafe(go(), self.loop).result(5)


def upstream_address(url, scheme):
    """(host, port) of scheme://HOST:PORT, or None."""
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme != scheme or not parts.hostname or not port or parts.path not in ("", "/"):
        return None
    return parts.hostname, port


def shutdown_stuck():
    sys.stderr.write("venue_fault_proxy: shutdown took over 5 s; exiting anyway\n")
    sys.stderr.flush()
    os._exit(3)


def start_http(handler, port):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
    return server


async def serve(args):
    book = FaultBook()
    RestProxyHandler.book = ControlHandler.book = book
    RestProxyHandler.upstream_host, RestProxyHandler.upstream_port = upstream_address(args.rest_upstream, "http")
    RestProxyHandler.verbose = args.verbose
    ws = WsProxy(book, args.ws_upstream)
    ws.loop = asyncio.get_running_loop()
    ControlHandler.ws = ws
    WsProxyProtocol.proxy = ws
    ws_server = await websockets.serve(ws.handler, "127.0.0.1", args.ws_port, create_protocol=WsProxyProtocol,
                                       max_size=None, compression=None, ping_interval=None, close_timeout=2)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        ws.loop.add_signal_handler(sig, stop.set)
    rest = start_http(RestProxyHandler, args.rest_port)
    control = start_http(ControlHandler, args.control_port)
    print(f"proxy rest=http://127.0.0.1:{rest.server_address[1]} "
          f"ws=ws://127.0.0.1:{ws_server.sockets[0].getsockname()[1]}/v5/private "
          f"control=http://127.0.0.1:{control.server_address[1]}", flush=True)
    await stop.wait()
    # Shutdown never hangs: a watchdog ends the process (status 3) if anything below blocks.
    watchdog = threading.Timer(5.0, shutdown_stuck)
    watchdog.daemon = True
    watchdog.start()
    STOP.set()
    for server in (rest, control):
        server.shutdown()
        server.server_close()
    for client, up in list(ws.pairs):
        client.transport.abort()
        up.transport.abort()
    ws_server.close()
    await asyncio.wait_for(ws_server.wait_closed(), 3)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rest-upstream", required=True, help="the venue's REST base, http://HOST:PORT")
    ap.add_argument("--ws-upstream", required=True, help="the venue's WebSocket base, ws://HOST:PORT")
    ap.add_argument("--rest-port", type=int, default=0, help="REST listening port (0: any free)")
    ap.add_argument("--ws-port", type=int, default=0, help="WebSocket listening port (0: any free)")
    ap.add_argument("--control-port", type=int, default=0, help="control listening port (0: any free)")
    ap.add_argument("--verbose", action="store_true", help="log every REST request on stderr")
    args = ap.parse_args()
    for name in ("rest_port", "ws_port", "control_port"):
        if not 0 <= getattr(args, name) <= 65535:
            ap.error(f"--{name.replace('_', '-')} must be in [0, 65535]")
    for name, scheme in (("rest_upstream", "http"), ("ws_upstream", "ws")):
        if upstream_address(getattr(args, name), scheme) is None:
            ap.error(f"--{name.replace('_', '-')} must be {scheme}://HOST:PORT, got {getattr(args, name)!r}")
    logging.basicConfig(level=logging.INFO if args.verbose else logging.CRITICAL, stream=sys.stderr)
    try:
        asyncio.run(serve(args))
    except asyncio.TimeoutError:
        pass
    os._exit(0)  # daemon threads (held connections) end with the process


if __name__ == "__main__":
    main()
