"""The normaliser of CONTRACT §3: examples pinned, and no input string makes it raise."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline_nlu.numbers import extract, normalise_entity, parse_amount, parse_count, parse_months, parse_phone

CONTRACT_EXAMPLES = [
    ("amount", "三万五", 35000),
    ("amount", "3.5万元", 35000),
    ("amount", "两万多", 20000),
    ("amount", "8000块", 8000),
    ("people_count", "我们12个工友", 12),
    ("people_count", "五个人", 5),
    ("months_owed", "半年", 6),
    ("months_owed", "三个多月", 3),
    ("months_owed", "4个月", 4),
    ("monthly_income", "一千五", 1500),
    ("household_size", "家里四口人", 4),
    ("phone", "139-7721-2345", "13977212345"),
]


@pytest.mark.parametrize(("entity", "text", "value"), CONTRACT_EXAMPLES)
def test_contract_examples(entity: str, text: str, value: int | str) -> None:
    assert normalise_entity(entity, text) == value


@pytest.mark.parametrize(
    ("text", "value"),
    [("七八千", 7000), ("一万出头", 10000), ("八千来块", 8000), ("万把块", 10000), ("2万5", 25000),
     ("1,200元", 1200), ("３万", 30000), ("8k", 8000), ("两千三百五", 2350), ("欠我一万零五百", 10500),
     ("2 万 5", 25000), ("1 千 2", 1200), ("欠了 5 万", 50000), ("两 万 多", 20000)],
)
def test_amounts_as_written(text: str, value: int) -> None:
    assert parse_amount(text) == value


@pytest.mark.parametrize(
    ("text", "value"),
    [("一年半", 18), ("两年多", 24), ("大半年", 6), ("十个月", 10), ("一年", 12), ("七八个月", 7)],
)
def test_months_as_written(text: str, value: int) -> None:
    assert parse_months(text) == value


def test_counts_and_phones() -> None:
    assert parse_count("就我一个") == 1
    assert parse_count("十来个") == 10
    assert parse_phone("+86 139 7721 2345") == "13977212345"
    assert parse_phone("0772-2812345") == "07722812345"
    assert parse_phone("欠了两万") is None


def test_no_number_gives_none() -> None:
    assert parse_amount("不知道") is None
    assert parse_months("好久了") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("包工头老李欠了我们12个工友三万五，拖了半年了",
         {("people_count", 12), ("amount", 35000), ("months_owed", 6)}),
        ("我每个月收入一千五，家里四口人", {("monthly_income", 1500), ("household_size", 4)}),
        ("一个月才挣1500块", {("monthly_income", 1500)}),
        ("欠了两个月工资", {("months_owed", 2)}),
        ("今年3月开始做的", set()),
        ("电话139-7721-2345", {("phone", "13977212345")}),
        # Spaced on both sides of the unit is one number; a space after an unspaced unit starts the next fact.
        ("工钱 2 万 5 还没给", {("amount", 25000)}),
        ("欠了3万 5个人的工资", {("amount", 30000), ("people_count", 5)}),
        # Hotline numbers are not sums unless something is owed; 人工 (an operator) is not a head count.
        ("外地手机能打12348吗", set()),
        ("欠我12345", {("amount", 12345)}),
        ("换一个人工来接", set()),
        # 「一个月一千五」 is a monthly rate; 「就欠一个月 三千块」 is one month owed.
        ("一个月一千五左右", {("monthly_income", 1500)}),
        ("一个月3000 拖了三个月", {("monthly_income", 3000), ("months_owed", 3)}),
        ("我们5个人工资都没发", {("people_count", 5)}),
    ],
)
def test_extract_reads_context(text: str, expected: set[tuple[str, int | str]]) -> None:
    assert {(f.entity, f.value) for f in extract(text)} == expected


def test_spans_point_into_the_text() -> None:
    text = "老板欠我们五个人工资七八千块"
    for f in extract(text):
        assert text[f.start : f.end] == f.text


@settings(max_examples=400, deadline=None)
@given(st.text())
def test_nothing_raises(text: str) -> None:
    for entity in ("amount", "people_count", "months_owed", "monthly_income", "household_size", "phone"):
        value = normalise_entity(entity, text)
        assert value is None or isinstance(value, (int, str))
    for f in extract(text):
        assert text[f.start : f.end] == f.text


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="零一二两三四五六七八九十百千万亿0123456789.,多来半年个月块元kw ", max_size=20))
def test_nothing_raises_on_number_soup(text: str) -> None:
    for parse in (parse_amount, parse_count, parse_months, parse_phone):
        parse(text)
    extract(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我们三口人，月收入总共3000元", {("household_size", 3), ("monthly_income", 3000)}),
        ("男方每个月800块抚养费都不给", {("amount", 800)}),
        ("二十来个工友一起", {("people_count", 20)}),
        ("在这家厂做了五年", set()),
    ],
)
def test_extract_context_edge_cases(text: str, expected: set[tuple[str, int]]) -> None:
    assert {(f.entity, f.value) for f in extract(text)} == expected


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("包工头老韦欠我们7个人的钱", ["老韦"]),
        ("广西宏达装饰工程有限公司拖欠我工资", ["广西宏达装饰工程有限公司"]),
        ("在恒昌钢构厂做焊工", ["恒昌钢构厂"]),
        ("老板是阿华装修队的", ["阿华装修队"]),
        ("包工头姓蒙 叫蒙老三", ["蒙老三"]),
        ("我去法律援助中心问过", []),
        ("物业公司把水停了", []),
        ("老板跑路了", []),
        # Look-alikes: a question word, a duration, a time word, a document.
        ("东台社区的法律顾问叫什么", []),
        ("做了两年厂里一直冇跟我签合同", []),
        ("辞职以后公司扣着最后那笔工资不给", []),
        ("离职证明公司拖着不开", []),
    ],
)
def test_employer_rules(text: str, names: list[str]) -> None:
    from hotline_nlu.employer import find_employers

    assert [f.value for f in find_employers(text)] == names


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_employer_rules_never_raise(text: str) -> None:
    from hotline_nlu.employer import find_employers

    for f in find_employers(text):
        assert text[f.start : f.end] == f.text


@pytest.mark.parametrize(
    ("text", "value"),
    [("一年三个月", 15), ("一年零三个月", 15), ("一整年", 12), ("兩個月", 2), ("2023年", None), ("3", 3)],
)
def test_months_compound_traditional_and_dates(text: str, value: int | None) -> None:
    assert parse_months(text) == value


def test_dates_are_neither_months_nor_money() -> None:
    found = {(f.entity, f.value) for f in extract("本人于2023年3月起在工地干活 欠了两年工资")}
    assert found == {("months_owed", 24)}
    assert {(f.entity, f.value) for f in extract("欠了兩萬塊")} == {("amount", 20000)}
