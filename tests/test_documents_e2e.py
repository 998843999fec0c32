"""A whole wage claim in Chinese through POST /api/chat ends with the draft (issue 25), on the real stack: Rasa and
the action server on loopback, the web app in this process. The draft's figures equal the conversation's; the
reminders are agreed to and stopped with 「不用提醒了」."""
from __future__ import annotations

import os
import re
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from hotline import clock
from tests.door import Door, door
from tests.stack import prepared_database, running_cluster

pytestmark = pytest.mark.rasa

# What a citizen types when each slot is asked, as they would type it.
ANSWERS = {
    "employer": "恒通建筑公司",
    "amount": "三万五",
    "people_count": "就我一个",
    "months_owed": "5个月",
    "migrant_worker": "是的，我是农民工",
    "construction": "不是工地，是厂里",
    "hired_by": "公司招的",
    "employment_ended": "不干了",
    "end_date": "2026年10月31日",
    "last_demand_date": "没要过",
    "has_contract": "签了",
    "months_worked": "8个月",
    "evidence": "有欠条和微信聊天记录",
    "street": "中南街道",
    "consent_phone": "不用了",
    "phone": "跳过",
    "applicant_name": "张三",
    "applicant_sex": "男",
    "applicant_id_number": "11010519491231002X",
    "applicant_phone": "13977212345",
    "applicant_address": "柳州市城中区中南路1号",
}
LINK = re.compile(r"/api/documents/[0-9]+\.(?:pdf|docx)\.[0-9]+\.[A-Za-z0-9_\-=]+")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    tmp: Path = tmp_path_factory.mktemp("documents")
    url = f"sqlite:///{tmp / 'hotline.db'}"
    env = {"HOTLINE_VAR_DIR": str(tmp / "var"), "HOTLINE_SECRET_KEY": "test-secret", "HOTLINE_SENDER_SALT": "test-salt"}
    prepared_database(url, **env)
    with running_cluster(tmp, url, rasa_processes=1, extra_env=env) as cluster:
        yield cluster.stack, f"sqlite:///{tmp / 'rasa_tracker.db'}"


@pytest.fixture
def web(stack: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Door]:
    monkeypatch.setenv("HOTLINE_TRACKER_STORE_URL", stack[1])  # the door scrubs the answers there too
    with door(monkeypatch, stack[0]) as d:
        d.tracker_url = stack[1]  # type: ignore[attr-defined]
        yield d


def _slot(d: Door, sender: str) -> str | None:
    return d.tracker(sender)["slots"].get("requested_slot")


def test_whole_wage_claim_ends_with_the_draft_and_a_reminder(web: Door) -> None:
    sender, transcript = "e2e-documents", []

    def talk(words: str) -> str:
        answer = web.said(sender, words)
        transcript.extend([f"市民：{words}", "助手：" + answer.replace("\n", " / ")])
        return answer

    last = talk("老板欠了我五个月工资三万五，我想讨薪")
    for _ in range(30):  # the wage form, then the offer, then document_form
        slot = _slot(web, sender)
        if slot is None:
            break
        assert slot in ANSWERS, f"asked {slot}, which this test does not answer; said: {last}"
        last = talk(ANSWERS[slot])
    assert "要不要帮您写好仲裁申请书" in last, last
    last = talk("要")
    assert "30天后删除" in last and "姓名" in last
    for _ in range(8):
        slot = _slot(web, sender)
        if slot is None:
            break
        last = talk(ANSWERS[slot])
    answer = last
    links = LINK.findall(answer)
    assert len(links) == 2, answer  # the arbitration application and the legal-aid form (第四十二条, a migrant worker)
    assert "11010519491231002X" not in answer and "张三" not in links[0]
    assert "要不要在时效到期前提醒您" in answer and "2027年10月31日" in answer

    # The personal answers live only in the sealed draft: not in the transcript, not in Rasa's tracker store.
    for url, query in ((web.stack.database_url, "SELECT text FROM chat_messages"),
                       (web.tracker_url, "SELECT data FROM events")):  # type: ignore[attr-defined]
        engine = create_engine(url)
        with engine.connect() as conn:
            kept = " ".join(str(r[0]) for r in conn.execute(text(query)))
        engine.dispose()
        assert "11010519491231002X" not in kept and "13977212345" not in kept and "中南路1号" not in kept, url
    pdf = web.client.get(links[0])
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf", pdf.text[:200]
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "a.pdf").write_bytes(pdf.content)
        words = subprocess.run(["pdftotext", str(Path(tmp) / "a.pdf"), "-"], capture_output=True, text=True,
                               check=True).stdout.replace(" ", "")
        # The conversation's own draft, first page, for the record (the sample person of ANSWERS is invented).
        # Into reports/ only with HOTLINE_REPORTS=1 (a test run leaves the tree as it found it).
        shots = Path(__file__).resolve().parent.parent / "reports" / "screenshots"
        shot = (shots if os.environ.get("HOTLINE_REPORTS") == "1" else Path(tmp)) / "document_arbitration_chat_p1"
        subprocess.run(["pdftoppm", "-r", "80", "-png", "-f", "1", "-l", "1", "-singlefile", str(Path(tmp) / "a.pdf"),
                        str(shot)], check=True)
    for figure in ("35000元", "张三", "恒通建筑公司", "2027年10月31日", "欠条", "第二十七条"):
        assert figure in words, figure
    forged = links[0][:-3] + ("AAA" if not links[0].endswith("AAA") else "BBB")
    assert web.client.get(forged).status_code == 403

    assert "提醒已设好" in talk("要")
    engine = create_engine(web.stack.database_url)
    with engine.connect() as conn:
        reminders = conn.execute(text("SELECT days_before, due_on, status FROM reminders ORDER BY days_before")).all()
        row = conn.execute(text("SELECT referral, summary FROM consultations")).one()
    assert [(r[0], str(r[1]), r[2]) for r in reminders] == [(7, "2027-10-24", "pending"), (30, "2027-10-01", "pending")]
    assert row[0] == "document" and "11010519491231002X" not in (row[1] or "")

    assert "不再提醒" in talk("不用提醒了")
    with engine.connect() as conn:
        assert {r[0] for r in conn.execute(text("SELECT status FROM reminders"))} == {"stopped"}
    engine.dispose()
    tracker = web.tracker(sender)
    assert all(tracker["slots"].get(s) in (None, "") for s in ANSWERS if s.startswith("applicant_"))
    if os.environ.get("HOTLINE_REPORTS") == "1":  # rewritten on request only: a test run leaves the tree as it was
        Path(__file__).parent.joinpath("..", "reports", "documents_conversation.md").resolve().write_text(
            "# A whole conversation ending with the draft (tests/test_documents_e2e.py, last run "
            f"{clock.today().isoformat()})\n\n" + "\n\n".join(transcript) + "\n", encoding="utf-8")
