"""Reading a day as a worker says it — 「上个月底」「去年腊月」「春节前」「3月15号」「2025年底」「还在干」 — relative to a
given today. Pure; never raises; never returns a day after today.

A vague span is read as one day of it and marked `approximate` (the answer then says 「按…算」): a month or a year
named without a day is read as its first day, 「月底」「年底」 as the last day, so a deadline computed from it errs early,
never late. Lunar phrases (腊月, 春节, 过年) use the Spring Festival table below; outside it they are not read.
"""
from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

# 春节 (正月初一) by year. 2023–2027 agree in two pages read 2026-12-07 (https://www.bazhongol.com/jxuzs/202507/626683.html,
# https://www.ugtv8.com/shucs/202510/341306.html, also 2021); 2019, 2020 and 2022 are from the calendar (one page
# said 2022-01-31, against the 2022-02-01 kept here). A year not listed is not guessed.
SPRING_FESTIVAL: dict[int, dt.date] = {
    2019: dt.date(2019, 2, 5), 2020: dt.date(2020, 1, 25), 2021: dt.date(2021, 2, 12),
    2022: dt.date(2022, 2, 1), 2023: dt.date(2023, 1, 22), 2024: dt.date(2024, 2, 10),
    2025: dt.date(2025, 1, 29), 2026: dt.date(2026, 2, 17), 2027: dt.date(2027, 2, 6),
}
# 腊月 (the twelfth lunar month) begins about 29–30 days before the Spring Festival: read as its first day.
_LA_YUE_DAYS = 30
# 「春节后」「过完年」: work usually resumes after 元宵 (正月十五).
_AFTER_FESTIVAL_DAYS = 14

_CN = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_NUM = r"[0-9０-９零〇一二两三四五六七八九十]+"

_STILL = re.compile(r"还在(干|做|上班|那|厂|工地)|还没(走|离职|辞|结束|干完)|没(走|离职|辞职)|在职|现在还|一直在干|还干着|还做着")
_NEVER = re.compile(r"没(有)?(要|讨|催|找|问)过|从来没|一次都没|还没(要|讨|催|找)|没去(要|讨|找)")


@dataclass(frozen=True)
class DateReading:
    """What a message says about a day: the day (never after today), or that the job goes on, or that the worker
    never asked; `approximate` when a span was read as one of its days."""

    day: dt.date | None = None
    approximate: bool = False
    still_working: bool = False
    never: bool = False


def cn_int(text: str) -> int | None:
    """「15」「十五」「二十三」「2025」「二零二五」 → int; None when it is not a number."""
    text = text.strip().translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    if not text:
        return None
    if text.isdigit():
        return int(text)
    if "十" in text:
        tens, _, ones = text.partition("十")
        if len(tens) > 1 or len(ones) > 1:
            return None
        t = _CN.get(tens) if tens else 1
        o = _CN.get(ones) if ones else 0
        return None if t is None or o is None else t * 10 + o
    digits = [_CN.get(c) for c in text]
    if any(d is None for d in digits):
        return None
    return int("".join(str(d) for d in digits))


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def _safe(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except (ValueError, OverflowError):
        return None


def _shift_months(day: dt.date, months: int) -> dt.date | None:
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    if not 1 <= year <= 9999:
        return None
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _festival_before(today: dt.date, years_back: int) -> dt.date | None:
    """The Spring Festival of the lunar year `years_back` before the current one (0: the latest on or before
    today), from the table; None outside it."""
    past = sorted(d for d in SPRING_FESTIVAL.values() if d <= today)
    if len(past) <= years_back:
        return None
    latest = past[-1 - years_back]
    # The table must reach today's lunar year, else "the latest" would be an older festival.
    if (today - past[-1]).days > 400:
        return None
    return latest


def _year_of(word: str, today: dt.date) -> int | None:
    return {"今年": today.year, "去年": today.year - 1, "前年": today.year - 2, "大前年": today.year - 3}.get(word)


def _not_future(day: dt.date | None, today: dt.date) -> dt.date | None:
    return day if day is not None and day <= today else None


def _lunar(text: str, today: dt.date) -> DateReading | None:
    # 「年前」「年后」 are the festival's only when no count stands before them (「半年前」「两年前」 are spans).
    if not re.search(rf"腊月|春节|过年|(?<![半几多个{_NUM[1:-2]}])年[前后]|过完年|大年", text):
        return None
    back = 0
    if re.search(r"去年|上一年", text):
        back = 1
    elif "前年" in text:
        back = 2
    festival = _festival_before(today, back)
    if festival is None:
        return None
    if "腊月" in text:
        # 腊月 ends a lunar year: the 腊月 just before the latest festival belongs to the lunar year before this one,
        # so 「去年腊月」 is that one (it may fall in this calendar year) and 「前年腊月」 the one before.
        festival = _festival_before(today, max(back - 1, 0))
        if festival is None:
            return None
        upcoming = min((d for d in SPRING_FESTIVAL.values() if d > today), default=None)
        base = festival
        if upcoming is not None and (upcoming - today).days <= _LA_YUE_DAYS and back == 0:
            base = upcoming  # today is in 腊月 itself
        day = base - dt.timedelta(days=_LA_YUE_DAYS)
        return DateReading(_not_future(day, today), approximate=True) if day <= today else None
    if re.search(rf"(?<![半几多个{_NUM[1:-2]}])年后|过完年|春节后|过了年", text):
        return DateReading(_not_future(festival + dt.timedelta(days=_AFTER_FESTIVAL_DAYS), today), approximate=True)
    # 「春节前」「年前」「过年」: the eve, read as the day before the festival.
    return DateReading(_not_future(festival - dt.timedelta(days=1), today), approximate=True)


def _relative(text: str, today: dt.date) -> DateReading | None:
    if re.search(r"今天|刚刚|刚才", text):
        return DateReading(today)
    if "大前天" in text:
        return DateReading(today - dt.timedelta(days=3))
    if "前天" in text:
        return DateReading(today - dt.timedelta(days=2))
    if "昨天" in text:
        return DateReading(today - dt.timedelta(days=1))
    m = re.search(rf"({_NUM}|半|几|两)\s*(个)?\s*(天|日|周|星期|礼拜|月|年)多?(以前|之前|前)", text)
    if m:
        n_word, unit = m.group(1), m.group(3)
        if n_word == "半":
            n_days = {"月": 15, "年": 182}.get(unit)
            return DateReading(today - dt.timedelta(days=n_days), approximate=True) if n_days else None
        n = 3 if n_word == "几" else cn_int(n_word)
        if n is None or n > 100:
            return None
        if unit in ("天", "日"):
            return DateReading(today - dt.timedelta(days=n), approximate=n_word == "几")
        if unit in ("周", "星期", "礼拜"):
            return DateReading(today - dt.timedelta(weeks=n), approximate=True)
        day = _shift_months(today, n * (12 if unit == "年" else 1))
        return DateReading(day, approximate=True) if day else None
    if re.search(r"上(个)?(周|星期|礼拜)", text):
        return DateReading(today - dt.timedelta(days=today.weekday() + 7), approximate=True)
    if re.search(r"这(个)?(周|星期|礼拜)", text):
        return DateReading(today - dt.timedelta(days=today.weekday()), approximate=True)
    m = re.search(r"(上上|上|这|本)(个)?月(底|末|初|头|中|中旬|上旬|下旬)?", text)
    if m and not re.search(rf"{_NUM}\s*月", text):
        back = {"上上": 2, "上": 1, "这": 0, "本": 0}[m.group(1)]
        first = _shift_months(today.replace(day=1), back)
        if first is None:
            return None
        part = m.group(3) or ""
        if part in ("底", "末", "下旬"):
            day = _month_end(first.year, first.month) if part != "下旬" else first.replace(day=21)
        elif part in ("中", "中旬"):
            day = first.replace(day=11 if part == "中旬" else 15)
        else:
            day = first
        return DateReading(min(day, today), approximate=True)
    if "前几天" in text or "这几天" in text:
        return DateReading(today - dt.timedelta(days=3), approximate=True)
    return None


def _calendar(text: str, today: dt.date) -> DateReading | None:
    m = re.search(rf"(上上|上)(个)?月\s*({_NUM})\s*[号日]", text)  # 「上个月15号」
    if m:
        first = _shift_months(today.replace(day=1), 2 if m.group(1) == "上上" else 1)
        d = cn_int(m.group(3))
        day = _safe(first.year, first.month, d) if first and d else None
        return DateReading(_not_future(day, today)) if day else None
    # ISO and dotted forms: 2025-03-15, 2025/3/15, 2025.3.15
    m = re.search(r"(\d{4})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})", text)
    if m:
        day = _safe(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        return DateReading(_not_future(day, today)) if day else None
    m = re.search(rf"({_NUM}|今年|去年|前年|大前年)\s*年?\s*(底|末|初|头|年底|年末|年初)", text)
    if m and not re.search(rf"{_NUM}\s*月", text):
        year = _year_of(m.group(1), today) or _full_year(m.group(1), today)
        if year is None:
            return None
        end = m.group(2) in ("底", "末", "年底", "年末")
        day = _safe(year, 12, 31) if end else _safe(year, 1, 1)
        return DateReading(_not_future(min(day, today) if day and day.year == today.year else day, today),
                           approximate=True) if day else None
    m = re.search(rf"(?:({_NUM})\s*年\s*|(今年|去年|前年|大前年)\s*)?({_NUM})\s*月\s*(?:份)?\s*(?:({_NUM})\s*[日号])?"
                  r"\s*(底|末|初|头|中|中旬|上旬|下旬)?", text)
    if m:
        month = cn_int(m.group(3))
        if month is None or not 1 <= month <= 12:
            return None
        year_word = m.group(1) or m.group(2)
        year = (_year_of(year_word, today) or _full_year(year_word, today)) if year_word else None
        if year_word and year is None:
            return None
        explicit_year = year is not None
        year = year if year is not None else today.year
        part = m.group(5) or ""
        approximate = m.group(4) is None
        if m.group(4) is not None:
            d = cn_int(m.group(4))
            day = _safe(year, month, d) if d else None
        elif part in ("底", "末", "下旬"):
            day = _month_end(year, month) if part != "下旬" else _safe(year, month, 21)
        elif part in ("中", "中旬"):
            day = _safe(year, month, 11 if part == "中旬" else 15)
        else:
            day = _safe(year, month, 1)
        if day is None:
            return None
        if day > today and not explicit_year:
            day = _safe(year - 1, month, day.day) or _month_end(year - 1, month)
        return DateReading(_not_future(day, today), approximate=approximate)
    m = re.search(rf"({_NUM})\s*[号日]", text)  # 「15号」: this month's, or last month's when still ahead
    if m:
        d = cn_int(m.group(1))
        if d is None or not 1 <= d <= 31:
            return None
        day = _safe(today.year, today.month, d)
        if day is None or day > today:
            first = _shift_months(today.replace(day=1), 1)
            day = _safe(first.year, first.month, d) if first else None
        return DateReading(_not_future(day, today)) if day else None
    return None


def _full_year(word: str | None, today: dt.date) -> int | None:
    if not word:
        return None
    n = cn_int(word)
    if n is None:
        return None
    if n < 100:  # 「25年」
        n += 2000
    return n if 1990 <= n <= today.year else None


def read_day(text: object, today: dt.date) -> DateReading | None:
    """The day a message names, relative to `today`; None when it names none that can be read (or only a day
    after today). 「还在干」 → still_working; 「没要过」 → never."""
    try:
        t = str(text or "").strip()
        if not t or len(t) > 200:
            return None
        if _NEVER.search(t):
            return DateReading(never=True)
        if _STILL.search(t) and not re.search(r"不干|没干|离职|辞|走了", t.replace("没走", "")):
            return DateReading(still_working=True)
        for reader in (_lunar, _calendar, _relative):
            found = reader(t, today)
            if found is not None:
                return found if found.day is not None else None
        return None
    except (ValueError, OverflowError, TypeError, KeyError, IndexError):  # a slip reads as "not understood"
        return None
