"""The fetcher's policies against a real HTTP server on loopback."""

from __future__ import annotations

import asyncio
import gzip
import time
from typing import Any

import pytest

from monitor.errors import FetchError
from monitor.fetch import Fetcher, FetchPolicy, parse_max_age, parse_retry_after
from tests.servers.pages import PageServer, Route


def fetcher(**policy: object) -> Fetcher:
    values: dict[str, object] = {"retries": 0, "retry_backoff_s": 0.01}
    values.update(policy)
    return Fetcher(FetchPolicy(**values))  # type: ignore[arg-type]


async def test_conditional_get_304(pages: PageServer) -> None:
    pages.routes["/feed"] = Route(b"<rss/>", etag='"v1"', headers={"Last-Modified": "Thu, 26 Nov 2026 09:00:00 GMT"})
    async with fetcher() as http:
        first = await http.get(pages.url("/feed"))
        assert first.etag == '"v1"' and first.last_modified == "Thu, 26 Nov 2026 09:00:00 GMT"
        again = await http.get(pages.url("/feed"), etag=first.etag, last_modified=first.last_modified)
    assert again.not_modified and again.status == 304 and again.content == b""
    assert pages.hits[-1].headers["if-none-match"] == '"v1"'
    assert pages.hits[-1].headers["if-modified-since"] == "Thu, 26 Nov 2026 09:00:00 GMT"


async def test_429_surfaces_retry_after_and_is_not_retried(pages: PageServer) -> None:
    pages.routes["/busy"] = Route(b"slow down", status=429, headers={"Retry-After": "120"})
    async with fetcher(retries=2) as http:
        with pytest.raises(FetchError) as err:
            await http.get(pages.url("/busy"))
    assert err.value.retry_after_s == 120 and err.value.status == 429
    assert len(pages.hits) == 1  # the server asked us to go away: no quick retry


def test_header_parsing() -> None:
    assert parse_retry_after("30") == 30
    assert parse_retry_after("Thu, 01 Jan 1970 00:00:00 GMT") == 0.0
    assert parse_retry_after("soon") is None
    assert parse_max_age("public, max-age=900") == 900
    assert parse_max_age("max-age=60, s-maxage=600") == 60
    assert parse_max_age("no-cache, max-age=900") is None
    assert parse_max_age(None) is None


async def test_max_age_is_surfaced(pages: PageServer) -> None:
    pages.routes["/cached"] = Route(b"ok", headers={"Cache-Control": "public, max-age=1800"})
    async with fetcher() as http:
        response = await http.get(pages.url("/cached"))
    assert response.max_age_s == 1800


async def test_transient_failures_are_retried_then_succeed(pages: PageServer) -> None:
    pages.routes["/flaky"] = Route(b"finally", sequence=[Route(b"", status=502), Route(reset=True)])
    async with fetcher(retries=2) as http:
        response = await http.get(pages.url("/flaky"))
    assert response.content == b"finally" and len(pages.hits) == 3


async def test_retries_are_bounded(pages: PageServer) -> None:
    pages.routes["/down"] = Route(b"", status=500)
    async with fetcher(retries=2) as http:
        with pytest.raises(FetchError, match="HTTP 500"):
            await http.get(pages.url("/down"))
    assert len(pages.hits) == 3  # one attempt and two retries, then the poll fails


async def test_client_errors_are_not_retried(pages: PageServer) -> None:
    pages.routes["/gone"] = Route(b"", status=404)
    async with fetcher(retries=2) as http:
        with pytest.raises(FetchError, match="HTTP 404"):
            await http.get(pages.url("/gone"))
    assert len(pages.hits) == 1


async def test_timeout(pages: PageServer) -> None:
    pages.routes["/slow"] = Route(b"late", delay_s=1.0)
    async with fetcher(timeout_s=0.2) as http:
        with pytest.raises(FetchError, match=r"timeout after 0\.2s"):
            await http.get(pages.url("/slow"))


async def test_connection_reset(pages: PageServer) -> None:
    pages.routes["/rst"] = Route(reset=True)
    async with fetcher() as http:
        with pytest.raises(FetchError, match=r"fetching .*/rst"):
            await http.get(pages.url("/rst"))


async def test_truncated_body(pages: PageServer) -> None:
    pages.routes["/cut"] = Route(b"<html>" + b"x" * 5000 + b"</html>", truncate_to=100)
    async with fetcher() as http:
        with pytest.raises(FetchError, match="RemoteProtocolError"):
            await http.get(pages.url("/cut"))


async def test_oversized_body_is_refused(pages: PageServer) -> None:
    pages.routes["/big"] = Route(b"x" * 300_000)
    async with fetcher(max_bytes=100_000) as http:
        with pytest.raises(FetchError, match=r"response too large \(300000 bytes > 100000\)"):
            await http.get(pages.url("/big"))


async def test_gzip_bomb_is_refused_after_decompression(pages: PageServer) -> None:
    bomb = b"\0" * (11 * 1024 * 1024)  # 11 MB of zeros: about 11 KB compressed
    pages.routes["/bomb"] = Route(bomb, gzip=True)
    pages.routes["/small"] = Route(b"<p>fine</p>" * 100, gzip=True)
    assert len(gzip.compress(bomb)) < 100_000
    async with fetcher() as http:  # the default 10 MB cap
        with pytest.raises(FetchError, match="response too large \\(over 10485760 bytes\\)"):
            await http.get(pages.url("/bomb"))
        assert (await http.get(pages.url("/small"))).content == b"<p>fine</p>" * 100
    assert pages.hits[0].headers["accept-encoding"] == "gzip, deflate"


async def test_redirects_are_bounded(pages: PageServer) -> None:
    pages.routes["/loop-a"] = Route(status=302, headers={"Location": "/loop-b"})
    pages.routes["/loop-b"] = Route(status=301, headers={"Location": "/loop-a"})
    pages.routes["/moved"] = Route(status=301, headers={"Location": "/here"})
    pages.routes["/here"] = Route(b"arrived")
    async with fetcher(retries=2) as http:
        response = await http.get(pages.url("/moved"))
        assert response.content == b"arrived" and response.url == pages.url("/here")
        with pytest.raises(FetchError, match="too many redirects"):
            await http.get(pages.url("/loop-a"))
    assert len(pages.hits) == 2 + 6  # a loop is not retried


async def test_redirect_to_another_scheme_is_refused(pages: PageServer) -> None:
    pages.routes["/ftp"] = Route(status=302, headers={"Location": "ftp://example.org/file"})
    pages.routes["/file"] = Route(status=302, headers={"Location": "file:///etc/passwd"})
    async with fetcher() as http:
        for path in ("/ftp", "/file"):
            with pytest.raises(FetchError, match="only http and https are allowed"):
                await http.get(pages.url(path))
        with pytest.raises(FetchError, match="only http and https"):
            await http.get("file:///etc/passwd")


def test_https_downgrade_is_refused() -> None:
    from monitor.fetch import _check_redirect

    _check_redirect("http://example.org/a", "https://example.org/b")  # upgrade: fine
    with pytest.raises(FetchError, match="refusing redirect from https"):
        _check_redirect("https://example.org/a", "http://example.org/b")


async def test_at_most_n_concurrent_requests_per_host(pages: PageServer) -> None:
    for i in range(6):
        pages.routes[f"/p{i}"] = Route(b"ok", delay_s=0.15)
    async with fetcher(per_host=2) as http:
        await asyncio.gather(*(http.get(pages.url(f"/p{i}")) for i in range(6)))
    starts = sorted(h.at for h in pages.hits)
    # With two in flight, the third request can only start once one of the first two (0.15 s each) ended.
    assert starts[2] - starts[0] >= 0.14 and starts[4] - starts[2] >= 0.14


class RecordingFetcher(Fetcher):
    """Notes when each request leaves the policy (server-side arrival times jitter with connection setup)."""

    starts: list[float]

    async def _request_once(self, method: str, url: str, headers: dict[str, str], json_body: object | None,
                            verify: bool) -> tuple[int, dict[str, str], bytes]:
        self.starts.append(time.monotonic())
        return await super()._request_once(method, url, headers, json_body, verify)


async def test_minimum_gap_between_requests_to_one_host(pages: PageServer) -> None:
    for i in range(4):
        pages.routes[f"/g{i}"] = Route(b"ok")
    http = RecordingFetcher(FetchPolicy(per_host=4, host_gap_s=0.2, retries=0))
    http.starts = []
    async with http:
        await asyncio.gather(*(http.get(pages.url(f"/g{i}")) for i in range(4)))
    gaps = [b - a for a, b in zip(http.starts, http.starts[1:], strict=False)]
    # Without the gap they would start together (~0 s apart). The slack is for a busy machine, where the OS can
    # pause the test between a request's turn and the moment it is noted.
    assert len(gaps) == 3 and all(g >= 0.15 for g in gaps), gaps
    assert http.starts[-1] - http.starts[0] >= 0.55


def test_default_gap_spares_loopback_only() -> None:
    policy = FetchPolicy()
    assert policy.gap_for("www.kt.kz") == 1.0 and policy.gap_for("127.0.0.1") == 0.0
    assert policy.gap_for("localhost") == 0.0 and policy.gap_for("::1") == 0.0
    assert FetchPolicy(host_gap_s=0.5).gap_for("127.0.0.1") == 0.5


async def test_tls_is_verified_unless_the_source_says_insecure(runtime_factory: Any) -> None:
    import ssl

    import trustme

    from monitor.pipeline import run_source

    ca = trustme.CA()  # a CA nobody trusts: as a self-signed or forged certificate would be
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    with PageServer(tls=context) as server:
        server.routes["/feed"] = Route(b'<rss version="2.0"><channel><title>t</title><item><title>A</title>'
                                       b"<link>https://example.org/a</link></item></channel></rss>")
        url = server.url("/feed")
        assert url.startswith("https://")
        rt = await runtime_factory(f'fetch_retries = 0\n[[sources]]\nname = "strict"\nkind = "rss"\nurl = "{url}"\n'
                                   f'[[sources]]\nname = "lax"\nkind = "rss"\nurl = "{url}"\ninsecure = true\n')
        strict = await run_source(rt, "strict", force=True)
        lax = await run_source(rt, "lax", force=True)
        # A redirect from https down to plain http is refused, even with verification off.
        server.routes["/downgrade"] = Route(status=302, headers={"Location": "http://127.0.0.1:9/feed"})
        async with fetcher() as http:
            with pytest.raises(FetchError, match="refusing redirect from https to another scheme"):
                await http.get(server.url("/downgrade"), verify=False)
    assert not strict.ok and "CERTIFICATE_VERIFY_FAILED" in (strict.error or "")
    assert lax.ok and lax.new_items == 1
