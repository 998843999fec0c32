"""`hotline purge`: nothing personal older than the cut-off survives, in the project's database (consultations,
transcripts, handoffs) or in Rasa's tracker store; what is recent stays (hotline/retention.py says when,
hotline/store/purge.py deletes)."""
from __future__ import annotations

import json
import subprocess
import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Column, Engine, Float, Integer, MetaData, String, Table, Text, create_engine, inspect, text
from sqlalchemy.orm import Session

from hotline import clock
from hotline.cli import main
from hotline.store import consultations, purge
from hotline.store.models import ChatMessage, Handoff

ROOT = Path(__file__).resolve().parent.parent
RASA_PYTHON = ROOT / ".venv-rasa" / "bin" / "python"

OLD_PHONE, OLD_ID, OLD_NAME = "13977212345", "450202199001011234", "恒通建筑公司"
NEW_PHONE = "13800001111"
OLD = datetime(2024, 1, 10, 9, 30)
NOW = datetime.now(timezone.utc).replace(tzinfo=None)


def rasa_events_table(metadata: MetaData) -> Table:
    """Rasa 3.6 SQLTrackerStore's `events` table, column for column (test_real_rasa_tracker_store checks it)."""
    return Table("events", metadata,
                 Column("id", Integer, primary_key=True), Column("sender_id", String(255), nullable=False, index=True),
                 Column("type_name", String(255), nullable=False), Column("timestamp", Float),
                 Column("intent_name", String(255)), Column("action_name", String(255)), Column("data", Text))


def add_event(engine: Engine, sender: str, at: datetime, kind: str, data: dict) -> None:
    stamp = at.replace(tzinfo=timezone.utc).timestamp()
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name, data) "
                          "VALUES (:s, :k, :t, NULL, NULL, :d)"),
                     {"s": sender, "k": kind, "t": stamp, "d": json.dumps({**data, "timestamp": stamp},
                                                                          ensure_ascii=False)})


def seed_store(session: Session) -> None:
    said_old = f"老板{OLD_NAME}欠我工资，电话{OLD_PHONE}，身份证{OLD_ID}"
    for at, phone, summary, source in ((OLD, OLD_PHONE, said_old, "old"),
                                       (NOW, NEW_PHONE, f"电话{NEW_PHONE}", "new")):
        consultations.log_consultation(session=session, service="online", channel="web", occurred_at=at,
                                       category="wage_arrears", outcome="answered", phone=phone, summary=summary,
                                       sender_hash="f" * 64, source_id=f"bot:{source}")
        session.add(ChatMessage(conversation_id=f"web:{source}", seq=1, author="citizen", at=at,
                                text=said_old if source == "old" else f"我的电话是{NEW_PHONE}"))
        session.add(Handoff(created_at=at, channel="web", sender_hash="f" * 64, summary=summary, status="closed",
                            conversation_id=f"web:{source}", callback_phone=phone, reply_address=f"enc-{phone}"))
    session.commit()


def seed_tracker(engine: Engine) -> None:
    for sender, at, phone in (("web:old", OLD, OLD_PHONE), ("web:new", NOW, NEW_PHONE)):
        add_event(engine, sender, at, "user", {"event": "user", "text": f"我的电话{phone}，身份证{OLD_ID if phone == OLD_PHONE else ''}"})
        add_event(engine, sender, at + timedelta(seconds=1), "slot", {"event": "slot", "name": "phone", "value": phone})


def everything(engine: Engine) -> str:
    """Every value of every table, as one text to grep."""
    out = []
    with engine.connect() as conn:
        for table in inspect(engine).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                out.append(" ".join(str(v) for v in row))
    return "\n".join(out)


@pytest.fixture
def tracker_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db_url: str) -> Engine:
    """Rasa's tracker store: a SQLite file of its own, or (PostgreSQL run) the same server's test database."""
    url = db_url if db_url.startswith("postgresql") else f"sqlite:///{tmp_path / 'rasa_tracker.db'}"
    engine = create_engine(url)
    metadata = MetaData()
    rasa_events_table(metadata)
    metadata.create_all(engine)
    # As endpoints.yml gives it to Rasa (psycopg2's scheme): the purge must translate it for this environment.
    monkeypatch.setenv("HOTLINE_TRACKER_STORE_URL", url.replace("postgresql+psycopg://", "postgresql://"))
    return engine


def test_nothing_personal_survives_a_purge_in_either_database(session: Session, engine: Engine,
                                                              tracker_engine: Engine) -> None:
    seed_store(session)
    seed_tracker(tracker_engine)
    before = everything(engine) + everything(tracker_engine)
    assert OLD_PHONE in before and OLD_ID in before and OLD_NAME in before  # the test can see them

    result = CliRunner().invoke(main, ["purge", "--before", "2025-01-01"])
    assert result.exit_code == 0, result.output
    assert "Purged 1 consultations" in result.output
    assert "Deleted 1 transcript lines; cleared 1 handoffs." in result.output
    assert "Deleted 2 Rasa tracker events dated before 2025-01-01." in result.output

    after = everything(engine) + everything(tracker_engine)
    for personal in (OLD_PHONE, OLD_ID, OLD_NAME, OLD_PHONE[:3] + "****" + OLD_PHONE[-4:]):
        assert personal not in after, personal
    assert after.count(NEW_PHONE) >= 5  # what is recent is kept: log, transcript, handoff, tracker (twice)...
    session.expire_all()
    assert len(consultations.list_consultations(session=session)) == 2  # ...and the counts stay


def test_default_cutoff_is_the_retention_period(session: Session, engine: Engine, tracker_engine: Engine,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_RETENTION_DAYS", "30")
    for sender, days in (("web:older", 40), ("web:recent", 10)):
        add_event(tracker_engine, sender, NOW - timedelta(days=days), "user", {"event": "user", "text": sender})
    result = CliRunner().invoke(main, ["purge"])
    assert result.exit_code == 0, result.output
    cutoff = (clock.today() - timedelta(days=30)).isoformat()  # Liuzhou's day, as every `today`
    assert f"Deleted 1 Rasa tracker events dated before {cutoff}." in result.output
    left = everything(tracker_engine)
    assert "web:recent" in left and "web:older" not in left


def test_tracker_store_not_yet_created_is_said_not_an_error(session: Session, engine: Engine, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_TRACKER_STORE_URL", f"sqlite:///{tmp_path / 'never.db'}")
    result = CliRunner().invoke(main, ["purge", "--before", "2025-01-01"])
    assert result.exit_code == 0 and "no events table yet" in result.output, result.output


REAL_RASA = textwrap.dedent("""
    import asyncio, sys
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    async def main():
        store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=sys.argv[1])
        for sender, stamp, phone in (("web:old", float(sys.argv[2]), "13977212345"),
                                     ("web:new", float(sys.argv[3]), "13800001111")):
            tracker = DialogueStateTracker(sender, [])
            tracker.update(UserUttered(f"电话{phone}，身份证450202199001011234", timestamp=stamp))
            tracker.update(SlotSet("phone", phone, timestamp=stamp + 1))
            await store.save(tracker)

    asyncio.run(main())
""")


@pytest.mark.skipif(not RASA_PYTHON.exists(), reason="no Rasa environment (.venv-rasa)")
def test_real_rasa_tracker_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The events Rasa's own SQLTrackerStore writes are the ones the purge deletes."""
    path = tmp_path / "rasa_tracker.db"
    old, new = OLD.replace(tzinfo=timezone.utc).timestamp(), datetime.now(timezone.utc).timestamp()
    subprocess.run([str(RASA_PYTHON), "-c", REAL_RASA, str(path), str(old), str(new)], check=True, cwd=tmp_path,
                   capture_output=True, timeout=300, env={"PATH": "/usr/bin:/bin", "RASA_TELEMETRY_ENABLED": "false"})
    engine = create_engine(f"sqlite:///{path}")
    ours = rasa_events_table(MetaData())
    theirs = {c["name"]: type(c["type"]).__name__ for c in inspect(engine).get_columns("events")}
    assert set(theirs) == {c.name for c in ours.columns}
    assert OLD_PHONE in everything(engine)
    monkeypatch.setenv("HOTLINE_TRACKER_STORE_URL", f"sqlite:///{path}")
    deleted = purge.purge_tracker_store(url=f"sqlite:///{path}", before=datetime(2025, 1, 1).date())
    assert deleted is not None and deleted >= 2
    left = everything(engine)
    assert OLD_PHONE not in left and "13800001111" in left
    engine.dispose()
