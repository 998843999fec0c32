"""Every question of every form takes the citizen's own words, with the right value (issues 22 and 29).

On the real stack (trained model, Rasa, action server): the conversation is walked once to each question, then
cloned for each answer of tests/form_answers.yaml (written blind to the readers) and of
tests/form_answers_cross.yaml. An answer passes only when the form moves on with the value the table gives, the
facts the same words state (`also`), and no other slot changed. Then, for every question of every flow, the other
flows started afterwards ask every question whose slot is not shared (flows.yaml `shared`): a fact goes only where
it was meant.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from hotline import flows
from tests import walks
from tests.stack import prepared_database, running_cluster

pytestmark = pytest.mark.rasa

ROOT = Path(__file__).resolve().parent.parent
TABLE = yaml.safe_load((ROOT / "tests" / "form_answers.yaml").read_text(encoding="utf-8"))["answers"]
CROSS = yaml.safe_load((ROOT / "tests" / "form_answers_cross.yaml").read_text(encoding="utf-8"))
CROSS = CROSS.get("answers", CROSS) if isinstance(CROSS, dict) else CROSS
QUESTIONS = [q for q in walks.questions(walks.load_domain()) if q.slot in flows.form_slots()]
OPENERS = walks.openers()
# Slots a turn may change besides the facts: the form's bookkeeping.
BOOKKEEPING = {"requested_slot", "skipped_slots", "open_topic", "disclaimer_shown", "paused_form",
               "consultation_count", "consultation_category"}
FLOW_OF_FORM = {f.form: f.name for f in flows.flows()}


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[walks.Bot]:
    tmp: Path = tmp_path_factory.mktemp("answers")
    url = f"sqlite:///{tmp / 'answers.db'}"
    prepared_database(url, HOTLINE_VAR_DIR=str(tmp / "var"))
    with running_cluster(tmp, url, rasa_processes=1, extra_env={"HOTLINE_VAR_DIR": str(tmp / "var")}) as cluster:
        yield walks.Bot(cluster.stack.rasa_url, token=cluster.stack.rasa_token)


def routes() -> dict[str, str]:
    """Answers that lead where the walk policies do not go: an elderly mother's 赡养费 claim (no fixed income, lives
    with her son, her own income) and a job that ended eleven months ago (when the worker last asked)."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    ended = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date() - dt.timedelta(days=330)
    return {"matter": "儿子不给我生活费，我想要赡养费", "migrant_worker": "不是", "groups": "我今年68了",
            "no_fixed_income": "有退休金", "lives_with_other_party": "住在一起", "construction": "不是",
            "employment_ended": "不干了", "end_date": f"{ended.year}年{ended.month}月{ended.day}日"}


def walk_by_route(bot: walks.Bot, sender: str, form: str, slot: str) -> str | None:
    known = {q.slot: q for q in QUESTIONS if q.form == form}
    walks.open_form(bot, sender, OPENERS[form], "first")
    route = routes()
    for _ in range(25):
        loop, asked = bot.requested_slot(sender)
        if loop != form or asked is None:
            return None
        if asked == slot:
            return sender
        bot.say(sender, route.get(asked) or walks.good_answer(known.get(asked, walks.Question(form, asked, ())),
                                                              "first"))
    return None


@pytest.fixture(scope="module")
def bases(bot: walks.Bot) -> dict[tuple[str, str], str | None]:
    """One conversation walked to each question, cloned for every answer."""
    return {(q.form, q.slot): walks.walk_to(bot, f"a-{q.form}-{q.slot}", OPENERS[q.form], q.form, q.slot)
            or walk_by_route(bot, f"r-{q.form}-{q.slot}", q.form, q.slot) for q in QUESTIONS}


def slots_of(bot: walks.Bot, sender: str) -> dict[str, Any]:
    return dict(bot.tracker(sender).get("slots") or {})


def same(got: Any, want: Any) -> bool:
    if isinstance(want, list):
        return isinstance(got, list) and set(map(str, got)) == set(map(str, want))
    if isinstance(want, bool) or isinstance(got, bool):
        return got is want
    if isinstance(want, int | float) and isinstance(got, int | float):
        return float(got) == float(want)
    return got == want


def verdict(bot: walks.Bot, base: str, form: str, entry: dict[str, Any]) -> str | None:
    """None when the answer was taken as the table says; else what went wrong."""
    slot, text = entry["slot"], entry["text"]
    sender = bot.clone(base)
    before = slots_of(bot, sender)
    bot.say(sender, text)
    after = slots_of(bot, sender)
    loop, asked = bot.requested_slot(sender)
    want = entry.get("value")
    problems = []
    if want == "skip":
        if after.get(slot) is not None or slot not in (after.get("skipped_slots") or []):
            problems.append(f"not skipped ({slot}={after.get(slot)!r})")
    elif want is not None and not same(after.get(slot), want):
        problems.append(f"{slot}={after.get(slot)!r}, want {want!r}")
    if "value" in entry and loop == form and asked == slot:
        problems.append("the same question again")
    also = {k: v for k, v in (entry.get("also") or {}).items()
            if k in flows.flow(FLOW_OF_FORM[form]).slot_names and before.get(k) is None}
    for other, value in also.items():
        if not same(after.get(other), value):
            problems.append(f"also {other}={after.get(other)!r}, want {value!r}")
    allowed = {slot, *(entry.get("also") or {}), *BOOKKEEPING, *stated(text, form, slot)}
    for other in flows.form_slots():
        if other not in allowed and after.get(other) != before.get(other):
            problems.append(f"changed {other}: {before.get(other)!r} -> {after.get(other)!r}")
    for other in entry.get("must_not_change") or []:
        if other != slot and after.get(other) != before.get(other):
            problems.append(f"changed {other} (must not): {before.get(other)!r} -> {after.get(other)!r}")
    return "; ".join(problems) or None


def stated(text: str, form: str, slot: str) -> set[str]:
    """Other slots the same words state beyond doubt by the spec's words: said_* words, who hired the worker, figures
    the rule reader places, a community's street (must_not_change in the tables still wins)."""
    from hotline.flows import fact_readers, reading
    from hotline_nlu.numbers import extract

    own = set(flows.flow(FLOW_OF_FORM[form]).slot_names)
    found = {*reading.said(text), *fact_readers.said(text), *(f.entity for f in extract(text))}
    if reading.matter_said(text):
        found.add("matter")
    if slot == "community":
        found.add("street")
    return found & own


def entries_for(table: list[dict[str, Any]], form: str, slot: str) -> list[dict[str, Any]]:
    flow = FLOW_OF_FORM[form]
    return [e for e in table if e["slot"] == slot and e.get("flow", flow) == flow]


@pytest.mark.parametrize("question", QUESTIONS, ids=lambda q: f"{q.form}.{q.slot}")
def test_every_answer_of_the_table_is_taken_with_its_value(bot: walks.Bot, bases: dict, question: walks.Question
                                                            ) -> None:
    base = bases[(question.form, question.slot)]
    if base is None:
        pytest.skip(f"no answering policy makes {question.form} ask {question.slot}")
    entries = entries_for(TABLE, question.form, question.slot) + entries_for(CROSS, question.form, question.slot)
    assert entries, f"the answer table has nothing for {question.slot}"
    failures = [f"{e['text']!r}: {why}" for e in entries if (why := verdict(bot, base, question.form, e))]
    assert not failures, f"{len(failures)} of {len(entries)} answers to {question.slot}:\n" + "\n".join(failures)


def _plain_answer(form: str, slot: str) -> str | None:
    """An answer of the table that states only its own slot's fact."""
    return next((e["text"] for e in entries_for(TABLE, form, slot)
                 if e.get("value") not in (None, "skip") and not e.get("also") and not e.get("hard")), None)


@pytest.mark.parametrize("question", QUESTIONS, ids=lambda q: f"{q.form}.{q.slot}")
def test_an_answer_fills_no_other_flow(bot: walks.Bot, bases: dict, question: walks.Question) -> None:
    """Answer one question, then start each other flow: it asks every question whose slot is not shared."""
    base = bases[(question.form, question.slot)]
    answer = _plain_answer(question.form, question.slot)
    if base is None or answer is None:
        pytest.skip(f"{question.form} does not ask {question.slot} here")
    problems = []
    for other in flows.flows():
        if other.form == question.form:
            continue
        sender = bot.clone(base)
        bot.say(sender, answer)
        answered = slots_of(bot, sender)
        walks.open_form(bot, sender, OPENERS[other.form], "first")
        asked: set[str] = set()
        known = {q.slot: q for q in QUESTIONS if q.form == other.form}
        for _ in range(20):
            loop, slot = bot.requested_slot(sender)
            if loop != other.form or slot is None:
                break
            asked.add(slot)
            bot.say(sender, walks.good_answer(known.get(slot, walks.Question(other.form, slot, ())), "first"))
        for entry in other.slots:
            if entry.slot.shared or entry.name in asked:
                continue
            value = slots_of(bot, sender).get(entry.name)
            if answered.get(entry.name) is not None and value is not None:
                problems.append(f"{other.name}: {entry.name}={answered.get(entry.name)!r} came from {question.slot}")
    assert not problems, "\n".join(problems)


def test_the_income_of_a_legal_aid_check_is_not_the_wages_owed(bot: walks.Bot) -> None:
    """The issue's case: a legal-aid check for a traffic accident, 「两千」 to 全家每月收入, then 讨薪: the wage claim
    asks 「一共欠了多少钱」 and the amount owed stays empty."""
    sender = "issue29-income"
    bot.say(sender, OPENERS["legal_aid_form"])
    for _ in range(12):
        loop, asked = bot.requested_slot(sender)
        if loop != "legal_aid_form" or asked == "monthly_income" or asked is None:
            break
        question = next((q for q in QUESTIONS if q.form == "legal_aid_form" and q.slot == asked),
                        walks.Question("legal_aid_form", asked, ()))
        answer = {"matter": "出了车祸，被车撞了", "migrant_worker": "不是", "groups": "都不是"}.get(asked)
        bot.say(sender, answer or walks.good_answer(question, "first"))
    assert bot.requested_slot(sender) == ("legal_aid_form", "monthly_income")
    bot.say(sender, "两千")
    assert slots_of(bot, sender).get("monthly_income") == 2000
    bot.say(sender, "我还想问问讨薪的事，老板欠我工资")
    for _ in range(6):
        loop, asked = bot.requested_slot(sender)
        if loop == "wage_claim_form" and asked == "amount":
            break
        if loop != "wage_claim_form":
            bot.say(sender, "老板欠我工资")
            continue
        bot.say(sender, "恒通建筑公司" if asked == "employer" else "跳过")
    assert bot.requested_slot(sender) == ("wage_claim_form", "amount")
    assert slots_of(bot, sender).get("amount") is None
