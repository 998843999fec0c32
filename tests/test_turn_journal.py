"""The door's turn journal on file (bot/turn_journal.FileJournal): what a resend needs, kept across a killed web app,
answered from memory without a query (issue 28)."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot import turn_journal
from bot.turn_journal import FileJournal


async def test_same_words_unanswered_keep_their_id_other_or_answered_words_do_not(tmp_path: Path) -> None:
    journal = FileJournal(tmp_path / "door.db")
    await journal.begin("web:a", "三万五", "t1")
    assert await journal.unanswered("web:a", "三万五") == "t1"
    assert await journal.unanswered("web:a", "两万") is None
    assert await journal.unanswered("web:b", "三万五") is None
    await journal.answered("web:a")
    assert await journal.unanswered("web:a", "三万五") is None


async def test_a_restarted_web_app_finds_the_turn_in_flight_on_file(tmp_path: Path) -> None:
    first = FileJournal(tmp_path / "door.db")
    await first.begin("web:a", "是的", "t1")
    await first.begin("web:b", "没有", "t2")
    await first.answered("web:b")
    # The process dies here; the next one opens the same file.
    again = FileJournal(tmp_path / "door.db")
    assert await again.unanswered("web:a", "是的") == "t1"
    assert await again.unanswered("web:b", "没有") is None
    await again.answered("web:a")
    with sqlite3.connect(tmp_path / "door.db") as conn:
        assert conn.execute("SELECT count(*) FROM inflight").fetchone() == (0,)


async def test_after_the_retry_window_the_same_words_are_a_new_turn(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    journal = FileJournal(tmp_path / "door.db")
    await journal.begin("web:a", "是的", "t1")
    now = turn_journal.time.time()
    monkeypatch.setattr(turn_journal.time, "time", lambda: now + turn_journal.RETRY_WINDOW_S + 1)
    assert await journal.unanswered("web:a", "是的") is None
