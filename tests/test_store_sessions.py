"""hotline.store.db: one session factory per engine (issue 28), each unit of work still its own session."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from hotline.store import db


def test_units_of_work_share_a_factory_per_engine_not_a_session(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_DATABASE_URL", f"sqlite:///{tmp_path / 'a.db'}")
    db.get_engine.cache_clear()
    with db.session_scope() as first:
        first.execute(text("CREATE TABLE t (x INTEGER)"))
        first.execute(text("INSERT INTO t VALUES (1)"))
    with db.session_scope() as second:
        assert second is not first and second.execute(text("SELECT x FROM t")).scalar() == 1
    assert db.session_factory(db.get_engine()) is db.session_factory(db.get_engine())
    # A new engine (another database) gets its own factory, bound to it.
    monkeypatch.setenv("HOTLINE_DATABASE_URL", f"sqlite:///{tmp_path / 'b.db'}")
    db.get_engine.cache_clear()
    with db.session_scope() as other:
        assert other.bind is db.get_engine(None) and other.bind is not first.bind
        assert other.execute(text("SELECT count(*) FROM sqlite_master WHERE name = 't'")).scalar() == 0
    db.get_engine.cache_clear()


def test_a_failed_unit_of_work_is_rolled_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_DATABASE_URL", f"sqlite:///{tmp_path / 'c.db'}")
    db.get_engine.cache_clear()
    with db.session_scope() as session:
        session.execute(text("CREATE TABLE t (x INTEGER)"))
    with pytest.raises(RuntimeError), db.session_scope() as session:
        session.execute(text("INSERT INTO t VALUES (1)"))
        raise RuntimeError("boom")
    with db.session_scope() as session:
        assert session.execute(text("SELECT count(*) FROM t")).scalar() == 0
    db.get_engine.cache_clear()
