"""End to end: a migrant worker talks to the real Rasa server through the REST channel, the real action server
answers, and exactly one consultation row lands in a SQLite file."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import create_engine, text

from hotline.privacy import hash_sender
from tests.stack import Stack, prepared_database, running_stack

pytestmark = pytest.mark.rasa

# What a citizen types when each slot is asked: written as they would, never as button payloads.
ANSWERS = {
    "employer": "包工头老李",
    "amount": "三万五",
    "people_count": "12个人",
    "months_owed": "半年",
    "migrant_worker": "是的，我们都是农民工",  # asked, never assumed: the Art. 42(3) waiver depends on it
    "construction": "是，在工地",
    "employment_ended": "是的",
    "hired_by": "包工头",          # issue 23: asked on a site unless said (「包工头跑了」 says it)
    "end_date": "上个月底",        # issue 23: asked once the job has ended
    "last_demand_date": "没要过",   # asked only when the deadline is close or past
    "has_contract": "没有",
    "months_worked": "半年",        # asked only without a contract (double wages)
    "evidence": "有欠条和微信聊天记录",
    "street": "水上",
    "consent_phone": "不用了",
    "phone": "跳过",
}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp: Path = tmp_path_factory.mktemp("e2e")
    url = f"sqlite:///{tmp / 'e2e.db'}"
    prepared_database(url)
    with running_stack(tmp, url) as s:
        yield s


def say(stack: Stack, sender: str, message: str) -> list[dict]:
    response = httpx.post(f"{stack.rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": message},
                          timeout=60)
    response.raise_for_status()
    return response.json()


def requested_slot(stack: Stack, sender: str) -> str | None:
    return stack.tracker(sender)["slots"].get("requested_slot")


def rows(stack: Stack) -> list[dict]:
    engine = create_engine(stack.database_url)
    with engine.connect() as conn:
        result = [dict(r._mapping) for r in conn.execute(text("SELECT * FROM consultations"))]
    engine.dispose()
    return result


def fill_form(stack: Stack, sender: str, opener: str, answers: dict[str, str], limit: int = 20
              ) -> tuple[list[str], list[str]]:
    """Say the opener, then answer each question the form asks from `answers` until it ends: what the bot said, and
    which slots were asked in order."""
    transcript = [r.get("text", "") for r in say(stack, sender, opener)]
    asked: list[str] = []
    for _ in range(limit):
        slot = requested_slot(stack, sender)
        if slot is None:
            break
        assert slot in answers, f"unexpected slot {slot}"
        asked.append(slot)
        transcript += [r.get("text", "") for r in say(stack, sender, answers[slot])]
    assert requested_slot(stack, sender) is None, f"the form never finished; asked {asked}"
    return transcript, asked


def test_wage_claim_through_the_rest_channel_logs_exactly_one_row(stack: Stack) -> None:
    sender = "web:" + hash_sender("browser-123", "e2e-salt")
    transcript, _ = fill_form(stack, sender, "老板欠我们工钱，包工头跑了，我们想讨薪", ANSWERS)
    assert transcript and transcript[0], "the bot said nothing"
    answer = "\n".join(transcript)
    # The routes, the deadline, the legal-aid answer with its article, and the nearest 司法所.
    assert "劳动保障监察" in answer or "12333" in answer
    assert "仲裁" in answer
    assert "第四十二条" in answer
    assert "沿江司法所" in answer

    logged = rows(stack)
    assert len(logged) == 1
    row = logged[0]
    assert row["category"] == "wage_arrears"
    assert row["persons"] == 12
    assert float(row["amount"]) == 35000
    assert row["street"] == "沿江街道"
    assert row["channel"] == "web"
    assert row["sender_hash"] == sender.split(":", 1)[1]
    assert "browser-123" not in str(row)

    # Saying goodbye after the flow ended does not log the same consultation twice.
    say(stack, sender, "好的谢谢，再见")
    assert len(rows(stack)) == 1


def test_a_form_paused_for_another_matter_resumes_where_it_stopped(stack: Stack) -> None:
    sender = "web:" + hash_sender("browser-456", "e2e-salt")
    first = " ".join(r.get("text", "") for r in say(stack, sender, "老板欠我工资 三个月了"))
    assert "我问几个问题" in first  # the first-time introduction
    say(stack, sender, "鑫达劳务公司")
    assert requested_slot(stack, sender) == "amount"
    detour = " ".join(r.get("text", "") for r in say(stack, sender, "对了 我们东台社区的法律顾问是哪个"))
    assert "先放着" in detour and "讨薪" in detour  # paused, and told how to come back
    back = " ".join(r.get("text", "") for r in say(stack, sender, "讨薪"))
    assert "接着刚才" in back and "我问几个问题" not in back
    assert requested_slot(stack, sender) == "amount"  # the employer is kept; the next question is asked again


def test_a_job_ended_eleven_and_a_half_months_ago_gets_the_deadline_warning_with_article_27(stack: Stack) -> None:
    """Issue 23: the end day is asked in a real conversation, so the 1-year period of 调解仲裁法第二十七条 is computed
    and its deadline, 15 days away, comes first on the phone."""
    sender = "web:" + hash_sender("browser-deadline", "e2e-salt")
    today = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()
    ended = today - dt.timedelta(days=350)
    answers = {**ANSWERS, "employer": "鑫达劳务公司", "construction": "不是，在厂里",
               "end_date": f"{ended.year}年{ended.month}月{ended.day}日", "last_demand_date": "没要过"}
    transcript, asked = fill_form(stack, sender, "老板欠我工资，我想讨薪", answers)
    assert "end_date" in asked and "last_demand_date" in asked  # the close deadline makes the last demand matter
    assert stack.tracker(sender)["slots"]["end_date"] == ended.isoformat()
    deadline = ended.replace(year=ended.year + 1) if not (ended.month == 2 and ended.day == 29) else \
        dt.date(ended.year + 1, 2, 28)
    short = next(t for t in transcript if "要抓紧" in t)  # the short answer: the point that matters first
    assert f"{deadline.year}年{deadline.month}月{deadline.day}日前申请劳动仲裁" in short
    assert "《劳动争议调解仲裁法》第二十七条" in short
    assert f"还剩{(deadline - today).days}天" in short


def test_an_elderly_mother_suing_the_son_she_lives_with_is_judged_on_her_own_income(stack: Stack) -> None:
    """Issue 23 item 3 in a real conversation: the form asks whether she lives with the son, then her own income
    (《广西法律援助经济困难标准及认定办法》第三条第二款), not the household's."""
    sender = "web:" + hash_sender("browser-mother", "e2e-salt")
    answers = {"matter": "要儿子给赡养费", "groups": "老年人", "no_fixed_income": "不是，有一点退休金",
               "lives_with_other_party": "住在一起", "own_monthly_income": "一千", "has_valuable_assets": "没有",
               "monthly_income": "八千", "household_size": "3口人", "street": "水上"}
    transcript, asked = fill_form(stack, sender, "儿子不给我养老钱，我想申请法律援助", answers)
    assert "lives_with_other_party" in asked and "own_monthly_income" in asked
    assert "monthly_income" not in asked and "household_size" not in asked
    answer = "\n".join(transcript)
    assert "可以申请法律援助" in answer and "第三条第二款" in answer and "只算您本人" in answer
