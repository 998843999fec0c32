"""The law data files: schema, dated look-ups, and the unverified flags DOMAIN.md asks for."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from hotline.codes import GROUPS, MATTERS
from hotline.law import params
from hotline.law.params import (
    InvalidParameterFile,
    ParameterNotInForce,
    UnknownParameter,
    history,
    latest_verified,
    parameter,
    parse_file,
)

D = dt.date


def test_every_file_loads_and_every_value_carries_its_source() -> None:
    files = sorted(p.stem for p in params.DATA_DIR.glob("*.yaml"))
    assert {"legal_aid", "minimum_wage", "hardship", "labor_arbitration", "wage_payment", "criminal_law",
            "work_injury", "mediation", "labor_inspection", "labor_litigation"} <= set(files)
    for name in params.names():
        for value in history(name):
            assert value.reference.strip() and value.citation.strip()
            assert isinstance(value.verified, bool)
            assert isinstance(value.effective, dt.date) and isinstance(value.last_review, dt.date)
            if not value.verified:  # an unverified value says what is not verified
                assert value.note and "未" in value.note, name


@pytest.mark.parametrize(("day", "value", "verified"), [
    (D(2018, 2, 1), 1680, True),
    (D(2019, 12, 31), 1680, True),
    (D(2020, 2, 29), 1680, True),
    (D(2020, 3, 1), 1810, False),     # issue 23: in force 2020-03-01 (askci.com), not 2020-01-01
    (D(2023, 10, 31), 1810, False),
    (D(2023, 11, 1), 1990, False),    # 桂政发〔2023〕24号, Liuzhou's tier unread
    (D(2026, 11, 26), 1990, False),
])
def test_liuzhou_minimum_wage_series(day: dt.date, value: int, verified: bool) -> None:
    pv = parameter("minimum_wage.liuzhou", day)
    assert (pv.value, pv.verified) == (value, verified)
    assert pv.unit == "元/月"


def test_minimum_wage_before_its_first_date_raises_a_named_error() -> None:
    with pytest.raises(ParameterNotInForce, match=r"minimum_wage\.liuzhou.*2018-01-31.*2018-02-01"):
        parameter("minimum_wage.liuzhou", D(2018, 1, 31))


def test_2018_figure_cites_the_verified_notice_and_2020_day_is_flagged() -> None:
    first, second, third = history("minimum_wage.liuzhou")
    assert "桂政发〔2018〕6号" in first.reference and first.effective == D(2018, 2, 1)
    assert second.effective == D(2020, 3, 1) and not second.verified
    assert "未核实" in (second.note or "") and "2020年3月1日" in (second.note or "")
    assert third.effective == D(2023, 11, 1) and not third.verified and "桂政发〔2023〕24号" in third.reference


def test_latest_verified_skips_the_unverified_newer_figure() -> None:
    assert latest_verified("minimum_wage.liuzhou", D(2026, 1, 1)).value == 1680  # type: ignore[union-attr]
    assert latest_verified("minimum_wage.liuzhou", D(2018, 1, 1)) is None


def test_guangxi_hardship_standard_is_verified_only_from_2025_12_11() -> None:
    before = parameter("hardship.guangxi_standard", D(2025, 12, 10))
    after = parameter("hardship.guangxi_standard", D(2025, 12, 11))
    assert not before.verified and after.verified
    assert after.citation == "《广西法律援助经济困难标准及认定办法》第三条"
    assert after.value["income_line"] == "minimum_wage" and after.value["months"] == 12


def test_legal_aid_law_starts_2022_01_01() -> None:
    with pytest.raises(ParameterNotInForce):
        parameter("legal_aid.art31", D(2021, 12, 31))
    assert parameter("legal_aid.art31", D(2022, 1, 1)).reference == "《中华人民共和国法律援助法》第三十一条"


def test_art31_items_are_numbered_and_use_known_matter_codes() -> None:
    items = parameter("legal_aid.art31", D(2024, 1, 1)).value["items"]
    assert [i["item"] for i in items] == list(range(1, 10))
    by_item = {i["item"]: set(i["matters"]) for i in items}
    assert by_item[5] == {"labor_relation", "wage_arrears"}
    assert by_item[7] == {"work_injury", "traffic_accident", "food_drug_accident", "medical_accident"}
    covered = set().union(*by_item.values())
    assert covered <= set(MATTERS)
    # The matters the law does not list (DOMAIN §1) stay out, so they go to a person.
    assert covered.isdisjoint({"contract_debt", "family_dispute", "property", "other", "labor_dispute"})


def test_art32_and_art42_use_known_group_codes() -> None:
    on = D(2024, 1, 1)
    for name in ("legal_aid.art32", "legal_aid.art42"):
        for item in parameter(name, on).value["items"]:
            for key in ("groups", "all_of", "any_of"):
                assert set(item.get(key, [])) <= set(GROUPS)
    art32_groups = {g for i in parameter("legal_aid.art32", on).value["items"] for g in i["groups"]}
    assert art32_groups == {"martyr_relative", "heroic_act", "retrial_acquitted", "domestic_violence_victim",
                            "abuse_or_abandonment_victim"}


def test_art42_item3_covers_only_wages_and_work_injury() -> None:
    items = parameter("legal_aid.art42", D(2024, 1, 1)).value["items"]
    item3 = next(i for i in items if i["item"] == 3)
    assert item3["migrant_worker"] is True and item3["matters"] == ["wage_arrears", "work_injury"]


def test_crime_thresholds_from_the_2013_interpretation() -> None:
    pv = parameter("criminal_law.refusal_thresholds", D(2024, 1, 1))
    assert "法释〔2013〕3号" in pv.reference and "第三条" in pv.reference
    assert pv.value["one_worker"] == {"min_months": 3, "amount_range": [5000, 20000]}
    assert pv.value["many_workers"] == {"min_people": 10, "amount_range": [30000, 100000]}
    assert parameter("criminal_law.guangxi_threshold", D(2024, 1, 1)).verified is False


@pytest.mark.parametrize(("name", "fragment"), [
    ("labor_arbitration.limitation", "第二十七条"),
    ("wage_payment.art26", "第二十六条"),
    ("wage_payment.art28", "第二十八条"),
    ("wage_payment.art30", "第三十条"),
    ("wage_payment.art34", "第三十四条"),  # the rights board (was filed as 33, issue 23)
    ("wage_payment.art36", "第三十六条"),
    ("wage_payment.art50", "第五十条"),
    ("work_injury.art17", "第十七条"),
    ("mediation.art3", "第三条"),
    ("mediation.art4", "第四条"),
    ("mediation.art31", "第三十一条"),
    ("mediation.art33", "第三十三条"),
    ("labor_inspection.two_year_rule", "第二十条"),
    ("legal_aid.art25", "第二十五条"),
    ("legal_aid.art38", "第三十八条"),
    ("legal_aid.art49", "第四十九条"),
])
def test_references_name_their_article(name: str, fragment: str) -> None:
    assert fragment in parameter(name, D(2024, 1, 1)).reference


def test_iou_route_switches_interpretation_on_2021_01_01() -> None:
    assert "法释〔2006〕6号" in parameter("labor_litigation.iou", D(2020, 12, 31)).reference
    new = parameter("labor_litigation.iou", D(2021, 1, 1))
    assert "第十五条" in new.reference and new.verified


def test_wage_regulation_starts_2020_05_01() -> None:
    with pytest.raises(ParameterNotInForce):
        parameter("wage_payment.art30", D(2020, 4, 30))
    assert parameter("wage_payment.art30", D(2020, 5, 1)).verified


def test_materials_switch_to_the_2023_rules() -> None:
    assert not parameter("legal_aid.materials", D(2023, 8, 31)).verified
    assert "2023" in parameter("legal_aid.materials", D(2023, 9, 1)).reference


def test_unknown_parameter_is_a_named_error() -> None:
    with pytest.raises(UnknownParameter, match=r"unknown parameter 'legal_aid\.art99'"):
        parameter("legal_aid.art99", D(2024, 1, 1))


_GOOD = """
x:
  effective: 2020-01-01
  reference: 某法第一条
  verified: true
  last_review: 2026-11-26
  value: 1
"""


def test_parse_file_accepts_a_single_entry() -> None:
    parsed = parse_file("t", _GOOD)
    assert parsed["t.x"][0].value == 1 and parsed["t.x"][0].citation == "某法第一条"


@pytest.mark.parametrize(("text", "message"), [
    (_GOOD.replace("  reference: 某法第一条\n", ""), "t.x: missing 'reference'"),
    (_GOOD.replace("verified: true", "verified: yes please"), "'verified' must be true or false"),
    (_GOOD.replace("effective: 2020-01-01", "effective: soon"), "'effective' must be a date"),
    (_GOOD + "  colour: red\n", "unknown keys"),
    ("""
x:
  values:
    - {effective: 2020-01-01, end: 2020-12-31, reference: a, verified: true, last_review: 2026-01-01, value: 1}
    - {effective: 2020-06-01, reference: b, verified: true, last_review: 2026-01-01, value: 2}
""", "values overlap at 2020-06-01"),
    ("""
x:
  values:
    - {effective: 2020-01-01, end: 2019-12-31, reference: a, verified: true, last_review: 2026-01-01, value: 1}
""", "'end' must be a date on or after 'effective'"),
])
def test_parse_file_rejects_bad_data(text: str, message: str) -> None:
    with pytest.raises(InvalidParameterFile, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_file("t", text)


def test_ended_value_is_not_in_force_after_its_end() -> None:
    parsed = parse_file("t", """
x:
  values:
    - {effective: 2020-01-01, end: 2020-12-31, reference: a, verified: true, last_review: 2026-01-01, value: 1}
""")
    assert parsed["t.x"][0].in_force(D(2020, 12, 31)) and not parsed["t.x"][0].in_force(D(2021, 1, 1))


def test_data_dir_is_inside_the_package() -> None:
    assert Path(params.__file__).parent / "data" == params.DATA_DIR


def test_a_parameter_written_twice_is_refused() -> None:
    """yaml keeps the last of two equal keys silently (labor_contract.yaml once held art38 twice, verified and not)."""
    text = "art38:\n  effective: 2008-01-01\n  reference: a\n  verified: false\n  last_review: 2026-12-07\n  value: 1\n"
    with pytest.raises(InvalidParameterFile, match=r"labor_contract.yaml: line 7: 'art38' is written twice"):
        parse_file("labor_contract", text + text)


def test_reading_finds_the_files_a_rule_reads() -> None:
    from hotline.law.params import files_of, reading
    from hotline.wage_claim import WageFacts, guidance

    with reading() as read:
        guidance(WageFacts(has_contract=False, employment_ended=False), D(2026, 6, 1))
    assert "labor_contract.art38" in read and "labor_contract" in files_of(read)
    with reading() as nothing:
        pass
    assert nothing == set()


def test_the_mediation_committees_article_is_data() -> None:
    """《人民调解法》第八条, once typed in a topic answer without a record: read on ghzyj.sh.gov.cn (2026-12-07)."""
    art8 = parameter("mediation.art8", D(2011, 1, 1))
    assert art8.citation == "《人民调解法》第八条" and art8.verified and "ghzyj.sh.gov.cn" in (art8.note or "")
    with pytest.raises(ParameterNotInForce):
        parameter("mediation.art8", D(2010, 12, 31))
