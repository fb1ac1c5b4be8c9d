"""The exception tree: every error the daemon expects is a MonitorError with a message a person can act on."""

from __future__ import annotations


class MonitorError(Exception):
    """Base of every expected failure."""


class ConfigError(MonitorError):
    """The configuration is invalid; `problems` holds one line per problem (`file:line: key: message`)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class FetchError(MonitorError):
    """A request failed. `transient` says whether retrying later may help; `retry_after_s` is the server's hint;
    `retryable` whether the fetcher may try again at once (timeouts, resets, 5xx); `status` the HTTP status."""

    def __init__(self, message: str, *, transient: bool = True, retry_after_s: float | None = None,
                 retryable: bool | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.transient = transient
        self.retry_after_s = retry_after_s
        self.retryable = transient if retryable is None else retryable
        self.status = status


class ParseError(MonitorError):
    """A response arrived but could not be understood (malformed feed, JSON, page)."""


class DeliveryError(MonitorError):
    """A channel could not deliver. Transient errors are retried with backoff; permanent ones fail the row."""

    def __init__(self, message: str, *, transient: bool = True, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.transient = transient
        self.retry_after_s = retry_after_s
