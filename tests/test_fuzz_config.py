"""Property tests for the config loader: any text, and any TOML built from the real keys with values of any
type, gives a Config or a ConfigError naming the problems; never another exception."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.config import Config, parse_config
from monitor.errors import ConfigError

FUZZ = settings(max_examples=300, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
KEYS = {
    "daemon": ("database", "timezone", "first_poll_window", "retention", "max_backoff", "http", "log_level",
               "node_id", "delivery_lease", "bogus"),
    "sources": ("name", "kind", "preset", "url", "interval", "jitter", "enabled", "encoding", "insecure", "item",
                "link", "max_items", "fetch_articles", "headers", "bogus"),
    "rules": ("name", "country", "capital", "person", "ambassador", "keyword", "regex", "any", "none", "scope",
              "sources", "bogus"),
    "recipients": ("name", "telegram_chat", "email", "console", "rules", "schedule", "quiet_hours", "timezone",
                   "max_digest", "admin", "bogus"),
    "telegram": ("token", "token_file", "allowed_chats", "api_url", "bogus"),
    "smtp": ("host", "port", "security", "username", "password", "password_file", "from", "timeout", "bogus"),
}
PLAUSIBLE = ("10m", "0s", "-5s", "1e9h", "rss", "html", "govkz-mfa", "Asia/Almaty", "Mars/Olympus", "*",
             "0 9 * * 1-5", "99 99 * * *", "22:00-07:00", "25:00-07:00", "immediate", "starttls", "(a+)+$", "[",
             "${NO_SUCH_VAR}", "${HOME}", "/nonexistent/secret", "http://127.0.0.1:1/x", "ftp://x", "Словения")

scalars = st.one_of(st.sampled_from(PLAUSIBLE), st.text(max_size=30), st.integers(-(2**63), 2**63 - 1),
                    st.floats(allow_nan=False, allow_infinity=False), st.booleans())
values = st.one_of(scalars, st.lists(scalars, max_size=4), st.dictionaries(st.sampled_from(("a", "b")), scalars,
                                                                            max_size=2))


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a TOML basic string (\uXXXX escapes); lone surrogates make it invalid TOML
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + "}"


@st.composite
def documents(draw: st.DrawFn) -> str:
    lines: list[str] = []
    for section in draw(st.lists(st.sampled_from(sorted(KEYS)), max_size=6)):
        array = section in ("sources", "rules", "recipients")
        lines.append(f"[[{section}]]" if array else f"[{section}]")
        for key in draw(st.lists(st.sampled_from(KEYS[section]), max_size=6, unique=True)):
            lines.append(f"{key} = {toml_value(draw(values))}")
    return "\n".join(lines) + "\n"


def parses_or_config_error(text: str) -> None:
    try:
        config = parse_config(text, "fuzz.toml")
    except ConfigError as exc:
        assert exc.problems and all(p.startswith("fuzz.toml") for p in exc.problems)
        return
    assert isinstance(config, Config)


@FUZZ
@given(st.text(max_size=400))
def test_any_text(text: str) -> None:
    parses_or_config_error(text)


@FUZZ
@given(documents())
def test_any_values_under_the_real_keys(text: str) -> None:
    parses_or_config_error(text)
