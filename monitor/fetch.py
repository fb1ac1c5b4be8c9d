"""The one shared HTTP client and its policies: timeouts, a size cap (after decompression), bounded redirects,
http(s) only (no https -> http downgrade), conditional GET, per-host concurrency and a minimum gap between
requests to one host, a few retries with backoff for transient failures, Retry-After and Cache-Control max-age
surfaced to the caller."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpx

from monitor import USER_AGENT
from monitor.errors import FetchError
from monitor.readcap import read_capped

if TYPE_CHECKING:
    from monitor.config import DaemonConfig

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_TIMEOUT_S = 20.0
DEFAULT_HOST_GAP_S = 1.0
MAX_REDIRECTS = 5
# Not 503 (and not 429): the server says it is overloaded, so the poll fails and backs off instead.
RETRYABLE_STATUS = frozenset((500, 502, 504))
_MAX_AGE = re.compile(r"(?:^|,)\s*(?:s-maxage|max-age)\s*=\s*\"?(\d+)", re.IGNORECASE)


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

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")

    @property
    def max_age_s(self) -> float | None:
        """How long the server says this answer stays fresh (Cache-Control max-age), if it says so."""
        return parse_max_age(self.headers.get("cache-control"))


@dataclass
class FetchPolicy:
    timeout_s: float = DEFAULT_TIMEOUT_S
    max_bytes: int = DEFAULT_MAX_BYTES
    per_host: int = 2
    # Minimum time between the starts of two requests to one host. None: DEFAULT_HOST_GAP_S to remote hosts and
    # none to loopback (the demo, tests, a local proxy); an explicit value applies to every host.
    host_gap_s: float | None = None
    retries: int = 2  # extra attempts within one request for timeouts, resets and 5xx
    retry_backoff_s: float = 0.5  # first retry waits this long, then doubles
    verify_tls: bool = True

    @classmethod
    def from_daemon(cls, daemon: DaemonConfig) -> FetchPolicy:
        """The [daemon] fetch keys (README.md, "Fetching policy")."""
        return cls(timeout_s=daemon.fetch_timeout, max_bytes=daemon.max_response, per_host=daemon.host_concurrency,
                   host_gap_s=daemon.host_gap, retries=daemon.fetch_retries)

    def gap_for(self, hostname: str) -> float:
        if self.host_gap_s is not None:
            return self.host_gap_s
        return 0.0 if _is_loopback(hostname) else DEFAULT_HOST_GAP_S


def _is_loopback(hostname: str) -> bool:
    if hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname.strip("[]")).is_loopback
    except ValueError:
        return False


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


def parse_max_age(value: str | None) -> float | None:
    if not value:
        return None
    if re.search(r"no-cache|no-store", value, re.IGNORECASE):
        return None
    m = _MAX_AGE.search(value)
    return float(m.group(1)) if m else None


@dataclass
class _Host:
    """Politeness state of one host: a concurrency limit and the earliest start of its next request."""

    slots: asyncio.Semaphore
    gap_s: float
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    next_start: float = 0.0


@dataclass
class Fetcher:
    """Wraps one httpx.AsyncClient shared by all sources."""

    policy: FetchPolicy = field(default_factory=FetchPolicy)
    _client: httpx.AsyncClient | None = None
    _insecure_client: httpx.AsyncClient | None = None
    _hosts: dict[str, _Host] = field(default_factory=dict)

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

    def _host(self, url: str) -> _Host:
        parts = urlsplit(url)
        key = parts.netloc.lower()
        if key not in self._hosts:
            gap = self.policy.gap_for((parts.hostname or "").lower())
            self._hosts[key] = _Host(asyncio.Semaphore(self.policy.per_host), gap)
        return self._hosts[key]

    async def _wait_turn(self, host: _Host) -> None:
        """Reserve the next start time for this host, then sleep until it (outside the lock)."""
        gap = host.gap_s
        if gap <= 0:
            return
        async with host.lock:
            now = time.monotonic()
            start = max(now, host.next_start)
            host.next_start = start + gap
        if start > now:
            await asyncio.sleep(start - now)

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
        retries: int | None = None,
    ) -> Response:
        """One request, redirects followed (at most MAX_REDIRECTS, http(s) only), transient failures retried a
        few times with exponential backoff. Raises FetchError."""
        attempts = 1 + (self.policy.retries if retries is None else retries)
        for attempt in range(attempts):
            try:
                return await self._get_once(url, headers, etag, last_modified, method, json_body, verify)
            except FetchError as exc:
                # 429 and a long Retry-After are the server asking us to go away: fail the poll, back off.
                wait = self.policy.retry_backoff_s * 2**attempt
                retry_after = exc.retry_after_s
                if (not exc.retryable or attempt + 1 >= attempts
                        or (retry_after is not None and retry_after > wait)):
                    raise
                log.info("retrying in %.1fs (attempt %d/%d): %s", wait, attempt + 2, attempts, exc)
                await asyncio.sleep(wait)
        raise AssertionError("unreachable")

    async def _get_once(self, url: str, headers: dict[str, str] | None, etag: str | None,
                        last_modified: str | None, method: str, json_body: object | None,
                        verify: bool) -> Response:
        send_headers = dict(headers or {})
        if etag:
            send_headers["If-None-Match"] = etag
        if last_modified:
            send_headers["If-Modified-Since"] = last_modified
        current = url
        _check_scheme(current)
        for _hop in range(MAX_REDIRECTS + 1):
            host = self._host(current)
            async with host.slots:
                await self._wait_turn(host)
                status, resp_headers, body = await self._request_once(
                    method, current, send_headers, json_body, verify
                )
            if status in (301, 302, 303, 307, 308) and "location" in resp_headers:
                target = str(httpx.URL(current).join(resp_headers["location"]))
                _check_redirect(current, target)
                current = target
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
                    retryable=status in RETRYABLE_STATUS,
                    status=status,
                )
            if status >= 400:
                raise FetchError(f"HTTP {status} from {current}", transient=status in (408, 425),
                                 retryable=False, status=status)
            return Response(current, status, body, resp_headers)
        raise FetchError(f"too many redirects (more than {MAX_REDIRECTS}) from {url}", transient=False,
                         retryable=False)

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
                                     transient=False, retryable=False)
                body = await read_capped(response, limit, url)
            finally:
                await response.aclose()
        except httpx.TimeoutException as exc:
            raise FetchError(f"timeout after {self.policy.timeout_s:g}s fetching {url}") from exc
        except httpx.DecodingError as exc:
            raise FetchError(f"undecodable response body from {url}: {exc}", retryable=False) from exc
        except httpx.HTTPError as exc:
            raise FetchError(f"{type(exc).__name__} fetching {url}: {exc}") from exc
        return response.status_code, {k.lower(): v for k, v in response.headers.items()}, body


def _check_scheme(url: str) -> None:
    scheme = urlsplit(url).scheme.lower()
    if scheme not in ("http", "https"):
        raise FetchError(f"refusing to fetch {url!r}: only http and https are allowed", transient=False,
                         retryable=False)


def _check_redirect(current: str, target: str) -> None:
    """Only http(s) targets, and never from https down to plain http (that would expose the request)."""
    _check_scheme(target)
    if urlsplit(current).scheme.lower() == "https" and urlsplit(target).scheme.lower() != "https":
        raise FetchError(f"refusing redirect from https to another scheme: {current} -> {target}",
                         transient=False, retryable=False)
