"""Load the TOML config into validated pydantic models. Every problem is reported as `file:line: key: message`."""

from __future__ import annotations

import os
import re
import tomllib
import zoneinfo
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from monitor.errors import ConfigError
from monitor.rules.spec import RuleSpec
from monitor.tomlpos import TomlLocator

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, None: 1}


def parse_duration(value: object) -> float:
    """`90s`, `10m`, `6h`, `7d` (or a bare number of seconds) -> seconds."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a duration")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and (m := _DURATION.match(value)):
        return float(m.group(1)) * _UNITS[m.group(2)]
    raise ValueError(f'"{value}" is not a duration (use e.g. "90s", "10m", "6h", "7d")')


Duration = Annotated[float, BeforeValidator(parse_duration)]


def _check_timezone(value: object) -> str:
    if not isinstance(value, str):  # zoneinfo raises TypeError on a number: it must become a ConfigError
        raise ValueError(f"{value!r} is not a time zone name (e.g. \"Asia/Almaty\")")
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f'"{value}" is not a known time zone (e.g. "Asia/Almaty")') from exc
    return value


TimeZone = Annotated[str, BeforeValidator(_check_timezone)]


def _check_listen(value: str | None) -> str | None:
    if value is not None and not re.fullmatch(r"(\[[0-9A-Fa-f:.]+\]|[\w.-]+):\d{1,5}", value):
        raise ValueError(f'"{value}" is not host:port (e.g. "127.0.0.1:9310")')
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class DaemonConfig(_Strict):
    database: str = "sqlite:///monitor.db"
    timezone: TimeZone = "Asia/Almaty"
    first_poll_window: Duration = 24 * 3600
    retention: Duration = 180 * 86400
    max_backoff: Duration = 6 * 3600
    http: Annotated[str | None, AfterValidator(_check_listen)] = None  # "127.0.0.1:9310": /healthz, /metrics
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    node_id: str | None = None
    lease: Duration = 120  # a source lease, renewed while polling; a dead node's sources move after this
    drain_timeout: Duration = 30  # SIGTERM: in-flight polls and deliveries get this long to finish
    # how long a claimed (`sending`) outbox row is reserved for its sender; after a crash it is resent then
    delivery_lease: Duration = Field(default=60, gt=0)
    # Fetching policy (see README.md): per request timeout, response cap (after decompression), requests
    # in flight per host, minimum gap between two requests to one host (default 1 s, none to loopback),
    # quick retries of timeouts/resets/5xx within one poll.
    fetch_timeout: Duration = 20
    max_response: int = Field(default=10 * 1024 * 1024, ge=1024)
    host_concurrency: int = Field(default=2, ge=1, le=32)
    host_gap: Duration | None = None
    fetch_retries: int = Field(default=2, ge=0, le=10)


class DedupConfig(_Strict):
    """Story grouping (stories.py): how alike two texts must be to be one story, and for how long to look back."""

    story_threshold: float = Field(default=0.55, ge=0.05, le=1.0)  # measured: README.md
    story_window: Duration = 3 * 86400


class SourceConfig(BaseModel):
    """Keys common to every source; the kind's own keys are validated by its Config model (see sources/)."""

    model_config = ConfigDict(extra="allow")

    name: str = Field(min_length=1)
    kind: str | None = None
    preset: str | None = None
    interval: Duration = 600
    jitter: Duration = 30
    enabled: bool = True
    encoding: str | None = None
    insecure: bool = False  # skip TLS verification: logged loudly at every start

    @property
    def options(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class RecipientConfig(_Strict):
    name: str = Field(min_length=1)
    telegram_chat: int | None = None
    email: str | None = None
    console: bool = False
    rules: tuple[str, ...] = ("*",)
    schedule: str = "immediate"
    quiet_hours: str | None = None
    timezone: TimeZone | None = None
    max_digest: int = Field(default=50, ge=1, le=1000)
    admin: bool = False


class TelegramConfig(_Strict):
    token: str | None = Field(default=None, repr=False)
    token_file: str | None = None
    allowed_chats: tuple[int, ...] = ()
    api_url: str = "https://api.telegram.org"


class SmtpConfig(_Strict):
    host: str
    port: int = 587
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = None
    password: str | None = Field(default=None, repr=False)
    password_file: str | None = None
    from_: str = Field(alias="from")
    timeout: Duration = 30


class Config(_Strict):
    daemon: DaemonConfig = Field(default_factory=DaemonConfig)
    dedup: DedupConfig = Field(default_factory=DedupConfig)
    sources: list[SourceConfig] = Field(default_factory=list)
    rules: list[RuleSpec] = Field(default_factory=list)
    recipients: list[RecipientConfig] = Field(default_factory=list)
    telegram: TelegramConfig | None = None
    smtp: SmtpConfig | None = None

    def recipient(self, name: str) -> RecipientConfig:
        for r in self.recipients:
            if r.name == name:
                return r
        raise KeyError(name)


_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _substitute_env(node: Any, path: str, problems: list[tuple[str, str]]) -> Any:
    """Replace ${VAR} in every string; read `*_file` secrets into their plain key."""
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            out[key] = _substitute_env(value, f"{path}.{key}" if path else key, problems)
        for key in [k for k in out if k.endswith("_file") and k[:-5] in ("token", "password")]:
            plain = key[:-5]
            if not isinstance(out[key], str):
                problems.append((f"{path}.{key}", "must be the path of a file (a string)"))
                continue
            try:
                out[plain] = Path(out[key]).read_text(encoding="utf-8").strip()
            except OSError as exc:
                problems.append((f"{path}.{key}", f"cannot read secret file: {exc.strerror}"))
        return out
    if isinstance(node, list):
        return [_substitute_env(v, f"{path}[{i}]", problems) for i, v in enumerate(node)]
    if isinstance(node, str):
        def repl(m: re.Match[str]) -> str:
            if m.group(1) not in os.environ:
                problems.append((path, f"environment variable {m.group(1)} is not set"))
                return ""
            return os.environ[m.group(1)]

        return _ENV_REF.sub(repl, node)
    return node


def _loc_to_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def load_config(path: str | Path) -> Config:
    """Read and validate; raise ConfigError with every problem found."""
    path = Path(path)
    try:
        raw_text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{path}: file not found (copy config.example.toml, or pass --config)"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{path}: cannot read: {exc}"]) from None
    return parse_config(raw_text, str(path))


def parse_config(raw_text: str, filename: str = "config.toml") -> Config:
    try:
        data = tomllib.loads(raw_text)
    except tomllib.TOMLDecodeError as exc:
        # Python 3.11's TOMLDecodeError carries the position only in its message.
        m = re.search(r"^(.*) \(at line (\d+), column (\d+)\)$", str(exc))
        if m:
            raise ConfigError([f"{filename}:{m.group(2)}: column {m.group(3)}: {m.group(1)}"]) from None
        raise ConfigError([f"{filename}: {exc}"]) from None
    locate = TomlLocator(raw_text)
    env_problems: list[tuple[str, str]] = []
    data = _substitute_env(data, "", env_problems)
    problems: list[tuple[str, str]] = list(env_problems)
    config: Config | None = None
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
            message = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                message = "unknown key"
            problems.append((_loc_to_path(loc), message))
    if config is not None:
        from monitor.semantics import check_semantics

        problems.extend(check_semantics(config))
    if problems:
        lines = []
        for key, message in problems:
            line = locate.line_of(key)
            where = f"{filename}:{line}" if line else filename
            lines.append(f"{where}: {key}: {message}")
        raise ConfigError(lines)
    assert config is not None
    return config
