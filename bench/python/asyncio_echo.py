#!/usr/bin/env python3
"""The CPython side of bench/asyncio_echo_bench.cpp: a TCP echo server on asyncio streams.

The server is the obvious asyncio one -- start_server, and per connection
`data = await reader.read(65536); writer.write(data); await writer.drain()` until EOF --
the same loop as the pyconc and Asio servers of the C++ benchmark, which drives all of them
with one load generator. With --loop uvloop the same code runs on uvloop's event loop.

Once listening it prints "PORT <n>" on stdout; it serves until its stdin reaches EOF (the
benchmark closes it) or it gets SIGTERM.

Usage: asyncio_echo.py [--loop asyncio|uvloop] [--host 127.0.0.1] [--port 0]
"""

import argparse
import asyncio
import signal
import sys


async def handle(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    writer.close()


async def main(host, port):
    server = await asyncio.start_server(handle, host, port)
    print("PORT", server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await stopped()


async def stopped():
    """Returns on SIGTERM or when stdin reaches EOF (the benchmark exits, even if it crashed)."""
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    loop.add_signal_handler(signal.SIGTERM, lambda: stop.done() or stop.set_result(None))

    def on_stdin():
        if not sys.stdin.buffer.read1(4096):
            loop.remove_reader(sys.stdin.fileno())
            if not stop.done():
                stop.set_result(None)

    loop.add_reader(sys.stdin.fileno(), on_stdin)
    await stop


def use_loop(name):
    """Installs uvloop for name == "uvloop" (exits with an ERROR line when it is missing)."""
    if name == "uvloop":
        try:
            import uvloop
        except ImportError:
            print("ERROR uvloop is not installed (Debian: python3-uvloop)", flush=True)
            sys.exit(2)
        uvloop.install()


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    use_loop(args.loop)
    asyncio.run(main(args.host, args.port))
