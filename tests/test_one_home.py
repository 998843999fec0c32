"""Facts and wording with one home each (issue 24): the office hours (hotline/office_hours.yml), the 12348 line and
the doors' own sentences (domain/doors.yml), and one reader of the domain's responses (hotline/wording.py).
Each test changes the home, or looks for a second copy, so it fails when a copy comes back."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from actions.handoff import ActionHandoff
from bot import rasa_client
from hotline import wording
from hotline.office_hours import office_hours
from tests.test_actions import run, tracker

ROOT = Path(__file__).resolve().parent.parent
CODE = [p for folder in ("actions", "bot", "hotline") for p in (ROOT / folder).rglob("*")
        if p.suffix in (".py", ".js", ".html") and "__pycache__" not in p.parts]
HOURS = "周六 9:30-11:30（测试）"


@pytest.fixture
def moved_hours(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """The bureau edits its hours file: a Saturday-morning office, never open now."""
    path = tmp_path / "office_hours.yml"
    path.write_text(f'timezone: Asia/Shanghai\nweekdays: []\nperiods:\n  - ["09:30", "11:30"]\nlabel: {HOURS}\n',
                    encoding="utf-8")
    monkeypatch.setenv("HOTLINE_OFFICE_HOURS_FILE", str(path))
    assert office_hours().label == HOURS
    return HOURS


def test_every_door_that_states_the_hours_follows_the_hours_file(moved_hours: str) -> None:
    assert moved_hours in rasa_client.FALLBACK_TEXT and moved_hours in rasa_client.HELD_TEXT
    assert moved_hours == rasa_client.OFFICE_HOURS
    assert [m.text for m in rasa_client.fallback_messages()] == [rasa_client.FALLBACK_TEXT]
    assert [m.text for m in rasa_client.held_messages()] == [rasa_client.HELD_TEXT]
    from bot.app import create_app

    page = TestClient(create_app()).get("/").text
    assert f'<footer class="foot">司法所办公时间：{moved_hours}' in page and "{{" not in page


async def test_the_handoff_after_hours_states_the_hours_file(moved_hours: str, session: Session) -> None:
    _, d = await run(ActionHandoff(), tracker("greet_only.json", text="转人工", intent="request_human"))
    assert d.messages[-1]["response"] == "utter_handoff_after_hours" and d.messages[-1]["hours"] == moved_hours


def test_no_code_types_the_office_hours() -> None:
    typed = re.compile(r"\d{1,2}:\d{2}\s*-\s*\d{1,2}:\d{2}")
    assert [str(p) for p in CODE if typed.search(p.read_text(encoding="utf-8"))] == []


def test_the_12348_line_has_one_home() -> None:
    """「12348公共法律服务热线」 is domain/doors.yml's utter_hotline_12348; every door sentence quotes it."""
    line = wording.text("utter_hotline_12348")
    assert [str(p) for p in CODE if "12348公共法律服务热线" in p.read_text(encoding="utf-8")] == []
    from bot import app, limits, menu, telegram_bridge

    for said in (rasa_client.FALLBACK_TEXT, rasa_client.HELD_TEXT, app.SORRY, limits.TOO_FAST,
                 telegram_bridge.APOLOGY, menu.HELP, wording.door("utter_door_offline")):
        assert line in said, said


def test_the_web_chat_offline_line_is_the_domains() -> None:
    from bot.app import create_app

    page = TestClient(create_app()).get("/").text
    offline = wording.door("utter_door_offline")
    assert f'data-offline="{offline}"' in page
    assert "document.body.dataset.offline" in (ROOT / "bot" / "static" / "chat.js").read_text(encoding="utf-8")


def test_the_web_chat_says_what_every_channel_says() -> None:
    """The web page's welcome, service chips and message limit are the ones WeChat and Telegram use (bot/menu.py,
    bot/limits.py, domain/doors.yml): the page types none of them."""
    import html as html_lib

    from bot import limits, menu
    from bot.app import create_app

    page = TestClient(create_app()).get("/").text
    assert f'data-welcome="{html_lib.escape(menu.WELCOME)}"' in page
    assert wording.door("utter_door_welcome") == menu.WELCOME and "法律服务助手" in menu.WELCOME
    assert f'data-too-long="{html_lib.escape(limits.TOO_LONG)}"' in page
    assert f'data-max-chars="{limits.MAX_MESSAGE_CHARS}"' in page and str(limits.MAX_MESSAGE_CHARS) in limits.TOO_LONG
    chips = re.findall(r'class="chip" data-payload="([^"]+)">([^<]+)<', page)
    assert chips == [(b.payload, b.title) for b in menu.MAIN_MENU]
    script = (ROOT / "bot" / "static" / "chat.js").read_text(encoding="utf-8")
    assert "法律服务助手" not in script and "MAX_CHARS = 2" not in script and "太长" not in script


def test_one_reader_of_the_domain_files() -> None:
    """Only hotline/wording.py opens domain/*.yml (actions get the domain from Rasa)."""
    opens_domain = re.compile(r"""["']domain["']\s*\)?\s*/|/\s*["']domain["']|glob\(["']\*\.yml""")
    readers = [p.relative_to(ROOT).as_posix() for p in CODE
               if p.suffix == ".py" and opens_domain.search(p.read_text(encoding="utf-8"))]
    assert readers == ["hotline/wording.py"]


def test_the_plain_variation_is_the_one_without_channel_or_condition(tmp_path: Path) -> None:
    (tmp_path / "a.yml").write_text(
        'responses:\n  utter_x:\n    - text: "操作员"\n      channel: copilot\n    - text: "条件"\n'
        '      condition: [{type: slot, name: s, value: true}]\n    - text: "你好{name}"\n', encoding="utf-8")
    assert wording.plain("utter_x", tmp_path) == {"text": "你好{name}"}
    assert wording.placeholders("utter_topic_work_injury") == ("employer_days", "worker_years", "art17")
    with pytest.raises(KeyError):
        wording.text("utter_no_such_response")


def test_the_deadline_reminder_cites_the_record_of_the_period(monkeypatch: pytest.MonkeyPatch,
                                                              tmp_path: Path) -> None:
    import datetime as dt
    from typing import Any

    from hotline.documents.delivery import reminder_text
    from hotline.store.models import Reminder
    from tests.law_data import use_law_data

    reminder = Reminder(deadline=dt.date(2027, 10, 31), days_before=30)
    said = reminder_text(reminder)
    assert "2027年10月31日" in said and "还有30天" in said and "（《劳动争议调解仲裁法》第二十七条）" in said

    def renamed(doc: dict[str, Any]) -> None:
        doc["limitation"]["citation"] = "《劳动争议调解仲裁法》第二十七条（测试）"

    use_law_data(monkeypatch, tmp_path, {"labor_arbitration": renamed})
    assert "（《劳动争议调解仲裁法》第二十七条（测试））" in reminder_text(reminder)
