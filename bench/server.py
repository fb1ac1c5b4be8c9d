"""A fast local news site farm for the benchmarks: many sources on 127.0.0.1, one port per source (so each is
its own host, as real sites are), HTTP/1.1 keep-alive on plain asyncio protocols.

    python -m bench.server --sources 1000 [--per-source 5] [--style generic]

Prints one JSON line {"ports": [...], "control": port} when it listens, then serves until killed.
  GET /s{i}/                listing of source i: its newest `per-source` articles; ETag changes when it does
  GET /s{i}/news-{k}.html   an article page (10-15 KB, bench.corpus)
  GET /s{i}/feed.xml        the same listing as RSS
  GET /_ctl/publish?s=i     (control port) a new article on source i; answers its URL path
  GET /_ctl/stats           request counts by status
A listing answers 304 to a matching If-None-Match. Run in its own process: it must not share the CPU of the
client it serves.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
from collections import Counter
from urllib.parse import parse_qs, urlsplit

from bench import corpus


class Farm:
    def __init__(self, sources: int, per_source: int, style: str, seed: int, distinct: bool = False) -> None:
        self.sources, self.per_source, self.style, self.seed = sources, per_source, style, seed
        self.distinct = distinct
        # source -> article indices, newest first; index = source + sources * k keeps every source's own
        self.items: list[list[int]] = [[s + sources * k for k in range(per_source)][::-1] for s in range(sources)]
        self.next_k = [per_source] * sources
        self.generation = [0] * sources
        self.pages: dict[int, bytes] = {}
        self.stats: Counter[int] = Counter()

    def article(self, index: int) -> corpus.Article:
        return corpus.article(index, seed=self.seed, sources=self.sources, distinct=self.distinct)

    def page(self, index: int) -> bytes:
        if index not in self.pages:
            self.pages[index] = corpus.article_html(self.article(index), self.style)
        return self.pages[index]

    def listing(self, source: int, feed: bool) -> bytes:
        items = [self.article(i) for i in self.items[source][: self.per_source]]
        return corpus.rss_xml(items) if feed else corpus.listing_html(items, self.style)

    def publish(self, source: int) -> str:
        index = source + self.sources * self.next_k[source]
        self.next_k[source] += 1
        self.items[source].insert(0, index)
        self.generation[source] += 1
        return self.article(index).path()

    def answer(self, path: str, inm: str | None) -> tuple[int, bytes, str, str | None]:
        """(status, body, content type, etag)."""
        parts = urlsplit(path)
        segs = parts.path.strip("/").split("/")
        if segs[0] == "_ctl":
            if segs[1:] == ["publish"]:
                return 200, self.publish(int(parse_qs(parts.query)["s"][0])).encode(), "text/plain", None
            if segs[1:] == ["stats"]:
                return 200, json.dumps(dict(self.stats)).encode(), "application/json", None
        if segs and segs[0].startswith("s") and segs[0][1:].isdigit():
            source = int(segs[0][1:])
            if source < self.sources:
                if len(segs) == 1 or segs[1] in ("", "feed.xml"):
                    etag = f'"{source}-{self.generation[source]}"'
                    if inm == etag:
                        return 304, b"", "", etag
                    feed = len(segs) > 1 and segs[1] == "feed.xml"
                    kind = "application/rss+xml; charset=utf-8" if feed else "text/html; charset=utf-8"
                    return 200, self.listing(source, feed), kind, etag
                if segs[1].startswith("news-") and segs[1].endswith(".html"):
                    index = int(segs[1][5:-5])
                    if index % self.sources == source:
                        return 200, self.page(index), "text/html; charset=utf-8", None
        return 404, b"not found", "text/plain", None


class HttpProtocol(asyncio.Protocol):
    def __init__(self, farm: Farm) -> None:
        self.farm = farm
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:
            head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
            lines = head.decode("latin-1").split("\r\n")
            method, path, _version = ([*lines[0].split(" "), "", ""])[:3]
            headers = {}
            for line in lines[1:]:
                key, _, value = line.partition(":")
                headers[key.strip().lower()] = value.strip()
            status, body, kind, etag = self.farm.answer(path, headers.get("if-none-match"))
            self.farm.stats[status] += 1
            reason = {200: "OK", 304: "Not Modified", 404: "Not Found"}[status]
            out = [f"HTTP/1.1 {status} {reason}", "Server: bench-farm"]
            if etag:
                out.append(f"ETag: {etag}")
            if status != 304:
                out += [f"Content-Type: {kind}", f"Content-Length: {len(body)}"]
            assert self.transport is not None
            payload = body if method != "HEAD" else b""
            self.transport.write(("\r\n".join(out) + "\r\n\r\n").encode("latin-1") + payload)
            if headers.get("connection", "").lower() == "close":
                self.transport.close()
                return


async def serve(farm: Farm, ports: int) -> None:
    loop = asyncio.get_running_loop()
    servers = []
    for _ in range(ports):
        servers.append(await loop.create_server(lambda: HttpProtocol(farm), "127.0.0.1", 0, backlog=1024))
    numbers = [s.sockets[0].getsockname()[1] for s in servers]
    print(json.dumps({"ports": numbers, "control": numbers[0]}), flush=True)
    await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench.server")
    parser.add_argument("--sources", type=int, default=1000)
    parser.add_argument("--ports", type=int, default=None, help="default: one per source")
    parser.add_argument("--per-source", type=int, default=5)
    parser.add_argument("--style", default="generic", choices=corpus.STYLES)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--distinct", action="store_true", help="articles that are never near-duplicates")
    args = parser.parse_args(argv)
    farm = Farm(args.sources, args.per_source, args.style, args.seed, args.distinct)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(farm, args.ports or args.sources))


if __name__ == "__main__":
    main(sys.argv[1:])
