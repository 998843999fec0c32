"""Legal-aid eligibility: data-driven cases on both sides of each date, properties, and the JSON edge."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.codes import ELIGIBILITY_VERDICTS, GROUPS, MATTERS, MEANS_TEST_RESULTS
from hotline.law.params import change_dates, files_of, reading
from hotline.legal_aid import (
    CRIMINAL_ROLES,
    AidFacts,
    CriminalFacts,
    assess,
    cn_number,
    facts_from_api,
    facts_needed,
)
from tests.law_data import use_law_data

CASES = yaml.safe_load((Path(__file__).parent / "cases" / "legal_aid.yaml").read_text(encoding="utf-8"))


def _files_read() -> tuple[str, ...]:
    """The data files the rules read for these cases, found by running them (hotline.law.params.reading)."""
    with reading() as read:
        for case in CASES:
            assess(facts_from_api(case["input"]), on=case["date"])
    return files_of(read)


# The dates of every data file the rules read: discovered, never listed (a list once missed labor_contract.yaml).
CHANGE_DATES = change_dates(*_files_read())


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_case(case: dict[str, Any]) -> None:
    result = assess(facts_from_api(case["input"]), on=case["date"])
    expected = case["expected"]
    assert (result.verdict, result.means_test) == (expected["verdict"], expected["means_test"]), result.reasons
    for citation in expected.get("basis", []):
        assert citation in result.basis, (citation, result.basis)
    if "threshold" in expected:
        assert result.threshold is not None and result.threshold["value"] == expected["threshold"]
    if "pending" in expected:
        assert result.threshold["pending_unverified"]["value"] == expected["pending"]  # type: ignore[index]
    if "reasons_contain" in expected:
        assert any(expected["reasons_contain"] in r for r in result.reasons), result.reasons
    for citation in expected.get("basis_excludes", []):
        assert citation not in result.basis, (citation, result.basis)
    if "where_contains" in expected:
        assert any(expected["where_contains"] in w for w in result.where_to_apply), result.where_to_apply


ON = dt.date(2026, 1, 10)


@pytest.mark.parametrize(("slots", "needed"), [
    ({}, ("matter",)),
    ({"matter": "wage_arrears"}, ("matter", "migrant_worker", "groups", "monthly_income", "household_size",
                                  "has_valuable_assets")),
    ({"matter": "wage_arrears", "migrant_worker": True}, ("matter", "migrant_worker")),
    ({"matter": "labor_dispute", "migrant_worker": True},
     ("matter", "groups", "monthly_income", "household_size", "has_valuable_assets")),
    ({"matter": "traffic_accident", "groups": ["domestic_violence_victim"]},
     ("matter", "groups", "monthly_income", "household_size", "has_valuable_assets")),
    ({"matter": "family_dispute", "groups": ["domestic_violence_victim"]}, ("matter", "groups")),
    ({"matter": "traffic_accident", "groups": ["social_assistance"]}, ("matter", "groups")),
    # an accident victim over the line still may qualify by spending: assets can turn that answer
    ({"matter": "traffic_accident", "groups": [], "monthly_income": 9000, "household_size": 1},
     ("matter", "groups", "monthly_income", "household_size", "has_valuable_assets")),
    ({"matter": "contract_debt", "groups": [], "monthly_income": 9000, "household_size": 1},
     ("matter", "groups", "monthly_income", "household_size")),
    # item 4: no fixed income is asked only of a minor, elderly or disabled applicant, and waives when yes
    ({"matter": "traffic_accident", "groups": ["elderly"]},
     ("matter", "groups", "no_fixed_income", "monthly_income", "household_size", "has_valuable_assets")),
    ({"matter": "traffic_accident", "groups": ["elderly"], "no_fixed_income": True},
     ("matter", "groups", "no_fixed_income")),
    # item 3: in family matters, whether the other party lives with the applicant; then her own income only
    ({"matter": "support_payment", "groups": []},
     ("matter", "groups", "lives_with_other_party", "monthly_income", "household_size", "has_valuable_assets")),
    ({"matter": "support_payment", "groups": [], "lives_with_other_party": True},
     ("matter", "groups", "lives_with_other_party", "own_monthly_income", "has_valuable_assets")),
    ({"matter": "support_payment", "groups": [], "lives_with_other_party": False},
     ("matter", "groups", "lives_with_other_party", "monthly_income", "household_size", "has_valuable_assets")),
    ({"matter": "traffic_accident", "groups": [], "monthly_income": 3000, "household_size": 3},
     ("matter", "groups", "monthly_income", "household_size", "has_valuable_assets")),
])
def test_facts_needed_asks_only_what_can_change_the_answer(slots: dict[str, Any], needed: tuple[str, ...]) -> None:
    assert facts_needed(slots, ON) == needed


def test_before_the_law_only_the_matter_is_asked() -> None:
    assert facts_needed({"matter": "wage_arrears"}, dt.date(2021, 12, 31)) == ("matter",)


def test_a_missing_standard_goes_to_review_and_is_logged(monkeypatch: pytest.MonkeyPatch,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    import hotline.legal_aid as la

    real = la.parameter_or_none
    monkeypatch.setattr(la, "parameter_or_none",
                        lambda name, on: None if name == "hardship.guangxi_standard" else real(name, on))
    with caplog.at_level("WARNING", logger="hotline.legal_aid"):
        result = assess(AidFacts("traffic_accident", monthly_income_per_capita=100, has_valuable_assets=False), ON)
    assert (result.verdict, result.means_test) == ("needs_review", "unknown")
    assert "hardship.guangxi_standard" in caplog.text


def test_hardship_months_and_asset_rule_are_read_from_the_data(monkeypatch: pytest.MonkeyPatch) -> None:
    import hotline.legal_aid as la

    real = la.parameter_or_none

    def patched(name: str, on: dt.date) -> Any:
        pv = real(name, on)
        if name == "hardship.guangxi_standard" and pv is not None:
            from dataclasses import replace
            return replace(pv, value={**pv.value, "months": 6, "no_valuable_assets": False})
        return pv

    monkeypatch.setattr(la, "parameter_or_none", patched)
    unknown = assess(AidFacts("traffic_accident"), ON)
    assert any("近6个月" in r for r in unknown.reasons)
    rich = assess(AidFacts("traffic_accident", monthly_income_per_capita=1000, has_valuable_assets=True), ON)
    assert rich.means_test == "passed"  # assets are no condition when the standard does not name them


@pytest.mark.parametrize("day", CHANGE_DATES)
def test_cases_sit_on_both_sides_of_every_change_date(day: dt.date) -> None:
    dates = {c["date"] for c in CASES}
    assert day in dates and day - dt.timedelta(days=1) in dates


def test_threshold_names_its_source_and_date() -> None:
    result = assess(AidFacts("traffic_accident", monthly_income_per_capita=1000, has_valuable_assets=False),
                    on=dt.date(2026, 1, 10))
    t = result.threshold
    assert t is not None
    assert (t["value"], t["unit"], t["effective"], t["verified"]) == (1680, "元/月", "2018-02-01", True)
    assert "桂政发〔2018〕6号" in t["source"]
    assert t["pending_unverified"]["value"] == 1990 and t["pending_unverified"]["verified"] is False


def test_to_api_has_the_contract_keys() -> None:
    body = assess(facts_from_api({"matter": "wage_arrears", "migrant_worker": True}), on=dt.date(2026, 1, 10)).to_api()
    assert {"verdict", "means_test", "basis", "threshold", "materials", "next_steps"} <= set(body)
    assert body["basis"] == ["《法律援助法》第三十一条第五项", "《法律援助法》第四十二条第三项"]
    assert any("进城务工" in m for m in body["materials"])
    assert "第四十三条" in body["decision_time"] and "第四十九条" in body["objection"]
    assert any("第三十八条" in w for w in body["where_to_apply"])


def test_failed_means_test_points_to_the_emergency_spending_branch() -> None:
    result = assess(AidFacts("contract_debt", monthly_income_per_capita=3000, has_valuable_assets=False),
                    on=dt.date(2026, 1, 10))
    assert any("急病" in s for s in result.next_steps)
    result = assess(AidFacts("support_payment", monthly_income_per_capita=3000, has_valuable_assets=False),
                    on=dt.date(2026, 1, 10))
    assert result.verdict == "ineligible" and any("急病" in s for s in result.next_steps)


def test_ineligible_never_says_you_cannot_apply_and_cites_43_and_49() -> None:
    result = assess(AidFacts("support_payment", monthly_income_per_capita=3000, has_valuable_assets=False),
                    on=dt.date(2026, 1, 10))
    assert result.verdict == "ineligible"
    said = "".join(result.next_steps + result.reasons)
    assert "不能申请" not in said and "谁都可以提出申请" in said
    assert "《法律援助法》第四十三条" in result.basis and "《法律援助法》第四十九条" in result.basis


@pytest.mark.parametrize("day", [dt.date(2021, 12, 31), dt.date(2022, 1, 1)])
def test_a_protected_defendant_is_notified_and_brings_nothing(day: dt.date) -> None:
    result = assess(AidFacts("criminal_defense", criminal=CriminalFacts(role="defendant", minor=True)), on=day)
    if day < dt.date(2022, 1, 1):
        assert result.verdict == "needs_review"
        return
    assert result.basis == ["《法律援助法》第二十五条第一项"] and result.materials == []
    assert not any("带上下面的材料" in s for s in result.next_steps)
    assert any("不需要您自己申请" in s for s in result.next_steps)


def test_unknown_matter_in_facts_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="unknown matter code 'divorce'"):
        assess(AidFacts("divorce"), on=dt.date(2026, 1, 1))


@pytest.mark.parametrize(("n", "text"), [(1, "一"), (10, "十"), (15, "十五"), (20, "二十"), (42, "四十二"), (71, "七十一")])
def test_cn_number(n: int, text: str) -> None:
    assert cn_number(n) == text


# --- the JSON edge -----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("body", "message"), [
    ([], "body must be a JSON object"),
    ({}, "matter is required"),
    ({"matter": "divorce"}, "unknown matter code 'divorce'"),
    ({"matter": "wage_arrears", "monthly_income_per_capita": -1}, "monthly_income_per_capita 不能是负数"),
    ({"matter": "wage_arrears", "monthly_income_per_capita": "1500"}, "must be a number or null"),
    ({"matter": "wage_arrears", "monthly_income_per_capita": True}, "must be a number or null"),
    ({"matter": "wage_arrears", "groups": "minor"}, "groups 必须是列表 / groups must be a list"),
    ({"matter": "wage_arrears", "groups": ["alien"]}, "unknown group code 'alien'"),
    ({"matter": "wage_arrears", "migrant_worker": "yes"}, "migrant_worker must be true, false or null"),
    ({"matter": "wage_arrears", "household_size": 0}, "household_size must be positive"),
    ({"matter": "criminal_defense", "criminal": "defendant"}, "criminal must be an object or null"),
    ({"matter": "criminal_defense", "criminal": {"role": "judge"}}, "unknown criminal role 'judge'"),
    ({"matter": "criminal_defense", "criminal": {"role": "defendant", "minor": 1}}, "criminal.minor must be true or false"),
    ({"matter": "criminal_defense", "criminal": {"role": "defendant", "rich": True}}, "unknown criminal fields: rich"),
])
def test_facts_from_api_rejects_bad_bodies(body: Any, message: str) -> None:
    with pytest.raises(ValueError) as err:
        facts_from_api(body)
    assert message in str(err.value)


def test_facts_from_api_reads_every_field() -> None:
    facts = facts_from_api({
        "matter": "criminal_defense", "migrant_worker": False, "monthly_income_per_capita": 1234.4,
        "has_valuable_assets": False, "groups": ["minor", "未成年人"], "household_size": 3, "monthly_income": 3600,
        "criminal": {"role": "defendant", "blind_deaf_mute": True}, "street": "中南街道",
    })
    assert facts == AidFacts(
        matter="criminal_defense", migrant_worker=False, monthly_income_per_capita=1234, has_valuable_assets=False,
        groups=("minor",), household_size=3, monthly_income=3600,
        criminal=CriminalFacts(role="defendant", blind_deaf_mute=True))


# --- properties ----------------------------------------------------------------------------------------------

DAYS = st.dates(min_value=dt.date(2015, 1, 1), max_value=dt.date(2032, 12, 31))
criminal_facts = st.builds(CriminalFacts, role=st.sampled_from(CRIMINAL_ROLES), minor=st.booleans(),
                           blind_deaf_mute=st.booleans(), mental_incapacity=st.booleans(),
                           facing_life_or_death=st.booleans(), death_review=st.booleans(),
                           in_absentia=st.booleans(), has_lawyer=st.booleans())
aid_facts = st.builds(
    AidFacts,
    matter=st.sampled_from(sorted(MATTERS)),
    migrant_worker=st.none() | st.booleans(),
    monthly_income_per_capita=st.none() | st.integers(0, 50_000),
    has_valuable_assets=st.none() | st.booleans(),
    groups=st.lists(st.sampled_from(sorted(GROUPS)), unique=True, max_size=4).map(tuple),
    criminal=st.none() | criminal_facts,
    household_size=st.none() | st.integers(1, 12),
    monthly_income=st.none() | st.integers(0, 100_000),
)


@settings(max_examples=200, deadline=None)
@given(facts=aid_facts, on=DAYS)
def test_assess_never_raises_and_always_cites(facts: AidFacts, on: dt.date) -> None:
    result = assess(facts, on)
    assert result.verdict in ELIGIBILITY_VERDICTS and result.means_test in MEANS_TEST_RESULTS
    assert result.basis and all(c.startswith(("《", "桂", "广西", "法释")) for c in result.basis)
    assert result.reasons and result.next_steps


@settings(max_examples=200, deadline=None)
@given(facts=aid_facts, on=DAYS, low=st.integers(0, 30_000), extra=st.integers(0, 30_000))
def test_more_income_never_turns_ineligible_into_eligible(facts: AidFacts, on: dt.date, low: int, extra: int) -> None:
    poorer = assess(_with(facts, monthly_income_per_capita=low), on)
    richer = assess(_with(facts, monthly_income_per_capita=low + extra), on)
    assert not (poorer.verdict == "ineligible" and richer.verdict == "eligible")
    if richer.verdict == "eligible":
        assert poorer.verdict == "eligible"


@settings(max_examples=200, deadline=None)
@given(facts=aid_facts, on=DAYS, group=st.sampled_from(sorted(GROUPS)))
def test_adding_a_group_never_turns_eligible_into_ineligible(facts: AidFacts, on: dt.date, group: str) -> None:
    before = assess(facts, on)
    after = assess(_with(facts, groups=tuple(dict.fromkeys((*facts.groups, group)))), on)
    if before.verdict == "eligible":
        assert after.verdict == "eligible"
    # A group can bring a matter into scope (the 广西条例's personal-injury groups): a review that was open only on
    # scope, with the means test already failed, is then settled as ineligible. Nothing else may get worse.
    assert not (before.verdict != "ineligible" and after.verdict == "ineligible" and before.means_test != "failed")


@settings(max_examples=200, deadline=None)
@given(body=st.dictionaries(st.sampled_from(["matter", "migrant_worker", "monthly_income_per_capita",
                                              "has_valuable_assets", "groups", "criminal", "household_size",
                                              "monthly_income", "x"]),
                            st.none() | st.booleans() | st.integers(-5, 10**6) | st.floats(allow_nan=True)
                            | st.text(max_size=8) | st.sampled_from(sorted(MATTERS))
                            | st.lists(st.sampled_from([*sorted(GROUPS), "?"]), max_size=3)
                            | st.fixed_dictionaries({"role": st.sampled_from((*CRIMINAL_ROLES, "x"))})))
def test_facts_from_api_only_ever_raises_value_error(body: dict[str, Any]) -> None:
    try:
        facts = facts_from_api(body)
    except ValueError as err:
        assert " / " in str(err)  # Chinese / English
        return
    assert assess(facts, dt.date(2026, 1, 10)).basis


def _with(facts: AidFacts, **changes: Any) -> AidFacts:
    from dataclasses import replace
    return replace(facts, **changes)


@pytest.mark.parametrize("day", [dt.date(2021, 12, 31), dt.date(2022, 1, 1)])
def test_unconfirmed_articles_reach_operators_only(day: dt.date) -> None:
    result = assess(AidFacts("wage_arrears", migrant_worker=True), on=day)
    if day < dt.date(2022, 1, 1):
        assert result.operator_notes == []
        return
    notes = "".join(result.operator_notes)
    assert "第二十二条" in notes and "3日内指派" in notes and notes.startswith("（未核实")
    said = "".join(result.reasons + result.next_steps + [result.decision_time])
    assert "3日内指派" not in said and "7个工作日" not in said
    assert "第二十二条" not in "".join(result.basis)


def test_article_names_in_the_reasons_come_from_the_data(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Rename the law in the data's citations: every reason that names an article follows (none is typed)."""
    def renamed(doc: dict[str, Any]) -> None:
        for key in ("in_force", "art24", "art25", "art31"):
            doc[key]["citation"] = doc[key]["citation"].replace("《法律援助法》", "《法援法》")

    use_law_data(monkeypatch, tmp_path, {"legal_aid": renamed})
    on = dt.date(2026, 6, 1)
    cases = [
        (AidFacts(matter="traffic_accident", monthly_income_per_capita=900, has_valuable_assets=False), on),
        (AidFacts(matter="contract_debt"), on),
        (AidFacts(matter="criminal_defense", criminal=CriminalFacts(role="defendant"),
                  monthly_income_per_capita=9000, has_valuable_assets=False), on),
        (AidFacts(matter="wage_arrears"), dt.date(2021, 12, 31)),
    ]
    said = [" ".join(assess(facts, day).reasons) for facts, day in cases]
    assert "属于《法援法》第三十一条规定的" in said[0]
    assert "不在《法援法》第三十一条列出的事项里" in said[1]
    assert "《法援法》第二十四条还包括" in said[2] and "《法援法》第二十五条第二款" in said[2]
    assert "《法援法》第七十一条" in said[3]
    assert not any("《法律援助法》第" in s for s in said), said


def test_unverified_basis_is_read_from_the_records() -> None:
    """Between the verified 1680 and the unverified newer line: the newer line's citation is unverified basis."""
    a = assess(AidFacts(matter="wage_arrears", monthly_income_per_capita=1800, has_valuable_assets=False),
               dt.date(2026, 6, 1))
    assert a.verdict == "needs_review"
    assert a.unverified_basis == ["桂政发〔2023〕24号（未核实）"]
    assert a.citizen_basis() == [c for c in a.basis if c != "桂政发〔2023〕24号（未核实）"]
