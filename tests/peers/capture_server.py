#!/usr/bin/env python3
"""WebSocket server that plays a capture file to its client (python3-websockets), for
tests/tools/record_cli_test.py: an exchange stand-in independent of our own code.

usage: capture_server.py CAPTURE [--interval-ms N] [--log FILE] [--port P] [--hold]
                         [--skip-snapshot] [--start-delay-ms MS] [--max-lines N]
                         [--tls-cert PEM --tls-key PEM]

Listens on 127.0.0.1 (port 0 by default) and prints the port on stdout. For each connection:
waits for a subscribe request -- Bybit v5 {"op":"subscribe",...} or Binance
{"method":"SUBSCRIBE",...} -- unless the request path names its streams (Binance
/stream?streams=a/b or /ws/<stream>); then sends every line of CAPTURE (gzip or plain; the
`<local_ns> ` prefix stripped) as one text message, N ms apart (default 0), and closes with
code 1000 (--hold: keeps the connection open instead, so a client sees the capture exactly
once; --start-delay-ms waits that long after the subscription before the first line;
--max-lines serves only the first N lines). --skip-snapshot leaves out a Binance REST snapshot line ({"lastUpdateId":...}): on a live
venue that comes from REST, not the socket. With --tls-cert/--tls-key it serves wss:// (TLS).
Meanwhile it answers Bybit's {"op":"ping"} with Bybit's pong. Every message the
client sends is appended to --log, one per line.
"""
import argparse
import asyncio
import json
import os
import sys

import websockets

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from capture_file import capture_messages  # noqa: E402
import ws_peer  # noqa: E402


def is_subscribe(msg):
    try:
        m = json.loads(msg)
    except ValueError:
        return False
    return isinstance(m, dict) and (m.get("op") == "subscribe" or m.get("method") == "SUBSCRIBE")


async def serve_client(ws, path, args, messages):
    path = path if path is not None else getattr(ws, "path", "")
    log = open(args.log, "a", encoding="utf-8") if args.log else None
    subscribed = asyncio.Event()
    if "streams=" in path or path.startswith("/ws/"):
        subscribed.set()

    async def reader():
        try:
            async for msg in ws:
                if log:
                    log.write(msg + "\n")
                    log.flush()
                if is_subscribe(msg):
                    subscribed.set()
                elif msg == '{"op":"ping"}':
                    await ws.send(json.dumps({"success": True, "ret_msg": "pong",
                                              "conn_id": "capture-server", "op": "ping"},
                                             separators=(",", ":")))
        except websockets.ConnectionClosed:
            pass

    task = asyncio.ensure_future(reader())
    try:
        await asyncio.wait_for(subscribed.wait(), 10)
        if args.start_delay_ms:
            await asyncio.sleep(args.start_delay_ms / 1000)
        for m in messages:
            await ws.send(m)
            if args.interval_ms:
                await asyncio.sleep(args.interval_ms / 1000)
        if args.hold:
            await ws.wait_closed()
        else:
            await ws.close(code=1000, reason="end of capture")
    except (websockets.ConnectionClosed, asyncio.TimeoutError):
        pass
    finally:
        task.cancel()
        if log:
            log.close()


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("capture")
    ap.add_argument("--interval-ms", type=float, default=0)
    ap.add_argument("--log")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--hold", action="store_true")
    ap.add_argument("--start-delay-ms", type=float, default=0)
    ap.add_argument("--max-lines", type=int, default=0)
    ap.add_argument("--skip-snapshot", action="store_true")
    ws_peer.add_tls_args(ap)
    args = ap.parse_args()
    messages = list(capture_messages(args.capture))
    if args.max_lines:
        messages = messages[:args.max_lines]
    if args.skip_snapshot:
        messages = [m for m in messages if not m.startswith('{"lastUpdateId"')]

    async def handler(ws, path=None):
        await serve_client(ws, path, args, messages)

    await ws_peer.announce_and_serve(
        await ws_peer.serve_websockets(handler, args.port, ws_peer.server_ssl(args)))


if __name__ == "__main__":
    ws_peer.run(main)
