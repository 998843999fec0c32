"""Legal rules and figures as dated data, OpenFisca-style.

Every file `data/<file>.yaml` holds parameters read in code as `<file>.<key>`; `parameter("minimum_wage.liuzhou",
on=date)` answers the value in force on that day with its citation, effective date and whether it was checked
against the official text. The files are read and validated once, on first use.
"""
from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

DATA_DIR = Path(__file__).resolve().parent / "data"

# The parameters read while a `reading()` block runs (None outside one).
_READ: ContextVar[set[str] | None] = ContextVar("hotline_law_read", default=None)

_ENTRY_KEYS = {"effective", "end", "reference", "citation", "verified", "last_review", "value", "note"}
_PARAM_KEYS = {"description", "unit", "values"} | _ENTRY_KEYS


class ParameterError(Exception):
    """Base class of the errors raised here."""


class UnknownParameter(ParameterError, KeyError):
    """No parameter of that name exists."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class ParameterNotInForce(ParameterError, LookupError):
    """The parameter exists but has no value on the date asked (before its first effective date, or ended)."""


class InvalidParameterFile(ParameterError, ValueError):
    """A data file breaks the schema; raised at load time so a bad edit fails fast."""


@dataclass(frozen=True)
class ParameterValue:
    """One dated value of a parameter, with its legal source."""

    name: str
    value: Any
    reference: str
    citation: str
    effective: dt.date
    end: dt.date | None
    verified: bool
    last_review: dt.date
    note: str | None = None
    unit: str | None = None

    def in_force(self, on: dt.date) -> bool:
        return self.effective <= on and (self.end is None or on <= self.end)

    def source(self) -> dict[str, Any]:
        """The value's provenance as plain JSON-ready data."""
        return {
            "source": self.reference,
            "citation": self.citation,
            "effective": self.effective.isoformat(),
            "end": self.end.isoformat() if self.end else None,
            "verified": self.verified,
            "last_review": self.last_review.isoformat(),
            "note": self.note,
        }


def _entry(name: str, raw: dict[str, Any], unit: str | None, where: str) -> ParameterValue:
    unknown = set(raw) - _ENTRY_KEYS
    if unknown:
        raise InvalidParameterFile(f"{where}: unknown keys {sorted(unknown)}")
    for key in ("effective", "reference", "verified", "last_review", "value"):
        if key not in raw:
            raise InvalidParameterFile(f"{where}: missing '{key}'")
    for key in ("effective", "last_review"):
        if not isinstance(raw[key], dt.date):
            raise InvalidParameterFile(f"{where}: '{key}' must be a date (YYYY-MM-DD)")
    end = raw.get("end")
    if end is not None and (not isinstance(end, dt.date) or end < raw["effective"]):
        raise InvalidParameterFile(f"{where}: 'end' must be a date on or after 'effective'")
    if not isinstance(raw["verified"], bool):
        raise InvalidParameterFile(f"{where}: 'verified' must be true or false")
    if not isinstance(raw["reference"], str) or not raw["reference"].strip():
        raise InvalidParameterFile(f"{where}: 'reference' must be the citation text")
    return ParameterValue(
        name=name,
        value=raw["value"],
        reference=raw["reference"],
        citation=raw.get("citation") or raw["reference"],
        effective=raw["effective"],
        end=end,
        verified=raw["verified"],
        last_review=raw["last_review"],
        note=raw.get("note"),
        unit=unit,
    )


class _UniqueKeyLoader(yaml.SafeLoader):
    """yaml.safe_load keeps the last of two equal keys silently: a parameter written twice is refused instead."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise InvalidParameterFile(f"line {key_node.start_mark.line + 1}: '{key}' is written twice")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def parse_file(stem: str, text: str) -> dict[str, tuple[ParameterValue, ...]]:
    """Validate one data file and return its parameters, each a tuple of values ordered by date."""
    try:
        doc = yaml.load(text, Loader=_UniqueKeyLoader) or {}  # a SafeLoader subclass: safe
    except InvalidParameterFile as exc:
        raise InvalidParameterFile(f"{stem}.yaml: {exc}") from None
    if not isinstance(doc, dict):
        raise InvalidParameterFile(f"{stem}.yaml: top level must be a mapping of parameter names")
    out: dict[str, tuple[ParameterValue, ...]] = {}
    for key, raw in doc.items():
        name = f"{stem}.{key}"
        if not isinstance(raw, dict):
            raise InvalidParameterFile(f"{name}: must be a mapping")
        unknown = set(raw) - _PARAM_KEYS
        if unknown:
            raise InvalidParameterFile(f"{name}: unknown keys {sorted(unknown)}")
        unit = raw.get("unit")
        if "values" in raw:
            if not isinstance(raw["values"], list) or not raw["values"]:
                raise InvalidParameterFile(f"{name}: 'values' must be a non-empty list")
            entries = [_entry(name, v, unit, f"{name}[{i}]") for i, v in enumerate(raw["values"])]
        else:
            single = {k: v for k, v in raw.items() if k not in ("description", "unit")}
            entries = [_entry(name, single, unit, name)]
        entries.sort(key=lambda e: e.effective)
        for before, after in itertools.pairwise(entries):
            if before.effective == after.effective or (before.end is not None and before.end >= after.effective):
                raise InvalidParameterFile(f"{name}: values overlap at {after.effective.isoformat()}")
        out[name] = tuple(entries)
    return out


@lru_cache(maxsize=1)
def _load(data_dir: Path = DATA_DIR) -> dict[str, tuple[ParameterValue, ...]]:
    params: dict[str, tuple[ParameterValue, ...]] = {}
    for path in sorted(data_dir.glob("*.yaml")):
        params.update(parse_file(path.stem, path.read_text(encoding="utf-8")))
    return params


def names() -> list[str]:
    """Every parameter name, e.g. 'minimum_wage.liuzhou'."""
    return sorted(_load())


def history(name: str) -> tuple[ParameterValue, ...]:
    """All dated values of a parameter, oldest first."""
    read = _READ.get()
    if read is not None:
        read.add(name)
    try:
        return _load()[name]
    except KeyError:
        raise UnknownParameter(f"unknown parameter '{name}'") from None


@contextmanager
def reading() -> Iterator[set[str]]:
    """Collect the names of the parameters read inside the block: which data files a rule reads is found by running
    it, never listed by hand (a list once missed labor_contract.yaml)."""
    read: set[str] = set()
    token = _READ.set(read)
    try:
        yield read
    finally:
        _READ.reset(token)


def files_of(names: set[str] | list[str]) -> tuple[str, ...]:
    """The data files (stems) the named parameters live in: {'labor_contract.art82'} -> ('labor_contract',)."""
    return tuple(sorted({name.split(".", 1)[0] for name in names}))


def parameter(name: str, on: dt.date) -> ParameterValue:
    """The value of `name` in force on `on`; ParameterNotInForce before its first date or after it ended."""
    values = history(name)
    for value in reversed(values):
        if value.effective <= on:
            if value.end is not None and on > value.end:
                break
            return value
    first = values[0].effective.isoformat()
    raise ParameterNotInForce(f"'{name}' has no value on {on.isoformat()} (first in force {first})")


def parameter_or_none(name: str, on: dt.date) -> ParameterValue | None:
    """Like parameter(), but None when nothing is in force on that day."""
    try:
        return parameter(name, on)
    except ParameterNotInForce:
        return None


def latest_verified(name: str, on: dt.date) -> ParameterValue | None:
    """The newest value checked against the official text that took effect on or before `on` (and has not ended).

    An unverified figure never decides alone: callers compare against this one and treat the gap up to an
    unverified newer value as a matter for a person.
    """
    for value in reversed(history(name)):
        if value.verified and value.effective <= on and (value.end is None or on <= value.end):
            return value
    return None


def change_dates(*files: str) -> list[dt.date]:
    """Every day on which a parameter of the given data files (all files when none given) starts or stops being in
    force: the dates test cases must sit on both sides of."""
    days: set[dt.date] = set()
    for name in names():
        if files and name.split(".", 1)[0] not in files:
            continue
        for value in history(name):
            days.add(value.effective)
            if value.end is not None:
                days.add(value.end + dt.timedelta(days=1))
    return sorted(days)
