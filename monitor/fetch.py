"""The one shared HTTP client and its policies: timeouts, a size cap (after decompression), bounded redirects,
http(s) only, conditional GET, per-host concurrency, and Retry-After surfaced to the caller."""

from __future__ import annotations

import asyncio
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import httpx

from monitor import USER_AGENT
from monitor.errors import FetchError

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_TIMEOUT_S = 20.0
MAX_REDIRECTS = 5


@dataclass(frozen=True, slots=True)
class Response:
    url: str
    status: int
    content: bytes
    headers: dict[str, str]
    not_modified: bool = False

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("last-modified")


@dataclass
class FetchPolicy:
    timeout_s: float = DEFAULT_TIMEOUT_S
    max_bytes: int = DEFAULT_MAX_BYTES
    per_host: int = 2
    verify_tls: bool = True


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After is either delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


@dataclass
class Fetcher:
    """Wraps one httpx.AsyncClient shared by all sources."""

    policy: FetchPolicy = field(default_factory=FetchPolicy)
    _client: httpx.AsyncClient | None = None
    _insecure_client: httpx.AsyncClient | None = None
    _host_slots: dict[str, asyncio.Semaphore] = field(default_factory=dict)

    def _make_client(self, verify: bool) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            timeout=httpx.Timeout(self.policy.timeout_s),
            follow_redirects=False,  # followed by hand so that every hop is scheme-checked and counted
            headers={"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"},
            verify=verify,
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
        )

    def client(self, *, verify: bool = True) -> httpx.AsyncClient:
        if verify:
            if self._client is None:
                self._client = self._make_client(True)
            return self._client
        if self._insecure_client is None:
            self._insecure_client = self._make_client(False)
        return self._insecure_client

    async def aclose(self) -> None:
        for c in (self._client, self._insecure_client):
            if c is not None:
                await c.aclose()

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def _slot(self, url: str) -> asyncio.Semaphore:
        host = urlsplit(url).netloc.lower()
        if host not in self._host_slots:
            self._host_slots[host] = asyncio.Semaphore(self.policy.per_host)
        return self._host_slots[host]

    async def get(
        self,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
        method: str = "GET",
        json_body: object | None = None,
        verify: bool = True,
    ) -> Response:
        """One request, redirects followed (at most MAX_REDIRECTS, http(s) only). Raises FetchError."""
        send_headers = dict(headers or {})
        if etag:
            send_headers["If-None-Match"] = etag
        if last_modified:
            send_headers["If-Modified-Since"] = last_modified
        current = url
        for _hop in range(MAX_REDIRECTS + 1):
            _check_scheme(current)
            async with self._slot(current):
                status, resp_headers, body = await self._request_once(
                    method, current, send_headers, json_body, verify
                )
            if status in (301, 302, 303, 307, 308) and "location" in resp_headers:
                current = str(httpx.URL(current).join(resp_headers["location"]))
                if status == 303:
                    method, json_body = "GET", None
                continue
            if status == 304:
                return Response(current, status, b"", resp_headers, not_modified=True)
            if status == 429 or status >= 500:
                raise FetchError(
                    f"HTTP {status} from {current}",
                    transient=True,
                    retry_after_s=parse_retry_after(resp_headers.get("retry-after")),
                )
            if status >= 400:
                raise FetchError(f"HTTP {status} from {current}", transient=status in (408, 425))
            return Response(current, status, body, resp_headers)
        raise FetchError(f"too many redirects (more than {MAX_REDIRECTS}) from {url}", transient=False)

    async def _request_once(
        self, method: str, url: str, headers: dict[str, str], json_body: object | None, verify: bool
    ) -> tuple[int, dict[str, str], bytes]:
        limit = self.policy.max_bytes
        try:
            request = self.client(verify=verify).build_request(method, url, headers=headers, json=json_body)
            response = await self.client(verify=verify).send(request, stream=True)
            try:
                declared = response.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > limit:
                    raise FetchError(f"response too large ({declared} bytes > {limit}) from {url}",
                                     transient=False)
                body = await read_capped(response, limit, url)
            finally:
                await response.aclose()
        except httpx.TimeoutException as exc:
            raise FetchError(f"timeout after {self.policy.timeout_s:g}s fetching {url}") from exc
        except httpx.HTTPError as exc:
            raise FetchError(f"{type(exc).__name__} fetching {url}: {exc}") from exc
        return response.status_code, {k.lower(): v for k, v in response.headers.items()}, body


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
            raise FetchError(f"response too large (over {limit} bytes) from {url}", transient=False)
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
        raise FetchError(f"undecodable {encoding} body from {url}: {exc}", transient=False) from exc
    return b"".join(chunks)


def _check_scheme(url: str) -> None:
    scheme = urlsplit(url).scheme.lower()
    if scheme not in ("http", "https"):
        raise FetchError(f"refusing to fetch {url!r}: only http and https are allowed", transient=False)
