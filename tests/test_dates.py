"""hotline.flows.dates: a day as a worker says it, relative to today; never raises, never a day after today."""
from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.flows.dates import SPRING_FESTIVAL, DateReading, cn_int, read_day

TODAY = dt.date(2026, 12, 7)


@pytest.mark.parametrize(("text", "day", "approximate"), [
    ("上个月底", dt.date(2026, 11, 30), True),
    ("去年腊月", dt.date(2026, 1, 18), True),     # 腊月 of the lunar year before the 2026-02-17 festival
    ("腊月二十几号就没干了", dt.date(2026, 1, 18), True),
    ("前年腊月", dt.date(2024, 12, 30), True),
    ("春节前", dt.date(2026, 2, 16), True),
    ("去年春节前", dt.date(2025, 1, 28), True),
    ("过完年", dt.date(2026, 3, 3), True),
    ("3月15号", dt.date(2026, 3, 15), False),
    ("12月20号", dt.date(2025, 12, 20), False),   # this year's is still ahead: last year's
    ("2025年底", dt.date(2025, 12, 31), True),
    ("去年年底", dt.date(2025, 12, 31), True),
    ("2025年12月20日", dt.date(2025, 12, 20), False),
    ("2025-12-20", dt.date(2025, 12, 20), False),
    ("25年10月", dt.date(2025, 10, 1), True),
    ("十一月底", dt.date(2026, 11, 30), True),
    ("上个月15号", dt.date(2026, 11, 15), False),
    ("前天", dt.date(2026, 12, 5), False),
    ("半年前", TODAY - dt.timedelta(days=182), True),
    ("11个月前", dt.date(2026, 1, 7), True),
    ("一年多前", dt.date(2025, 12, 7), True),
])
def test_days_as_workers_say_them(text: str, day: dt.date, approximate: bool) -> None:
    found = read_day(text, TODAY)
    assert found is not None and (found.day, found.approximate) == (day, approximate), found


@pytest.mark.parametrize("text", ["还在干", "还在工地上干着", "没走，在职"])
def test_still_working(text: str) -> None:
    assert read_day(text, TODAY) == DateReading(still_working=True)


@pytest.mark.parametrize("text", ["没要过", "从来没找他要过", "一次都没催过"])
def test_never_asked(text: str) -> None:
    assert read_day(text, TODAY) == DateReading(never=True)


@pytest.mark.parametrize("text", ["不知道", "", "2027年1月", "明年", "老板姓王", "13月5号", "2月30号"])
def test_no_day_or_a_future_day_is_not_read(text: str) -> None:
    assert read_day(text, TODAY) is None


def test_lunar_phrases_outside_the_table_are_not_guessed() -> None:
    assert read_day("春节前", dt.date(2018, 6, 1)) is None
    assert read_day("腊月", dt.date(2029, 6, 1)) is None


def test_chinese_numbers() -> None:
    assert [cn_int(s) for s in ("15", "十五", "二十三", "十", "二零二五", "三")] == [15, 15, 23, 10, 2025, 3]
    assert cn_int("十二三") is None and cn_int("abc") is None


def test_the_spring_festival_table_is_in_january_or_february() -> None:
    for year, day in SPRING_FESTIVAL.items():
        assert day.year == year and dt.date(year, 1, 20) <= day <= dt.date(year, 2, 20)


_WORDS = st.sampled_from(["上个月", "底", "初", "去年", "前年", "腊月", "春节", "前", "后", "年", "月", "号", "日",
                          "还在干", "没要过", "半", "个", "天", "周", "以前", "过完年", "今年", "份", "中旬", "-", "."])
_PIECES = st.lists(st.one_of(_WORDS, st.integers(0, 3000).map(str), st.sampled_from(list("零一二两三四五六七八九十"))),
                   max_size=8).map("".join)


@settings(max_examples=400, deadline=None)
@given(text=st.one_of(st.text(max_size=40), _PIECES),
       today=st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2035, 12, 31)))
def test_never_raises_and_never_a_future_day(text: str, today: dt.date) -> None:
    found = read_day(text, today)
    if found is not None:
        assert found.day is not None or found.still_working or found.never
        if found.day is not None:
            assert found.day <= today
