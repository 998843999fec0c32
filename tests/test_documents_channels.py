"""The drafts on each channel, at the wire (issue 25): Telegram gets the file as a document message after the link;
a Telegram citizen who agrees to reminders has the chat id sealed on them; the web chat's link is one tap."""
from __future__ import annotations

import datetime as dt
import itertools
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from telegram import Update
from telegram.ext import Application

from bot.telegram_bridge import build_application
from hotline.documents import sealing
from hotline.documents.arbitration import Applicant
from hotline.documents.service import make_drafts
from hotline.privacy import hash_sender
from hotline.store import documents as store
from hotline.store.models import Reminder
from hotline.wage_claim import WageFacts
from tests.fakes.rasa import FakeRasa
from tests.fakes.server import LoopbackServer
from tests.fakes.telegram import FakeBotApi

TOKEN = "123456:TEST-token"
CHAT_ID = 987654321
_ids = itertools.count(1)
FACTS = WageFacts(employer="恒通建筑公司", amount=35000, employment_ended=True, end_date=dt.date(2026, 10, 31),
                  has_contract=True, migrant_worker=True)


def update(text: str) -> dict[str, Any]:
    return {"update_id": next(_ids), "message": {
        "message_id": next(_ids), "date": int(time.time()), "text": text,
        "from": {"id": CHAT_ID, "is_bot": False, "first_name": "阿强"},
        "chat": {"id": CHAT_ID, "type": "private", "first_name": "阿强"}}}


@pytest.fixture
def bot_api() -> Iterator[tuple[FakeBotApi, str]]:
    fake = FakeBotApi()
    with LoopbackServer(fake.app()) as srv:
        yield fake, srv.url


@pytest.fixture
async def tg(engine: Engine, bot_api: tuple[FakeBotApi, str],
             fake_rasa: FakeRasa) -> AsyncIterator[tuple[Application, FakeBotApi]]:
    fake, url = bot_api
    application = build_application(TOKEN, base_url=f"{url}/bot")
    async with application:
        yield application, fake


async def test_telegram_gets_the_draft_as_a_document(tg: tuple[Application, FakeBotApi], fake_rasa: FakeRasa,
                                                     session: Session) -> None:
    application, fake = tg
    [arbitration, _aid] = make_drafts(session=session, facts=FACTS, applicant=Applicant(name="阿强"),
                                      on=dt.date(2026, 12, 7), channel="telegram", sender_hash="x" * 64, pdf=False)
    session.commit()
    link = arbitration.link(base="https://hotline.example")
    fake_rasa.reply = lambda s, m: [{"text": f"仲裁申请书草稿写好了，点开就能看：\n{link}"}]
    await application.process_update(Update.de_json(update("/affirm"), application.bot))
    [sent] = fake.sent()
    assert link in sent["text"]
    [doc] = fake.documents()
    assert int(doc["chat_id"]) == CHAT_ID
    assert doc["document"]["filename"] == "劳动仲裁申请书.docx"
    opened = store.open_draft(session=session, draft_id=arbitration.draft_id)
    assert doc["document"]["content"] == opened.docx  # the very file, not a copy made again


async def test_a_forged_link_sends_no_file(tg: tuple[Application, FakeBotApi], fake_rasa: FakeRasa) -> None:
    application, fake = tg
    fake_rasa.reply = lambda s, m: [{"text": "看这里 /api/documents/1.pdf.9999999999.AAAAAAAAAAAAAAAAAAAAAAAA"}]
    await application.process_update(Update.de_json(update("hi"), application.bot))
    assert fake.documents() == []


async def test_agreeing_to_reminders_seals_the_chat_id(tg: tuple[Application, FakeBotApi], fake_rasa: FakeRasa,
                                                      session: Session) -> None:
    application, _fake = tg
    sender = hash_sender(str(CHAT_ID), "test-salt")
    store.schedule_reminders(session=session, channel="telegram", sender_hash=sender,
                             deadline=dt.date(2027, 10, 31), today=dt.date(2026, 12, 7))
    session.commit()
    fake_rasa.reply = lambda s, m: [{"text": "提醒已设好：2027年10月31日前30天和7天各提醒一次。"}]
    await application.process_update(Update.de_json(update("/affirm"), application.bot))
    session.expire_all()
    addresses = [r.reply_address for r in session.scalars(select(Reminder))]
    assert len(addresses) == 2 and all(a and str(CHAT_ID) not in a for a in addresses)
    assert {sealing.unseal_address(a) for a in addresses} == {str(CHAT_ID)}


def test_web_chat_link_is_one_big_button() -> None:
    from bot.app import STATIC

    script = (STATIC / "documents.js").read_text(encoding="utf-8")
    assert "/api/documents/" in script and "min-height:48px" in script and "display:block" in script
    assert 'src="/static/documents.js"' in (STATIC / "index.html").read_text(encoding="utf-8")
    assert 'src="/static/console_documents.js"' in (STATIC / "console.html").read_text(encoding="utf-8")


# --- WeChat, at the wire: the signed link in the passive reply; a held reminder comes with the next answer ------

# WeChat's fixtures, named by the tests below (`x as x` marks them as used here).
from tests.test_wechat import OPENID, post, reply_content, text_xml  # noqa: E402
from tests.test_wechat import client as client  # noqa: E402
from tests.test_wechat import fake_wechat as fake_wechat  # noqa: E402
from tests.test_wechat import wechat_server as wechat_server  # noqa: E402


async def test_wechat_gets_the_signed_link_and_it_opens(client: Any, fake_rasa: FakeRasa, session: Session) -> None:
    [arbitration, _aid] = make_drafts(session=session, facts=FACTS, applicant=Applicant(name="阿强",
                                      id_number="11010519491231002X"), on=dt.date(2026, 12, 7), channel="wechat",
                                      sender_hash=hash_sender(OPENID, "test-salt"), pdf=False)
    session.commit()
    link = arbitration.link("docx", base="https://hotline.example")
    fake_rasa.reply = lambda s, m: [{"text": f"仲裁申请书草稿写好了，点开就能看：\n{link}"}]
    said = reply_content((await post(client, text_xml("要", msg_id=7001))).text)
    assert link in said
    for secret in ("11010519491231002X", "阿强", OPENID):
        assert secret not in link
    path = link.removeprefix("https://hotline.example")
    opened = await client.get(path)
    assert opened.status_code == 200 and opened.content[:2] == b"PK"
    assert (await client.get(path[:-2] + ("xx" if not path.endswith("xx") else "yy"))).status_code == 403


async def test_wechat_reminder_waits_for_the_next_message(client: Any, fake_rasa: FakeRasa, session: Session) -> None:
    from hotline.documents.delivery import send_due

    sender = hash_sender(OPENID, "test-salt")
    store.schedule_reminders(session=session, channel="wechat", sender_hash=sender, deadline=dt.date(2027, 10, 31),
                             today=dt.date(2026, 12, 7))
    session.commit()
    assert send_due(session=session, today=dt.date(2027, 10, 1)).held == 1  # WeChat: no first message after 48 h
    session.commit()
    fake_rasa.reply = lambda s, m: [{"text": f"收到：{m}"}]
    said = reply_content((await post(client, text_xml("你好", msg_id=7002))).text)
    assert said.startswith("提醒：您申请劳动仲裁的期限是2027年10月31日，还有30天") and said.endswith("收到：你好")
    said = reply_content((await post(client, text_xml("在吗", msg_id=7003))).text)
    assert "提醒" not in said  # given once
