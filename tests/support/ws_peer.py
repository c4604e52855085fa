"""The shared skeleton of the python3-websockets peers in tests/peers/: listen on 127.0.0.1,
print the port on stdout (the test reads it), serve until killed; wss:// with --tls-cert and
--tls-key (add_tls_args / server_ssl)."""
import asyncio
import ssl
import sys

import websockets


def add_tls_args(ap):
    """--tls-cert/--tls-key: serve wss:// with this PEM certificate chain and key."""
    ap.add_argument("--tls-cert", help="serve wss:// with this PEM certificate (chain)")
    ap.add_argument("--tls-key", help="the certificate's PEM private key")


def server_ssl(args):
    """The server-side SSLContext for --tls-cert/--tls-key, or None for plain ws://."""
    if not getattr(args, "tls_cert", None):
        return None
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.tls_cert, args.tls_key)
    return ctx


async def serve_websockets(handler, port, ssl_context=None):
    """A websockets server with no size limit, compression or keepalive pings of its own."""
    return await websockets.serve(handler, "127.0.0.1", port, max_size=None, compression=None,
                                  ping_interval=None, ssl=ssl_context)


async def announce_and_serve(server):
    print(server.sockets[0].getsockname()[1], flush=True)
    await asyncio.Future()


def run(main):
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
