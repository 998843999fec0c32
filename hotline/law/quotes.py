"""What a sentence quotes from the law data: a figure or an article, with the dated record it comes from.

A wording names what it quotes by path (`work_injury.art17.employer_days`); `quote(path, on)` answers the text to
put in the sentence together with the `ParameterValue` in force that day, so the figure, the article and whether
they were checked against the official text travel together and nothing is typed into the wording or parsed back
out of it. Paths:

- `<file>.<parameter>` — the value itself (a number or a sentence): `labor_inspection.hotline` → 12333
- `<file>.<parameter>.citation` — the article: `mediation.art8.citation` → 《人民调解法》第八条
- `<file>.<parameter>.item<N>` — the article's item N (it must be in the value's `items`): `legal_aid.art31.item5`
  → 《法律援助法》第三十一条第五项
- `<file>.<parameter>.<key>` — one key of a mapping value: `mediation.art33.days` → 30
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass

from hotline.law.params import ParameterValue, UnknownParameter, history, parameter_or_none

_CN_DIGITS = "零一二三四五六七八九十"
_ITEM = re.compile(r"item(\d+)")


class BadQuotePath(ValueError):
    """A path that names no parameter, key or item of the law data."""


def cn_number(n: int) -> str:
    """1..99 in Chinese numerals, as articles and items are cited (第十五条, 第三项)."""
    if n <= 10:
        return _CN_DIGITS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else _CN_DIGITS[tens]) + "十" + (_CN_DIGITS[ones] if ones else "")


def item_citation(pv: ParameterValue, item: int) -> str:
    """The citation of one item of an article: 《法律援助法》第四十二条 + 3 → 《法律援助法》第四十二条第三项."""
    return f"{pv.citation}第{cn_number(item)}项"


@dataclass(frozen=True)
class Quote:
    """One quoted figure or article: the text a sentence shows and the dated record it was read from."""

    path: str
    text: str
    source: ParameterValue

    @property
    def verified(self) -> bool:
        return self.source.verified

    @property
    def citation(self) -> str:
        """The article the quote rests on: an item's own citation (第三十一条第五项) when the quote is an item."""
        return self.text if _ITEM.fullmatch(self.path.rsplit(".", 1)[-1]) else self.source.citation


def _split(path: str) -> tuple[str, str | None]:
    parts = path.split(".")
    if len(parts) not in (2, 3):
        raise BadQuotePath(f"quote path '{path}': expected <file>.<parameter>[.<key>]")
    return f"{parts[0]}.{parts[1]}", (parts[2] if len(parts) == 3 else None)


def _text(pv: ParameterValue, key: str | None, path: str) -> str:
    if key is None:
        if isinstance(pv.value, (dict, list)) or pv.value is None:
            raise BadQuotePath(f"quote path '{path}': the value is not a figure or a sentence; name a key")
        return str(pv.value)
    if key == "citation":
        return pv.citation
    item = _ITEM.fullmatch(key)
    if item is not None:
        n = int(item.group(1))
        items = pv.value.get("items") if isinstance(pv.value, dict) else None
        if not items or not any(i.get("item") == n for i in items):
            raise BadQuotePath(f"quote path '{path}': {pv.name} has no item {n}")
        return item_citation(pv, n)
    if not isinstance(pv.value, dict) or key not in pv.value:
        raise BadQuotePath(f"quote path '{path}': {pv.name} has no key '{key}'")
    return str(pv.value[key])


def quote(path: str, on: dt.date) -> Quote | None:
    """The quote in force on `on`; None when the parameter has no value that day (a person answers instead).
    BadQuotePath when the path names nothing in the data."""
    name, key = _split(path)
    try:
        history(name)
    except UnknownParameter:
        raise BadQuotePath(f"quote path '{path}': no parameter '{name}' in the law data") from None
    pv = parameter_or_none(name, on)
    return None if pv is None else Quote(path=path, text=_text(pv, key, path), source=pv)


def quotes(paths: Mapping[str, str], on: dt.date) -> dict[str, Quote | None]:
    """Each placeholder's quote on `on` (None where nothing is in force)."""
    return {placeholder: quote(path, on) for placeholder, path in paths.items()}


def check_path(path: str) -> None:
    """Raise BadQuotePath unless `path` resolves on every dated value of its parameter (a spec check at load)."""
    name, key = _split(path)
    try:
        values = history(name)
    except UnknownParameter:
        raise BadQuotePath(f"quote path '{path}': no parameter '{name}' in the law data") from None
    for pv in values:
        _text(pv, key, path)
