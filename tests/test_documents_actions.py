"""The draft papers in the conversation, offline (issue 25): document_form's validators, the drafts made from the
tracker's facts (personal slots cleared after), the consultation row marked `document`, the reminders set/stopped."""
from __future__ import annotations

import datetime as dt
from typing import Any

from rasa_sdk.events import SlotSet
from sqlalchemy import select
from sqlalchemy.orm import Session

from actions.documents import (
    ActionMakeDocument,
    ActionSetReminder,
    ActionStopReminders,
    ValidateDocumentForm,
    id_number_ok,
)
from hotline.store import documents as store
from hotline.store.models import Consultation, DocumentDraft, Reminder
from tests.test_actions import DOMAIN, responses, run, tracker

VALID_ID = "11010519491231002X"  # the GB 11643 standard's own example
ME = {"applicant_name": "张三", "applicant_sex": "男", "applicant_id_number": VALID_ID,
      "applicant_phone": "13977212345", "applicant_address": "柳州市城中区中南路1号"}


def validate(slot: str, text: str) -> tuple[dict, list[str]]:
    from rasa_sdk.executor import CollectingDispatcher

    d = CollectingDispatcher()
    method = getattr(ValidateDocumentForm(), f"validate_{slot}")
    return method(text, d, tracker("wage_claim_done.json"), DOMAIN), responses(d)


def test_id_number_check_digit() -> None:
    assert id_number_ok(VALID_ID) and id_number_ok(VALID_ID.lower())
    assert not id_number_ok("110105194912310021")  # one wrong check digit
    assert not id_number_ok("11010519491231002")


def test_each_personal_field_read_skipped_or_asked_again() -> None:
    assert validate("applicant_id_number", "11010519491231002x") == ({"applicant_id_number": VALID_ID}, [])
    assert validate("applicant_id_number", "110105194912310021") == (
        {"applicant_id_number": None}, ["utter_bad_applicant_id_number"])
    assert validate("applicant_sex", "男的") == ({"applicant_sex": "男"}, [])
    assert validate("applicant_phone", "139-7721-2345") == ({"applicant_phone": "13977212345"}, [])
    assert validate("applicant_name", "我叫李秀英") == ({"applicant_name": "李秀英"}, [])
    assert validate("applicant_address", "跳过") == ({"applicant_address": ""}, [])  # a blank to write by hand
    stopped, said = validate("applicant_phone", "算了")
    assert stopped["document_cancelled"] is True and all(stopped[s] == "" for s in ME) and said == []


async def test_the_draft_from_the_conversation(session: Session) -> None:
    events, d = await run(ActionMakeDocument(), tracker("wage_claim_done.json", slots=ME))
    said = responses(d)
    assert said[0] == "utter_document_ready" and said[-1] == "utter_offer_reminder"
    ready = d.messages[0]
    assert "/api/documents/" in ready["link"] and VALID_ID not in ready["link"] and "张三" not in ready["link"]
    assert ready["link"].startswith("http")  # WeChat (the fixture's channel) needs the whole address
    assert "utter_document_legal_aid_ready" in said  # a migrant worker's wages: eligible (第四十二条)
    # The deadline from the end date 2026-10-20 (第二十七条), offered for reminders.
    assert SlotSet("document_deadline", "2027年10月20日") in events
    assert d.messages[-1]["document_deadline"] == "2027年10月20日"
    for slot in ME:  # the personal fields leave the conversation once in the sealed draft
        assert SlotSet(slot, None) in events
    drafts = session.scalars(select(DocumentDraft)).all()
    assert [r.kind for r in drafts] == ["arbitration", "legal_aid"]
    opened = store.open_draft(session=session, draft_id=drafts[0].id)
    assert opened.content["applicant"]["id_number"] == VALID_ID
    claim = opened.content["claims"][0]
    assert claim["amount"] == 23000 // 5 and "《劳动合同法》第三十条" in claim["basis"]  # 5 workers: each files his own
    assert opened.content["deadline"] == "2026-10-20".replace("2026", "2027")
    [row] = session.scalars(select(Consultation)).all()
    assert row.referral == "document" and VALID_ID not in (row.summary or "") and "张三" not in (row.summary or "")


async def test_cancelled_makes_nothing(session: Session) -> None:
    _events, d = await run(ActionMakeDocument(), tracker("wage_claim_done.json",
                                                        slots={**dict.fromkeys(ME, ""), "document_cancelled": True}))
    assert responses(d) == ["utter_document_cancelled"]
    assert session.scalars(select(DocumentDraft)).all() == []


async def test_reminders_set_and_stopped(session: Session) -> None:
    t = tracker("wage_claim_done.json", slots={"document_deadline": "2027年10月20日"})
    _, d = await run(ActionSetReminder(), t)
    assert responses(d) == ["utter_reminder_set"]
    rows = session.scalars(select(Reminder)).all()
    assert sorted((r.days_before, r.due_on) for r in rows) == [(7, dt.date(2027, 10, 13)), (30, dt.date(2027, 9, 20))]
    assert {r.channel for r in rows} == {"wechat"}
    _, d = await run(ActionStopReminders(), t)
    assert responses(d) == ["utter_reminders_stopped"]
    session.expire_all()
    assert {r.status for r in session.scalars(select(Reminder))} == {"stopped"}
    _, d = await run(ActionStopReminders(), t)
    assert responses(d) == ["utter_no_reminders"]


async def test_nothing_personal_reaches_the_logs(session: Session, caplog: Any) -> None:
    import logging

    caplog.set_level(logging.DEBUG)
    await run(ActionMakeDocument(), tracker("wage_claim_done.json", slots=ME))
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for secret in (VALID_ID, "13977212345", "张三", "中南路1号"):
        assert secret not in logged
