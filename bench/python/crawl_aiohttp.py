#!/usr/bin/env python3
"""The Python side of the crawl benchmark (bench/crawl.sh): a breadth-first crawler on aiohttp
and html.parser, doing what `pyconc crawl --same-host` does, so the two can be timed on the same
site and their page sets compared.

Rules, as pyconc's Crawler: level by level (every page of depth d before any of depth d + 1);
links are the href of <a> and <area> (resolved against the page and <base href>), http(s)
only, fragment dropped, same host as the start URL, each URL fetched once; robots.txt read once
(urllib.robotparser); every link is fetched, only text/html answers are parsed; a redirect's
target counts as fetched. Prints one line `crawl_python <pages> <seconds>` and writes the
fetched URLs (final, one per line) to --out.
"""
import argparse
import asyncio
import sys
import time
import urllib.robotparser
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin, urlsplit, urlunsplit

import aiohttp


class LinkParser(HTMLParser):
    def __init__(self, page_url):
        super().__init__(convert_charrefs=True)
        self.base = page_url
        self.hrefs = []
        self.title = []
        self.in_title = False
        self.saw_base = False

    def handle_starttag(self, tag, attrs):
        if tag == "base" and not self.saw_base:
            href = dict(attrs).get("href")
            if href:
                self.base = urljoin(self.base, href)
                self.saw_base = True
        elif tag in ("a", "area"):
            href = dict(attrs).get("href")
            if href is not None:
                self.hrefs.append(href)
        elif tag == "title":
            self.in_title = True

    def handle_endtag(self, tag):
        if tag == "title":
            self.in_title = False

    def handle_data(self, data):
        if self.in_title:
            self.title.append(data)


def normalize(url):
    url, _ = urldefrag(url)
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    port = parts.port
    if port and not ((parts.scheme == "http" and port == 80) or (parts.scheme == "https" and port == 443)):
        netloc = f"{netloc}:{port}"
    return urlunsplit((parts.scheme.lower(), netloc.lower(), parts.path or "/", parts.query, ""))


async def fetch(session, url):
    async with session.get(url) as resp:
        final = normalize(str(resp.url))
        ctype = resp.content_type
        body = await resp.read()
        links = []
        if resp.status < 300 and ctype in ("text/html", "application/xhtml+xml"):
            parser = LinkParser(final)
            parser.feed(body.decode(resp.charset or "utf-8", errors="replace"))
            for href in parser.hrefs:
                link = urljoin(parser.base, href.strip())
                if urlsplit(link).scheme in ("http", "https"):
                    links.append(normalize(link))
        return final, resp.status, links


async def crawl(start, concurrency, max_pages):
    start = normalize(start)
    host = urlsplit(start).netloc
    connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=concurrency)
    fetched, seen = [], {start}
    async with aiohttp.ClientSession(connector=connector) as session:
        robots = urllib.robotparser.RobotFileParser()
        async with session.get(urljoin(start, "/robots.txt")) as r:
            text = await r.text(errors="replace")
            if r.status < 300:
                robots.parse(text.splitlines())
            else:
                robots.parse([])
        level = [start]
        done = set()
        while level:
            level = [u for u in level if robots.can_fetch("pyconc", u)]
            if max_pages:
                level = level[: max_pages - len(fetched)]
            queue = iter(level)
            results = {}

            async def worker():
                for url in queue:
                    try:
                        results[url] = await fetch(session, url)
                    except aiohttp.ClientError as e:
                        results[url] = (url, 0, [])

            await asyncio.gather(*(worker() for _ in range(min(concurrency, len(level)))))
            next_level = []
            for url in level:
                final, status, links = results[url]
                if final != url and final in done:
                    continue
                done.add(final)
                seen.add(final)
                fetched.append(final)
                for link in links:
                    if urlsplit(link).netloc == host and link not in seen:
                        seen.add(link)
                        next_level.append(link)
            if max_pages and len(fetched) >= max_pages:
                break
            level = next_level
    return fetched


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("url")
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--max-pages", type=int, default=0)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    t0 = time.perf_counter()
    pages = asyncio.run(crawl(args.url, args.concurrency, args.max_pages))
    elapsed = time.perf_counter() - t0
    with open(args.out, "w") as f:
        for p in pages:
            f.write(p + "\n")
    print(f"# python {sys.version.split()[0]}, aiohttp {aiohttp.__version__}")
    print(f"crawl_python {len(pages)} {elapsed:.3f}")


if __name__ == "__main__":
    main()
