#!/usr/bin/env python3
"""WebSocket peer for tests/feed/ws_client_test.cc (python3-websockets).

Listens on 127.0.0.1 (port 0 by default), prints the port on stdout, serves until killed.
--mode normal: text commands from the client (anything else is echoed back):
  "cmd burst N SIZE [START]"  N messages of SIZE bytes written in ONE transport write
                              (several frames land in one client read)
  "cmd big N SIZE [START]"    N messages of SIZE bytes, one send() each (span many reads)
  "cmd ping PAYLOAD"          server ping; reports "pong-ok PAYLOAD" when the pong came back
  "cmd close CODE REASON"     server-initiated close handshake
--mode bad-accept  answers the upgrade with a wrong Sec-WebSocket-Accept
--mode status403   answers the upgrade with "HTTP/1.1 403 Forbidden"
--mode masked      after the handshake sends a masked text frame (servers must not mask)
--mode oversized   after the handshake sends a frame header announcing 8 GiB
--mode tls-drop    reads the first bytes (a TLS ClientHello) and closes: a server that dies
                   in the middle of the TLS handshake
--tls-cert/--tls-key  serve wss:// (TLS) instead of ws:// (modes normal, masked, oversized)
Message i (i counts from START) is "%08d|" % i followed by letters ('a' + (i + j) % 26).
"""
import argparse
import asyncio
import os
import struct
import sys

import websockets

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import ws_peer  # noqa: E402


def payload(i, size):
    head = b"%08d|" % i
    body = bytes(97 + (i + j) % 26 for j in range(max(0, size - len(head))))
    return (head + body)[:size] if size >= len(head) else head[:size]


def frame(opcode, data):
    n = len(data)
    if n <= 125:
        hdr = struct.pack("!BB", 0x80 | opcode, n)
    elif n <= 0xFFFF:
        hdr = struct.pack("!BBH", 0x80 | opcode, 126, n)
    else:
        hdr = struct.pack("!BBQ", 0x80 | opcode, 127, n)
    return hdr + data


async def normal(ws, path=None):
    try:
        async for msg in ws:
            if isinstance(msg, bytes) or not msg.startswith("cmd "):
                await ws.send(msg)
                continue
            parts = msg.split(" ")
            cmd = parts[1]
            if cmd in ("burst", "big"):
                n, size = int(parts[2]), int(parts[3])
                start = int(parts[4]) if len(parts) > 4 else 0
                if cmd == "burst":
                    ws.transport.write(b"".join(frame(1, payload(start + i, size)) for i in range(n)))
                else:
                    for i in range(n):
                        await ws.send(payload(start + i, size).decode())
            elif cmd == "ping":
                data = parts[2].encode()
                waiter = await ws.ping(data)
                await asyncio.wait_for(waiter, 5)
                await ws.send("pong-ok " + parts[2])
            elif cmd == "close":
                await ws.close(code=int(parts[2]), reason=" ".join(parts[3:]))
                return
    except websockets.ConnectionClosed:
        pass


async def bad_frames(ws, path=None, mode="masked"):
    if mode == "masked":
        key = b"\x01\x02\x03\x04"
        data = bytes(b ^ key[i % 4] for i, b in enumerate(b"hello"))
        ws.transport.write(b"\x81\x85" + key + data)
    else:
        ws.transport.write(b"\x82\x7f" + struct.pack("!Q", 8 << 30) + b"x" * 100)
    await asyncio.sleep(10)


async def raw_upgrade(reader, writer, mode):
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = await reader.read(4096)
        if not chunk:
            return
        head += chunk
    if mode == "status403":
        writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
    else:
        writer.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                     b"Connection: Upgrade\r\nSec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n")
    await writer.drain()
    await asyncio.sleep(2)
    writer.close()


async def drop_in_handshake(reader, writer):
    await reader.read(1)  # the ClientHello has started: close before any answer
    writer.close()


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", default="normal",
                    choices=["normal", "bad-accept", "status403", "masked", "oversized", "tls-drop"])
    ap.add_argument("--port", type=int, default=0)
    ws_peer.add_tls_args(ap)
    args = ap.parse_args()
    if args.mode == "tls-drop":
        server = await asyncio.start_server(drop_in_handshake, "127.0.0.1", args.port)
    elif args.mode in ("bad-accept", "status403"):
        server = await asyncio.start_server(lambda r, w: raw_upgrade(r, w, args.mode),
                                            "127.0.0.1", args.port)
    else:
        if args.mode == "normal":
            handler = normal
        else:
            async def handler(ws, path=None):
                await bad_frames(ws, path, args.mode)
        server = await ws_peer.serve_websockets(handler, args.port, ws_peer.server_ssl(args))
    await ws_peer.announce_and_serve(server)


if __name__ == "__main__":
    ws_peer.run(main)
