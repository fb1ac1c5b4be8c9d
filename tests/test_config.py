"""The config loader: clear errors naming file, line and key; env and file secrets; `monitor check` exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.cli import main
from monitor.config import load_config, parse_config
from monitor.errors import ConfigError

ROOT = Path(__file__).parent.parent


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(text, "config.toml")
    return info.value.problems


def test_example_config_is_valid() -> None:
    config = load_config(ROOT / "config.example.toml")
    assert config.rules and config.sources and config.recipients


def test_bad_duration_names_file_line_and_key() -> None:
    text = '[[sources]]\nname = "a"\nkind = "rss"\nurl = "http://x/"\n\n[[sources]]\nname = "b"\nkind = "rss"\n' \
           'url = "http://y/"\ninterval = "10x"\n'
    assert problems(text) == [
        'config.toml:10: sources[1].interval: "10x" is not a duration (use e.g. "90s", "10m", "6h", "7d")']


def test_unknown_keys_are_errors_not_silent_defaults() -> None:
    text = '[daemon]\ntimezne = "Asia/Almaty"\n\n[[rules]]\nname = "r"\nkeyword = "ОИС"\nscpoe = "article"\n'
    assert problems(text) == ["config.toml:2: daemon.timezne: unknown key",
                              "config.toml:7: rules[0].scpoe: unknown key"]


def test_source_kind_keys_are_checked_per_kind() -> None:
    text = '[[sources]]\nname = "a"\nkind = "rss"\nurl = "http://x/"\nitem = ".card"\n'
    assert problems(text) == ["config.toml:5: sources[0].item: unknown key"]
    assert "unknown kind" in problems('[[sources]]\nname = "a"\nkind = "rsss"\nurl = "http://x/"\n')[0]


def test_every_problem_is_reported_at_once() -> None:
    text = """
[[rules]]
name = "r"
keyword = "ОИС"

[[rules]]
name = "r"
regex = "(unclosed"

[[recipients]]
name = "desk"
console = true
rules = ["nope"]
schedule = "every monday"
quiet_hours = "22-7"
"""
    found = problems(text)
    assert any('rules[1].name: "r" is used twice' in p for p in found)
    assert any("rules[1].regex" in p for p in found)
    assert any('recipients[0].rules: no rule named "nope"' in p for p in found)
    assert any("recipients[0].schedule" in p for p in found)
    assert any("recipients[0].quiet_hours" in p for p in found)


def test_env_and_file_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TG_TOKEN", "123:abc")
    secret = tmp_path / "smtp-password"
    secret.write_text("s3cret\n")
    text = f"""
[telegram]
token = "${{TG_TOKEN}}"
[smtp]
host = "127.0.0.1"
from = "m@example.org"
password_file = "{secret}"
"""
    config = parse_config(text)
    assert config.telegram is not None and config.telegram.token == "123:abc"
    assert config.smtp is not None and config.smtp.password == "s3cret"
    assert "123:abc" not in repr(config) and "s3cret" not in repr(config)


def test_missing_env_var_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_SUCH_TOKEN", raising=False)
    assert problems('[telegram]\ntoken = "${NO_SUCH_TOKEN}"\n') == [
        "config.toml:2: telegram.token: environment variable NO_SUCH_TOKEN is not set"]


def test_toml_syntax_error_has_a_line() -> None:
    assert problems('[daemon]\ntimezone = "Asia/Almaty\n')[0].startswith("config.toml:2:")


def test_check_command_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.toml"
    good.write_text('[[rules]]\nname = "r"\nkeyword = "ОИС"\n')
    assert main(["--config", str(good), "check"]) == 0
    bad = tmp_path / "bad.toml"
    bad.write_text('[daemon]\nfirst_poll_window = "soon"\n')
    assert main(["--config", str(bad), "check"]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:2: daemon.first_poll_window:" in err and "Traceback" not in err
    assert main(["--config", str(tmp_path / "missing.toml"), "check"]) == 2
    assert "file not found" in capsys.readouterr().err
