"""One Settings for every environment read (issue 24): each field names its variable and has its row in README's
Configuration table, no other module of the app reads os.environ, and a variable set by a test is what the code
then reads (no stale cache)."""
from __future__ import annotations

import ast
import re
from dataclasses import fields
from pathlib import Path

import pytest

from hotline.settings import Settings, get_settings, variables

ROOT = Path(__file__).resolve().parent.parent


def _app_table() -> dict[str, str]:
    """README's first Configuration table: variable → Settings field."""
    section = ROOT.joinpath("README.md").read_text(encoding="utf-8").split("## Configuration", 1)[1]
    table = section.split("\n\n| variable |", 2)[1].split("\n\n", 1)[0]
    rows = {}
    for line in table.splitlines()[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows[cells[0].strip("`")] = cells[1].strip("`")
    return rows


def test_every_field_has_its_row_in_the_readme_and_every_row_its_field() -> None:
    documented = _app_table()
    expected = {names[0]: name for name, names in variables().items()}
    assert documented == expected


def test_every_field_names_its_variable() -> None:
    for f in fields(Settings):
        names = f.metadata.get("env")
        assert names and all(re.fullmatch(r"[A-Z][A-Z0-9_]+", n) for n in names), f.name


def _environment_reads(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "environb", "putenv") \
                and isinstance(node.value, ast.Name) and node.value.id == "os":
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}: os.{node.attr}")
        if isinstance(node, ast.ImportFrom) and node.module == "os" \
                and any(a.name in ("environ", "getenv") for a in node.names):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}: from os import …")
    return found


def test_only_settings_reads_the_environment() -> None:
    files = [p for d in ("actions", "bot", "hotline") for p in (ROOT / d).rglob("*.py")
             if p != ROOT / "hotline" / "settings.py"]
    assert len(files) > 50
    assert [read for p in files for read in _environment_reads(p)] == []


def test_a_variable_set_is_read_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.limits import max_body_bytes
    from hotline.outbox import retry_interval_s

    monkeypatch.setenv("HOTLINE_MAX_BODY_BYTES", "1000")
    first = get_settings()
    assert max_body_bytes() == 1000 and get_settings() is first  # unchanged environment: the same object
    monkeypatch.setenv("HOTLINE_MAX_BODY_BYTES", "2000")
    monkeypatch.setenv("HOTLINE_OUTBOX_RETRY_S", "0.5")
    assert max_body_bytes() == 2000 and retry_interval_s() == 0.5
    monkeypatch.delenv("HOTLINE_MAX_BODY_BYTES")
    assert max_body_bytes() == 256 * 1024


def test_an_empty_variable_is_unset_and_lists_and_urls_are_parsed(monkeypatch: pytest.MonkeyPatch,
                                                                   tmp_path: Path) -> None:
    monkeypatch.setenv("HOTLINE_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("HOTLINE_REDIS_URL", "")
    monkeypatch.setenv("HOTLINE_RATE_LIMIT", "off")
    monkeypatch.delenv("HOTLINE_DATABASE_URL", raising=False)
    monkeypatch.setenv("RASA_URL", "http://a:5005/")
    monkeypatch.setenv("RASA_URLS", " http://a:5005/ , http://b:5006 ,")
    monkeypatch.setenv("HOTLINE_ACTIONS_URL", "http://x/webhook")
    monkeypatch.setenv("HOTLINE_ACTIONS_URLS", "http://y/webhook,http://x/webhook")
    s = get_settings()
    assert s.redis_url is None and s.rate_limit is False
    assert s.database_url == f"sqlite:///{tmp_path / 'hotline.db'}"  # follows the var directory
    assert s.rasa_url == "http://a:5005" and s.rasa_urls == ("http://a:5005", "http://b:5006")
    assert s.actions_urls == ("http://x/webhook", "http://y/webhook")  # the named one first, once


def test_a_generated_secret_is_kept_across_restarts(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOTLINE_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("HOTLINE_RASA_TOKEN", raising=False)
    token = get_settings().rasa_token
    get_settings.cache_clear()  # type: ignore[attr-defined]
    assert len(token) == 64 and get_settings().rasa_token == token == (tmp_path / "rasa_token").read_text()
