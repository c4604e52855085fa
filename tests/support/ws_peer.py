"""The shared skeleton of the python3-websockets peers in tests/peers/: listen on 127.0.0.1,
print the port on stdout (the test reads it), serve until killed."""
import asyncio
import sys

import websockets


async def serve_websockets(handler, port):
    """A websockets server with no size limit, compression or keepalive pings of its own."""
    return await websockets.serve(handler, "127.0.0.1", port, max_size=None, compression=None,
                                  ping_interval=None)


async def announce_and_serve(server):
    print(server.sockets[0].getsockname()[1], flush=True)
    await asyncio.Future()


def run(main):
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
