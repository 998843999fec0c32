"""Topic answers (hotline.topic_answers): every figure and article a topic sentence quotes is the law-data record in
force on the day, and a figure not checked against the official text never reaches a citizen."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest

from actions.topics import ActionAnswerTopic
from bot import copilot
from hotline import flows, wording
from hotline.law.params import change_dates, files_of, history, parameter
from hotline.law.quotes import BadQuotePath, check_path, item_citation, quote
from hotline.topic_answers import NEEDS_REVIEW, UNVERIFIED_MARK, citations, materials_line, topic_lines
from tests.law_data import setting, use_law_data
from tests.test_actions import responses, run, tracker

TOPICS = sorted(flows.spec().topics)
# Every day a record a topic quotes starts or stops being in force, and the day before: both sides of each date.
QUOTED = sorted({path.rsplit(".", 1)[0] if path.count(".") == 2 else path
                 for t in flows.spec().topics.values() for _, path in t.figures})
DAYS = sorted({d + dt.timedelta(days=k) for d in change_dates(*files_of(QUOTED)) for k in (-1, 0)}
              | {dt.date(2026, 6, 1)})
# A figure or an article typed into the wording instead of quoted: 第八条, 30日, 1年, 3个月.
TYPED = re.compile(r"第[一二三四五六七八九十百]+[条项款]|\d+\s*(日|天|年|个月|元)")


def said(lines: list) -> list[str]:
    return [wording.text(line.response, **line.values) for line in lines]


def expected_text(path: str, on: dt.date) -> str | None:
    """What the record in force says for a quote path, read straight from the data (not through quotes.py)."""
    parts = path.split(".")
    name, key = f"{parts[0]}.{parts[1]}", (parts[2] if len(parts) == 3 else None)
    values = [v for v in history(name) if v.in_force(on)]
    if not values:
        return None
    pv = values[-1]
    if key is None:
        return str(pv.value)
    if key == "citation":
        return pv.citation
    if key.startswith("item"):
        return item_citation(pv, int(key[4:]))
    return str(pv.value[key])


@pytest.mark.parametrize("intent", TOPICS)
def test_topic_wording_types_no_figure_or_article_and_fills_only_law_figures(intent: str) -> None:
    topic = flows.topic(intent)
    assert topic is not None
    figures = dict(topic.figures)
    for response in topic.responses:
        for variation in wording.responses()[response]:
            assert not TYPED.search(str(variation.get("text"))), (response, variation.get("text"))
        assert set(wording.placeholders(response)) <= set(figures), response  # nothing left to a slot
    for path in figures.values():
        check_path(path)  # resolves on every dated value of its record


@pytest.mark.parametrize("day", DAYS)
@pytest.mark.parametrize("intent", TOPICS)
def test_every_quoted_figure_is_the_record_in_force_that_day(intent: str, day: dt.date) -> None:
    topic = flows.topic(intent)
    assert topic is not None
    lines = topic_lines(intent, day, citizen=False)
    paths = dict(topic.figures)
    for line in lines:
        text = wording.text(line.response, **line.values)
        for name, value in line.values.items():
            want = expected_text(paths[name], day)
            assert want is not None and value.removesuffix(UNVERIFIED_MARK) == want, (name, value, want)
            assert want in text
        for q in line.quotes:
            assert q.source.in_force(day) and q.source == parameter(q.source.name, day)
    # a line is held back exactly when one of its figures has no record that day, and then a person answers
    sent = [line.response for line in lines]
    held = [r for r in topic.responses
            if any(expected_text(paths[n], day) is None for n in wording.placeholders(r))]
    assert [r for r in topic.responses if r not in sent] == held, day
    assert sent.count(NEEDS_REVIEW) == (1 if held else 0)


def test_the_mediation_answer_quotes_the_articles_of_the_mediation_law() -> None:
    lines = topic_lines("mediation", dt.date(2026, 6, 1))
    text = "".join(said(lines))
    for article in ("第四条", "第三条", "第八条", "第三十一条", "第三十三条"):
        assert f"《人民调解法》{article}" in text
    assert "30日内" in text
    assert citations(lines)[2] == "《人民调解法》第八条"  # the article once typed without a record
    assert parameter("mediation.art8", dt.date(2026, 6, 1)).verified


def test_before_the_mediation_law_a_person_answers() -> None:
    lines = topic_lines("mediation", dt.date(2010, 12, 31))
    assert [line.response for line in lines] == [NEEDS_REVIEW]


def test_a_new_dated_value_is_quoted_from_its_day_on(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Both sides of an effective date: the record in force the day before, the new one from its first day."""
    def amend(doc: dict[str, Any]) -> None:
        old = {k: v for k, v in doc["art17"].items() if k != "description"}
        new = {**old, "effective": dt.date(2027, 3, 1), "citation": "《工伤保险条例》第十七条（修订）",
               "value": {**old["value"], "employer_days": 20, "worker_years": 2}}
        doc["art17"] = {"description": doc["art17"]["description"],
                        "values": [{**old, "end": dt.date(2027, 2, 28)}, new]}

    use_law_data(monkeypatch, tmp_path, {"work_injury": amend})
    before = said(topic_lines("work_injury", dt.date(2027, 2, 28)))[0]
    after = said(topic_lines("work_injury", dt.date(2027, 3, 1)))[0]
    assert "30日内" in before and "1年内" in before and "《工伤保险条例》第十七条）" in before
    assert "20日内" in after and "2年内" in after and "《工伤保险条例》第十七条（修订）" in after


def test_an_unverified_figure_never_reaches_a_citizen(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """mediation.art33 (30 days, 第三十三条) marked unverified: the citizen gets the other line and a person for this
    one; the operator sees the figure, marked."""
    use_law_data(monkeypatch, tmp_path, {"mediation": setting("art33", verified=False, note="测试：未核实。")})
    citizen = topic_lines("mediation", dt.date(2026, 6, 1))
    assert [line.response for line in citizen] == ["utter_topic_mediation", NEEDS_REVIEW]
    assert "30日" not in "".join(said(citizen)) and "第三十三条" not in "".join(said(citizen))
    operator = topic_lines("mediation", dt.date(2026, 6, 1), citizen=False)
    assert [line.response for line in operator] == ["utter_topic_mediation", "utter_topic_mediation_effect"]
    assert f"30{UNVERIFIED_MARK}日内" in said(operator)[1]


async def test_the_action_sends_the_filled_lines_and_logs_their_articles(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, session: object) -> None:
    def edit(doc: dict[str, Any]) -> None:
        setting("art33", value={**doc["art33"]["value"], "days": 45})(doc)
        setting("art8", verified=False, note="测试：未核实。")(doc)

    use_law_data(monkeypatch, tmp_path, {"mediation": edit})
    _, d = await run(ActionAnswerTopic(), tracker("topic_work_injury.json", text="邻居漏水想调解",
                                                        intent="mediation"))
    # the line quoting the unverified 第八条 is held; the 45 days of the changed record are what the citizen reads
    assert responses(d)[1:] == [NEEDS_REVIEW, "utter_topic_mediation_effect"]
    effect = next(m for m in d.messages if m["response"] == "utter_topic_mediation_effect")
    assert effect["confirm_days"] == "45" and effect["art33"] == "《人民调解法》第三十三条"
    assert not any("第八条" in str(v) for m in d.messages for v in m.values())


def test_the_copilot_reads_the_same_filled_lines() -> None:
    lines = copilot._intent_lines("labor_dispute", dt.date(2026, 6, 1))
    assert "1年" in lines[0] and "《劳动争议调解仲裁法》第二十七条" in lines[0] and "12333" in lines[0]
    assert "《法律援助法》第三十一条第五项" in lines[1]


def test_a_bad_quote_path_is_refused() -> None:
    for path in ("mediation.art99.citation", "mediation.art33.weeks", "legal_aid.art31.item12", "legal_aid.art31",
                 "x"):
        with pytest.raises(BadQuotePath):
            check_path(path)
    q = quote("legal_aid.art42.item3", dt.date(2026, 6, 1))
    assert q is not None and q.text == q.citation == "《法律援助法》第四十二条第三项" and q.verified
    assert quote("legal_aid.art42.item3", dt.date(2021, 12, 31)) is None


def test_materials_lists_type_no_article_and_cite_only_checked_law(monkeypatch: pytest.MonkeyPatch,
                                                                   tmp_path: Path) -> None:
    """A list of what to bring stands without its article; the article (《工伤保险条例》第十八条, 《劳动争议调解仲裁法》
    第二十八条: read in reprints only, unverified) reaches a citizen only once verified."""
    for name, variations in wording.responses().items():
        if name.startswith("utter_materials"):
            assert not any(TYPED.search(str(v.get("text"))) for v in variations), name
    on = dt.date(2026, 6, 1)
    citizen = said([materials_line("utter_materials_work_injury", on)])[0]
    operator = said([materials_line("utter_materials_work_injury", on, citizen=False)])[0]
    assert "职业病诊断证明书。另带上身份证" in citizen and "第十八条" not in citizen
    assert f"（依据：《工伤保险条例》第十八条{UNVERIFIED_MARK}）" in operator
    assert "第二十八条" not in said([materials_line("utter_materials_arbitration", on)])[0]
    use_law_data(monkeypatch, tmp_path, {"work_injury": setting("art18", verified=True)})
    assert "证明书。（依据：《工伤保险条例》第十八条）另带上身份证" in said([materials_line("utter_materials_work_injury", on)])[0]


async def test_the_materials_action_fills_the_basis() -> None:
    from actions.topics import ActionMaterials

    _, d = await run(ActionMaterials(), tracker("topic_work_injury.json", text="工伤认定要带什么材料",
                                                intent="ask_materials"))
    assert responses(d) == ["utter_materials_work_injury"] and d.messages[0]["basis"] == ""


ARTICLE = re.compile(r"第[一二三四五六七八九十百]+[条项款]")


def test_no_response_anywhere_types_an_article() -> None:
    """Every article a citizen reads is quoted from the law data: no response text of domain/*.yml names one (the
    YAML comments may; they are not sent)."""
    typed = [(name, str(v.get("text"))) for name, variations in wording.responses().items()
             for v in variations if ARTICLE.search(str(v.get("text") or ""))]
    assert not typed, typed


def test_every_response_figure_resolves_and_fills_its_response() -> None:
    for response, figures in flows.spec().response_figures.items():
        assert set(wording.placeholders(response)) <= {name for name, _ in figures}, response
        for _, path in figures:
            check_path(path)


async def test_legal_aid_asked_inside_the_wage_form_quotes_the_record(tmp_path: Path) -> None:
    """「能申请法律援助吗」 inside the wage form: the migrant worker's variation with 第四十二条第三项 from the data;
    a renamed citation is what is sent; unverified, a person answers instead."""
    from actions.topics import ActionLegalAidInWageForm

    t = tracker("topic_work_injury.json", text="能申请法律援助吗", intent="legal_aid", slots={"migrant_worker": True})
    _, d = await run(ActionLegalAidInWageForm(), t)
    assert responses(d) == ["utter_legal_aid_in_wage_form"]
    assert d.messages[0]["aid_art42_3"] == "《法律援助法》第四十二条第三项"
    migrant = next(v for v in wording.responses()["utter_legal_aid_in_wage_form"] if v.get("condition"))
    assert "不用审查经济状况（《法律援助法》第四十二条第三项）" in str(migrant["text"]).format(**d.messages[0])

    # each edit in its own patch: use_law_data reads params._load, which a patch replaces
    with pytest.MonkeyPatch.context() as mp:
        use_law_data(mp, tmp_path / "renamed", {"legal_aid": setting("art42", citation="《法律援助法》第四十二条（测试）")})
        _, d = await run(ActionLegalAidInWageForm(), t)
        assert d.messages[0]["aid_art42_3"] == "《法律援助法》第四十二条（测试）第三项"
    with pytest.MonkeyPatch.context() as mp:
        use_law_data(mp, tmp_path / "unverified", {"legal_aid": setting("art42", verified=False, note="测试：未核实。")})
        _, d = await run(ActionLegalAidInWageForm(), t)
        assert responses(d) == [NEEDS_REVIEW]
