"""Reading a response body under a hard size cap that also holds after decompression (gzip bombs)."""

from __future__ import annotations

import zlib

import httpx

from monitor.errors import FetchError


async def read_capped(response: httpx.Response, limit: int, url: str) -> bytes:
    """The body, decompressed, never more than `limit` bytes held. gzip/deflate are inflated here with
    zlib's max_length rather than by httpx: httpx inflates each network chunk whole, so a 1 MB gzip bomb
    briefly took 150 MB before the cap could see it; here no call yields more than the budget left."""
    chunks: list[bytes] = []
    size = 0

    def take(data: bytes) -> None:
        nonlocal size
        size += len(data)
        if size > limit:
            raise FetchError(f"response too large (over {limit} bytes) from {url}", transient=False,
                             retryable=False)
        chunks.append(data)

    encoding = response.headers.get("content-encoding", "").strip().lower()
    if encoding not in ("gzip", "x-gzip", "deflate"):
        async for chunk in response.aiter_bytes():  # identity, or a coding we never ask for
            take(chunk)
        return b"".join(chunks)
    inflater = zlib.decompressobj(zlib.MAX_WBITS | 16 if "gzip" in encoding else zlib.MAX_WBITS)
    first = True
    try:
        async for raw in response.aiter_raw():
            if first and encoding == "deflate" and raw[:1] and raw[0] & 0x0F != 8:
                inflater = zlib.decompressobj(-zlib.MAX_WBITS)  # "deflate" sent raw, without the zlib header
            first = False
            data = inflater.decompress(raw, limit + 1 - size)
            take(data)
            while inflater.unconsumed_tail:
                take(inflater.decompress(inflater.unconsumed_tail, limit + 1 - size))
    except zlib.error as exc:
        raise FetchError(f"undecodable {encoding} body from {url}: {exc}", transient=False,
                         retryable=False) from exc
    return b"".join(chunks)
