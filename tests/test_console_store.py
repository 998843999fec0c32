"""The store behind the operator console: lock-out, server-side sessions, forced password change, on-shift
operators, the transcript and its push cursor, the handoff's life (SQLite and PostgreSQL)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from hotline.store import handoffs, operators, transcripts
from hotline.store.errors import StoreError
from hotline.store.models import LoginFailures, OperatorSession, utcnow


def test_five_wrong_passwords_lock_the_name_even_for_the_right_one(session: Session) -> None:
    password = operators.create_operator(session=session, username="op.chen")
    for _ in range(4):
        assert operators.login(session=session, username="op.chen", password="wrong") is None
    assert operators.login(session=session, username="op.chen", password=password)  # 4 in a row: not yet
    for _ in range(5):
        assert operators.login(session=session, username="op.chen", password="wrong") is None
    with pytest.raises(operators.LoginLocked) as locked:
        operators.login(session=session, username="op.chen", password=password)
    assert locked.value.until - utcnow() >= timedelta(minutes=5) - timedelta(seconds=5)
    # Once the lock has run out, the right password works again and the count starts afresh.
    row = session.get(LoginFailures, "op.chen")
    assert row is not None
    row.locked_until = utcnow() - timedelta(seconds=1)
    session.flush()
    assert operators.login(session=session, username="op.chen", password=password)
    assert session.get(LoginFailures, "op.chen") is None


def test_unknown_names_are_locked_too(session: Session) -> None:
    for _ in range(5):
        assert operators.login(session=session, username="ghost", password="x") is None
    with pytest.raises(operators.LoginLocked):
        operators.login(session=session, username="ghost", password="x")


def test_logout_ends_the_session_on_the_server(session: Session) -> None:
    password = operators.create_operator(session=session, username="op.chen")
    token = operators.login(session=session, username="op.chen", password=password)
    assert token and operators.operator_for_token(session=session, token=token) is not None
    assert operators.logout(session=session, token=token) is True
    assert operators.operator_for_token(session=session, token=token) is None
    assert operators.logout(session=session, token=token) is False
    assert session.query(OperatorSession).one().ended_at is not None  # kept, for the record


def test_idle_session_expires_and_on_shift_reads_last_seen(session: Session) -> None:
    password = operators.create_operator(session=session, username="op.chen")
    token = operators.login(session=session, username="op.chen", password=password)
    assert token
    assert operators.operators_on_shift(session=session) == ["op.chen"]
    row = session.query(OperatorSession).one()
    row.last_seen_at = utcnow() - operators.ON_SHIFT_WINDOW - timedelta(minutes=1)
    session.flush()
    assert operators.operators_on_shift(session=session) == []
    assert operators.operator_for_token(session=session, token=token) is not None  # still logged in: touches it
    assert operators.operators_on_shift(session=session) == ["op.chen"]
    row.last_seen_at = utcnow() - operators.SESSION_IDLE - timedelta(minutes=1)
    session.flush()
    assert operators.operator_for_token(session=session, token=token) is None


def test_new_operator_must_change_password(session: Session) -> None:
    password = operators.create_operator(session=session, username="op.chen")
    operator = operators.operator_for_token(session=session,
                                            token=operators.login(session=session, username="op.chen", password=password) or "")
    assert operator is not None and operator.must_change_password
    with pytest.raises(operators.WrongPassword):
        operators.change_password(session=session, operator=operator, old="nope", new="a-long-new-secret")
    with pytest.raises(StoreError, match="at least"):
        operators.change_password(session=session, operator=operator, old=password, new="short")
    operators.change_password(session=session, operator=operator, old=password, new="a-long-new-secret")
    assert not operator.must_change_password
    assert operators.login(session=session, username="op.chen", password="a-long-new-secret")
    assert operators.login(session=session, username="op.chen", password=password) is None


def test_transcript_and_push_cursor(session: Session) -> None:
    conv = "web:" + "a" * 64
    transcripts.record_message(session=session, conversation_id=conv, author="citizen", text="转人工")
    transcripts.record_message(session=session, conversation_id=conv, author="bot", text="已通知值班人员",
                               buttons=[{"title": "好的", "payload": "/affirm"}])
    rows, cursor = transcripts.pushed_since(session=session, conversation_id=conv, since=0)
    assert rows == [] and cursor == 2  # the citizen's page already showed these two
    transcripts.record_message(session=session, conversation_id=conv, author="operator", text="您好，我是王", operator="op.w",
                               pushed=True)
    transcripts.record_message(session=session, conversation_id="web:" + "b" * 64, author="citizen", text="别人的话")
    rows, cursor = transcripts.pushed_since(session=session, conversation_id=conv, since=2)
    assert [(r.author, r.text, r.operator) for r in rows] == [("operator", "您好，我是王", "op.w")] and cursor == 3
    assert transcripts.pushed_since(session=session, conversation_id=conv, since=3) == ([], 3)
    lines = transcripts.transcript(session=session, conversation_id=conv)
    assert [r.seq for r in lines] == [1, 2, 3]
    assert transcripts.message_buttons(lines[1]) == [{"title": "好的", "payload": "/affirm"}]
    with pytest.raises(StoreError):
        transcripts.record_message(session=session, conversation_id=conv, author="robot", text="x")


def test_handoff_life(session: Session) -> None:
    first = handoffs.open_handoff(session=session, channel="web", sender_hash="a" * 64, category="wage_arrears",
                                  summary="欠薪")
    assert (first.status, first.conversation_id) == ("waiting", "web:" + "a" * 64)
    # Asking again while one is open keeps the one handoff.
    assert handoffs.open_handoff(session=session, channel="web", sender_hash="a" * 64).id == first.id
    assert handoffs.active_handoff(session=session, conversation_id="web:" + "a" * 64) is first
    first.reply_address = "sealed"
    taken = handoffs.set_handoff_status(session=session, handoff_id=first.id, status="taken", operator="op.w")
    assert taken is not None and taken.taken_at is not None and taken.operator == "op.w"
    closed = handoffs.set_handoff_status(session=session, handoff_id=first.id, status="closed", operator="op.w")
    assert closed is not None and closed.closed_at is not None and closed.reply_address is None
    assert handoffs.active_handoff(session=session, conversation_id="web:" + "a" * 64) is None
    again = handoffs.open_handoff(session=session, channel="web", sender_hash="a" * 64)
    assert again.id != first.id
