"""At phone size the draft is one tap (issue 25): headless Debian chromium, the web app and a fake Rasa on loopback;
the bot's answer carries a real signed link to a real sealed draft."""
from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bot.app import create_app
from hotline.documents.arbitration import Applicant
from hotline.documents.service import make_drafts
from hotline.wage_claim import WageFacts
from tests.chromium import ARGS, CHROMIUM
from tests.fakes.rasa import FakeRasa
from tests.fakes.server import LoopbackServer

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed (apt-get install chromium)"),
]


@pytest.fixture
def link(engine: Engine, session: Session) -> str:
    facts = WageFacts(employer="恒通建筑公司", amount=35000, employment_ended=True, end_date=dt.date(2026, 10, 31),
                      has_contract=True, migrant_worker=True)
    [made, *_] = make_drafts(session=session, facts=facts, applicant=Applicant(name="张三"), on=dt.date(2026, 12, 7),
                             channel="web", sender_hash="d" * 64, pdf=False)
    session.commit()
    return made.link("docx")


@pytest.fixture
def site(fake_rasa: FakeRasa, link: str) -> Iterator[str]:
    fake_rasa.reply = lambda s, m: [{"text": f"仲裁申请书草稿写好了，点开就能看：\n{link}\n打印后逐项核对、签名。",
                                     "recipient_id": s}]
    with LoopbackServer(create_app()) as srv:
        yield srv.url


def test_the_draft_is_one_tap_at_phone_size(site: str, link: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                                      has_touch=True, locale="zh-CN", accept_downloads=True)
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.goto(site + "/")
        page.fill("#input", "要")
        page.click("#send")
        button = page.locator("a.doc-link")
        expect(button).to_have_count(1)
        expect(button).to_have_text("点这里下载（Word）")
        assert button.get_attribute("href") == link
        box = button.bounding_box()
        assert box is not None and box["height"] >= 48 and box["width"] >= 240  # a thumb's target across the bubble
        with page.expect_download() as download:
            button.tap()
        path = download.value.path()
        assert path is not None and Path(path).read_bytes()[:2] == b"PK"  # the .docx itself
        if os.environ.get("HOTLINE_SCREENSHOTS") == "1":  # otherwise `make test` would leave the tree changed
            page.screenshot(path=str(Path(__file__).resolve().parent.parent / "reports" / "screenshots"
                                     / "document_link_phone.png"))
        context.close()
        browser.close()
