"""Alembic upgrade/downgrade from code: the CLI, `make run` and the tests call these, from any directory.

The configuration is built here rather than read from alembic.ini, so the migrations work as package data of
an installed `hotline` whatever the working directory; alembic.ini beside this file serves developers who run
`alembic -c hotline/store/alembic.ini revision --autogenerate -m "..."`.
"""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from hotline.settings import get_settings

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    """An Alembic Config for the migrations shipped with the package, on `url` (default: the settings)."""
    url = url or get_settings().database_url
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # Config values go through ConfigParser interpolation: a '%' in a password must be doubled.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str | None = None, revision: str = "head") -> str | None:
    """Migrate the database up to `revision` (safe to repeat); returns the revision it is at afterwards."""
    _ensure_sqlite_dir(url or get_settings().database_url)
    command.upgrade(alembic_config(url), revision)
    return current(url)


def downgrade(url: str | None = None, revision: str = "-1") -> str | None:
    """Migrate the database down to `revision` ("base" drops every table); returns the revision after."""
    command.downgrade(alembic_config(url), revision)
    return current(url)


def current(url: str | None = None) -> str | None:
    """The revision the database is at, or None when it has none (empty or at base)."""
    engine = create_engine(url or get_settings().database_url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def head() -> str | None:
    """The newest revision shipped with the package."""
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def display_url(url: str | None = None) -> str:
    """The database URL with any password hidden, for messages."""
    return make_url(url or get_settings().database_url).render_as_string(hide_password=True)


def _ensure_sqlite_dir(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
