#!/usr/bin/env python3
"""The seeds' aiohttp hello route, for bench/http_server.sh: aiohttp_server.py PORT [uvloop]."""
import sys

from aiohttp import web


async def hello(request):
    return web.Response(text="<h1>hello, %s!</h1>" % request.match_info["name"], content_type="text/html")


def main():
    port = int(sys.argv[1])
    app = web.Application()
    app.router.add_get("/hello/{name}", hello)
    if len(sys.argv) > 2 and sys.argv[2] == "uvloop":
        import uvloop
        uvloop.install()
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


if __name__ == "__main__":
    main()
