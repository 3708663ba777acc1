#!/usr/bin/env python3
"""The CPython side of bench/websocket_echo_bench.cpp: a WebSocket echo server.

  --impl aiohttp      aiohttp.web with a WebSocketResponse handler: `async for msg in ws:`
                      send the message back (send_str / send_bytes) -- the obvious aiohttp code
  --impl websockets   python3-websockets: `async for msg in ws: await ws.send(msg)`
With --loop uvloop the same code runs on uvloop's event loop. The path is /ws for both.

Once listening it prints "PORT <n>" on stdout; it serves until its stdin reaches EOF (the
benchmark closes it) or it gets SIGTERM.

Usage: websocket_echo.py [--impl aiohttp|websockets] [--loop asyncio|uvloop]
"""

import argparse
import asyncio

from asyncio_echo import stopped, use_loop  # SIGTERM or EOF on stdin; uvloop


async def serve_aiohttp():
    from aiohttp import web

    async def handler(request):
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for msg in ws:
            if msg.type == web.WSMsgType.TEXT:
                await ws.send_str(msg.data)
            elif msg.type == web.WSMsgType.BINARY:
                await ws.send_bytes(msg.data)
        return ws

    app = web.Application()
    app.router.add_get("/ws", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return site._server.sockets[0].getsockname()[1], runner.cleanup


async def serve_websockets():
    import logging
    import websockets

    # The load generator drops its connections without a closing handshake: not news.
    logging.getLogger("websockets").setLevel(logging.CRITICAL)

    async def handler(ws, *args):
        async for msg in ws:
            await ws.send(msg)

    server = await websockets.serve(handler, "127.0.0.1", 0, max_size=None, compression=None)

    async def stop():
        server.close()
        await server.wait_closed()

    return server.sockets[0].getsockname()[1], stop


async def main(impl):
    port, stop_server = await (serve_aiohttp() if impl == "aiohttp" else serve_websockets())
    print("PORT", port, flush=True)
    await stopped()
    await stop_server()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--impl", choices=["aiohttp", "websockets"], default="aiohttp")
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio")
    args = parser.parse_args()
    use_loop(args.loop)
    asyncio.run(main(args.impl))
