"""Shared fixtures. Database tests run on SQLite always and on PostgreSQL when HOTLINE_TEST_POSTGRES_URL is set
(.ci/run starts a real server and sets it)."""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from hotline.store.models import Base

# Fixtures shared across modules (the fake Rasa, the fake Rasa with its events route, the headless browser): a test
# names them as arguments, without importing them.
pytest_plugins = ["tests.fakes.fixtures", "tests.fakes.rasa_events", "tests.chromium"]

PG_URL = os.environ.get("HOTLINE_TEST_POSTGRES_URL")  # e.g. postgresql+psycopg://hotline:hotline@127.0.0.1/hotline_test
PROJECT_ROOT = Path(__file__).resolve().parent.parent

_db_params = [pytest.param("sqlite", id="sqlite")]
_db_params.append(
    pytest.param("postgresql", id="postgresql", marks=[pytest.mark.postgres])
    if PG_URL
    else pytest.param("postgresql", id="postgresql", marks=[pytest.mark.postgres, pytest.mark.skip("no PostgreSQL")])
)


@pytest.fixture(autouse=True)
def _isolated_var(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test gets its own var/ (salt, secret key, default SQLite file) and its own settings."""
    monkeypatch.setenv("HOTLINE_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("HOTLINE_DATABASE_URL", f"sqlite:///{tmp_path / 'var' / 'hotline.db'}")
    monkeypatch.setenv("HOTLINE_SENDER_SALT", "test-salt")
    monkeypatch.setenv("HOTLINE_SECRET_KEY", "test-secret")
    from hotline import settings
    from hotline.store import db

    settings.get_settings.cache_clear()
    db.get_engine.cache_clear()


@pytest.fixture(autouse=True)
def _closed_http_sessions() -> Iterator[None]:
    """The door's pooled aiohttp sessions (bot/rasa_client.py) belong to one event loop, which ends with the test."""
    yield
    from bot import rasa_client

    rasa_client.drop_sessions()


@pytest.fixture(params=_db_params)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database URL: a fresh SQLite file, or a fresh schema-less PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    assert PG_URL
    name = "t_" + uuid.uuid4().hex[:12]
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_URL.rsplit("/", 1)[0] + "/" + name
    try:
        yield url
    finally:
        from hotline.store import db

        db.get_engine.cache_clear()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def engine(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """An engine on db_url with every table created; HOTLINE_DATABASE_URL points at it too."""
    from hotline.store.db import make_engine

    monkeypatch.setenv("HOTLINE_DATABASE_URL", db_url)
    eng = make_engine(db_url)
    Base.metadata.create_all(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as s:
        yield s

