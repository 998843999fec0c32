"""Alembic: head has exactly the models' schema; upgrade, downgrade to base and upgrade again, on both databases."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import IntegrityError

from hotline.store import migrate
from hotline.store.models import Base

TABLES = {"consultations", "advisors", "operators", "operator_sessions", "handoffs", "login_failures", "chat_messages",
          "document_drafts", "reminders"}


def tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return set(inspect(conn).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def schema_diff(url: str) -> list:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    finally:
        engine.dispose()


# The newest revision; a new migration bumps this and adds its file below.
HEAD = "0005"


def test_revisions_are_numbered_and_named() -> None:
    versions = sorted((migrate.MIGRATIONS_DIR / "versions").glob("*.py"))
    assert [p.name for p in versions] == [
        "0001_create_consultations_advisors_operators_sessions_handoffs.py",
        "0002_add_stats_breakdown_indexes.py",
        "0003_operator_sessions_lockout_and_two_way_handoff.py",
        "0004_document_drafts_and_reminders.py",
        "0005_operator_display_name.py",
    ]
    assert migrate.head() == HEAD


def test_upgrade_downgrade_upgrade(db_url: str) -> None:
    assert tables(db_url) == set()
    assert migrate.upgrade(db_url) == HEAD
    assert tables(db_url) == TABLES
    assert migrate.upgrade(db_url) == HEAD  # safe twice
    assert migrate.downgrade(db_url, "base") is None
    assert tables(db_url) == set()
    assert migrate.upgrade(db_url) == HEAD
    assert tables(db_url) == TABLES


def test_head_matches_the_models(db_url: str) -> None:
    migrate.upgrade(db_url)
    assert schema_diff(db_url) == []


def test_migrated_schema_keeps_its_constraints(db_url: str) -> None:
    migrate.upgrade(db_url)
    engine = create_engine(db_url)
    try:
        with engine.begin() as conn:
            insert = text("INSERT INTO consultations (occurred_at, service, channel, migrant_worker, persons, purged,"
                          " source_id) VALUES ('2024-01-01 00:00:00', 'visit', 'in_person', false, 1, false, 'x')")
            conn.execute(insert)
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(insert)  # source_id is unique
        with engine.connect() as conn:
            indexes = {ix["name"] for ix in inspect(conn).get_indexes("consultations")}
        assert {"ix_consultations_occurred_at", "ix_consultations_occurred_service"} <= indexes
    finally:
        engine.dispose()


def test_default_url_comes_from_the_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from hotline import settings

    url = f"sqlite:///{tmp_path / 'nested' / 'from_env.db'}"
    monkeypatch.setenv("HOTLINE_DATABASE_URL", url)
    settings.get_settings.cache_clear()
    assert migrate.upgrade() == HEAD
    assert tables(url) == TABLES
    assert migrate.current() == HEAD


def test_works_from_any_working_directory(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    code = "from hotline.store import migrate; import sys; print(migrate.upgrade(sys.argv[1]))"
    result = subprocess.run([sys.executable, "-c", code, url], cwd=tmp_path, capture_output=True, text=True,
                            env={**os.environ, "HOTLINE_VAR_DIR": str(tmp_path / "var")}, check=True)
    assert result.stdout.strip() == HEAD
    assert tables(url) == TABLES
