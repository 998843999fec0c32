"""The 一村（社区）一法律顾问 roster: parsing the bureau's CSV and fuzzy lookup by place name (pure).

Citizens name their place loosely: a community without 社区 (东台), a street office by its former name (水上),
a street to mean "somewhere in it" (中南), or a homophone typed with a pinyin keyboard (东苔). Lookup therefore
scores every entry against several keys and, failing an exact or partial hit, compares both characters and
toneless pinyin, so that 东苔 finds 东台 (same sound) rather than 东堤 (one shared character).
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pypinyin import lazy_pinyin
from rapidfuzz import fuzz

# Former names of street offices (DOMAIN §6: 沿江 was formerly 水上).
STREET_ALIASES: dict[str, str] = {"水上街道": "沿江街道", "水上": "沿江街道"}

COLUMNS: tuple[str, ...] = (
    "street", "community", "kind", "aliases", "advisor", "advisor_firm", "advisor_phone",
    "justice_office", "office_address", "office_phone", "office_hours",
)
REQUIRED_COLUMNS: tuple[str, ...] = ("street", "community")
KINDS: tuple[str, ...] = ("社区", "村")
SAMPLE_MARK = "示例"  # the sample roster marks its invented firms and addresses with this word

_ALIAS_SPLIT = re.compile(r"[|、;；/]")
_PHONE = re.compile(r"^\+?[\d\s()\-]+$")
_COMMUNITY_SUFFIXES = ("社区居委会", "村委会", "居委会", "社区", "村")
_STREET_SUFFIXES = ("街道办事处", "街道办", "街道", "司法所")
# Punctuation and spaces a citizen may type around a place name.
_NOISE = re.compile(r"[\s,，.。!！?？:：;；'\"“”‘’()（）【】\[\]]+")

# Score bands: an exact name beats a street-wide hit, which beats a partial name, which beats a fuzzy guess.
_EXACT, _STREET, _PARTIAL, _STREET_PARTIAL, _CONTAINED, _STREET_CONTAINED = 100, 95, 90, 85, 80, 75
_FUZZY_CAP = 70       # fuzzy hits never outrank a literal one
_FUZZY_MIN = 70.0     # mean of character and pinyin similarity needed to count as a typo of a name


class RosterError(ValueError):
    """A roster that cannot be loaded; `problems` holds every "line N: why", the message joins them."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


@dataclass(frozen=True)
class AdvisorEntry:
    street: str
    community: str
    kind: str | None = None
    aliases: tuple[str, ...] = ()
    advisor: str | None = None
    advisor_firm: str | None = None
    advisor_phone: str | None = None
    justice_office: str | None = None
    office_address: str | None = None
    office_phone: str | None = None
    office_hours: str | None = None
    sample: bool = False

    def to_api(self) -> dict[str, object]:
        """CONTRACT §7 advisor keys, plus kind, firm and aliases."""
        return {
            "street": self.street,
            "community": self.community,
            "advisor": self.advisor,
            "advisor_phone": self.advisor_phone,
            "justice_office": self.justice_office,
            "office_address": self.office_address,
            "office_phone": self.office_phone,
            "office_hours": self.office_hours,
            "sample": self.sample,
            "kind": self.kind,
            "advisor_firm": self.advisor_firm,
            "aliases": list(self.aliases),
        }


# --- parsing ---------------------------------------------------------------------------------------------


def parse_roster(text: str) -> list[AdvisorEntry]:
    """Every entry of a roster CSV, or RosterError naming every bad line; never a partial roster.

    The roster counts as sample data (every entry `sample=True`) when any firm, address or office in it carries
    the word 示例: a roster with invented rows in it is not one a citizen should rely on.
    """
    text = text.removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None or not any(cell.strip() for cell in header):
        raise RosterError([f"line 1: empty file, expected the header {','.join(COLUMNS)}"])
    header = [cell.strip().removeprefix("\ufeff") for cell in header]
    header_problems = _check_header(header)
    if header_problems:
        raise RosterError(header_problems)

    problems: list[str] = []
    rows: list[tuple[int, dict[str, str | None]]] = []
    first_seen: dict[tuple[str, str], int] = {}
    start_line = reader.line_num + 1
    for cells in reader:
        line = start_line
        start_line = reader.line_num + 1
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(header):
            problems.append(f"line {line}: expected {len(header)} fields, found {len(cells)}")
            continue
        row = {name: (cell.strip() or None) for name, cell in zip(header, cells, strict=True)}
        why = _row_problem(row)
        if why:
            problems.append(f"line {line}: {why}")
            continue
        street = STREET_ALIASES.get(row["street"] or "", row["street"] or "")
        key = (street, row["community"] or "")
        if key in first_seen:
            problems.append(f"line {line}: duplicate community {key[1]} in {key[0]} (first on line {first_seen[key]})")
            continue
        first_seen[key] = line
        rows.append((line, row))
    if problems:
        raise RosterError(problems)
    if not rows:
        raise RosterError(["line 2: no entries after the header"])

    sample = any(
        SAMPLE_MARK in (row.get(col) or "")
        for _, row in rows
        for col in ("advisor_firm", "office_address", "justice_office", "advisor")
    )
    return [_entry(row, sample) for _, row in rows]


def _check_header(header: list[str]) -> list[str]:
    unknown = [name for name in header if name not in COLUMNS]
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    duplicated = sorted({name for name in header if header.count(name) > 1})
    problems = []
    if missing:
        problems.append(f"line 1: missing column {', '.join(missing)}")
    if unknown:
        problems.append(f"line 1: unknown column {', '.join(repr(n) for n in unknown)}")
    if duplicated:
        problems.append(f"line 1: repeated column {', '.join(duplicated)}")
    return problems


def _row_problem(row: dict[str, str | None]) -> str | None:
    for name in REQUIRED_COLUMNS:
        if not row.get(name):
            return f"{name} is empty"
    kind = row.get("kind")
    if kind and kind not in KINDS:
        return f"unknown kind {kind!r} (expected {' or '.join(KINDS)})"
    for name in ("advisor_phone", "office_phone"):
        value = row.get(name)
        if value and not _valid_phone(value):
            return f"bad {name} {value!r}"
    return None


def _valid_phone(value: str) -> bool:
    digits = re.sub(r"\D", "", value)
    return bool(_PHONE.match(value)) and 5 <= len(digits) <= 15


def _entry(row: dict[str, str | None], sample: bool) -> AdvisorEntry:
    street = row["street"] or ""
    aliases = tuple(a.strip() for a in _ALIAS_SPLIT.split(row.get("aliases") or "") if a.strip())
    return AdvisorEntry(
        street=STREET_ALIASES.get(street, street),
        community=row["community"] or "",
        kind=row.get("kind"),
        aliases=aliases,
        advisor=row.get("advisor"),
        advisor_firm=row.get("advisor_firm"),
        advisor_phone=row.get("advisor_phone"),
        justice_office=row.get("justice_office"),
        office_address=row.get("office_address"),
        office_phone=row.get("office_phone"),
        office_hours=row.get("office_hours"),
        sample=sample,
    )


# --- lookup ----------------------------------------------------------------------------------------------


def _strip_suffix(name: str, suffixes: Iterable[str]) -> str:
    for suffix in suffixes:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def _clean(query: str) -> str:
    return _NOISE.sub("", query or "")


def _community_keys(entry: AdvisorEntry) -> set[str]:
    return {entry.community, _strip_suffix(entry.community, _COMMUNITY_SUFFIXES), *entry.aliases}


def _street_keys(street: str, entries: Sequence[AdvisorEntry]) -> set[str]:
    keys = {street, _strip_suffix(street, _STREET_SUFFIXES)}
    keys.update(alias for alias, target in STREET_ALIASES.items() if target == street)
    for entry in entries:
        if entry.street == street and entry.justice_office:
            keys.update({entry.justice_office, _strip_suffix(entry.justice_office, _STREET_SUFFIXES)})
    return {k for k in keys if k}


def _pinyin(text: str) -> str:
    return "".join(lazy_pinyin(text))


def _fuzzy(query: str, keys: Iterable[str]) -> float:
    """Best mean of character and toneless-pinyin similarity between the query and any key, 0-100."""
    query_py = _pinyin(query)
    best = 0.0
    for key in keys:
        score = (fuzz.ratio(query, key) + fuzz.ratio(query_py, _pinyin(key))) / 2
        best = max(best, score)
    return best


def _contained(query: str, keys: Iterable[str]) -> int:
    """Length of the longest key (two characters or more) found inside the query, or 0."""
    return max((len(key) for key in keys if len(key) >= 2 and key in query), default=0)


def _literal_score(query: str, community_keys: set[str], street_keys: set[str]) -> float:
    """The best literal (non-fuzzy) band an entry reaches for the query, or 0.

    Inside a sentence (我住公园街道东台社区) a longer name found outranks a shorter one (公园).
    """
    if query in community_keys:
        return _EXACT
    if query in street_keys:
        return _STREET
    if any(query in key for key in community_keys):
        return _PARTIAL
    if any(query in key for key in street_keys):
        return _STREET_PARTIAL
    if length := _contained(query, community_keys):
        return _CONTAINED + min(length, 9) / 10
    if length := _contained(query, street_keys):
        return _STREET_CONTAINED + min(length, 9) / 10
    return 0


def _scores(entries: Sequence[AdvisorEntry], query: str) -> list[float]:
    street_keys = {street: _street_keys(street, entries) for street in {e.street for e in entries}}
    scores = [_literal_score(query, _community_keys(e), street_keys[e.street]) for e in entries]
    if any(scores):
        return scores
    fuzzy = []
    for entry in entries:
        # A street-wide guess ranks just under a guess at the community itself.
        score = max(_fuzzy(query, _community_keys(entry)), _fuzzy(query, street_keys[entry.street]) - 1)
        fuzzy.append(min(score, _FUZZY_CAP) if score >= _FUZZY_MIN else 0.0)
    return fuzzy


def lookup(entries: Sequence[AdvisorEntry], query: str, limit: int = 5) -> list[AdvisorEntry]:
    """The entries matching a street, community, alias or partial name, best first; [] when nothing fits.

    A street (or its former name, or its 司法所) returns its communities, the one named like the street first.
    """
    query = _clean(query)
    if not query or limit <= 0 or not entries:
        return []
    scores = _scores(entries, query)
    ranked = sorted((i for i, s in enumerate(scores) if s > 0), key=lambda i: (-scores[i], i))
    return [entries[i] for i in ranked[:limit]]


def _pick(query: str, candidates: dict[str, set[str]]) -> str | None:
    """The one candidate whose keys match the query literally, tightest test first; None when none or tied.

    Used to fill a slot, so a tie is left for the bot to ask about rather than guessed, and a single character
    is too little to go on except as an exact alias.
    """
    if hits := [name for name, keys in candidates.items() if query in keys]:
        return hits[0] if len(hits) == 1 else None
    if len(query) < 2:
        return None
    if hits := [name for name, keys in candidates.items() if any(query in k for k in keys)]:
        return hits[0] if len(hits) == 1 else None
    lengths = {name: _contained(query, keys) for name, keys in candidates.items()}
    if longest := max(lengths.values(), default=0):
        hits = [name for name, length in lengths.items() if length == longest]
        return hits[0] if len(hits) == 1 else None
    fuzzy = {name: _fuzzy(query, keys) for name, keys in candidates.items()}
    ranked = sorted(fuzzy, key=lambda n: -fuzzy[n])
    if not ranked or fuzzy[ranked[0]] < _FUZZY_MIN or (len(ranked) > 1 and fuzzy[ranked[1]] == fuzzy[ranked[0]]):
        return None
    return ranked[0]


def canonical_street(entries: Sequence[AdvisorEntry], text: str) -> str | None:
    """The roster's street office for a name, former name, short name or close typo: 水上 → 沿江街道."""
    query = _clean(text)
    if not query:
        return None
    streets = list(dict.fromkeys(e.street for e in entries))
    if STREET_ALIASES.get(query) in streets:
        return STREET_ALIASES[query]
    return _pick(query, {street: _street_keys(street, entries) for street in streets})


def canonical_community(entries: Sequence[AdvisorEntry], text: str) -> str | None:
    """The roster's community for a name, alias, short name or close typo: 东台 → 东台社区.

    Community names are unique within a street but not necessarily across streets; a name shared by two
    streets gives None here and the caller asks for the street.
    """
    query = _clean(text)
    if not query:
        return None
    candidates: dict[str, set[str]] = {}
    for entry in entries:
        candidates.setdefault(entry.community, set()).update(_community_keys(entry))
    return _pick(query, candidates)


# --- what a citizen said about their place -------------------------------------------------------------------

def former_name_in(text: str, street: str) -> str | None:
    """The former name of `street` that `text` uses (「我住水上那边」 → 水上), longest first; None when none."""
    query = _clean(text)
    names = sorted((alias for alias, target in STREET_ALIASES.items() if target == street), key=len, reverse=True)
    # 「水上社区」 names a community, not the street's former name.
    return next((name.removesuffix("街道") for name in names
                 if name in query and f"{name.removesuffix('街道')}社区" not in query), None)


def ambiguous_former_name(entries: Sequence[AdvisorEntry], text: str) -> tuple[str, str] | None:
    """(street, community) when `text` names a street by a former name that is also a community's short name and
    does not say which it means: 「我住水上那边」 is 沿江街道 (formerly 水上街道) or its 水上社区. None otherwise."""
    query = _clean(text)
    for alias, street in STREET_ALIASES.items():
        if alias.endswith("街道") or alias not in query or f"{alias}街道" in query:
            continue  # only the bare short name is ambiguous; 「水上街道」 says which
        for entry in entries:
            if alias in _community_keys(entry) and entry.community not in query:
                return street, entry.community
    return None


def communities_of(entries: Sequence[AdvisorEntry], street: str, *, first: str | None = None) -> list[str]:
    """The street's communities in roster order, the one named `first` (or named like it) leading."""
    names = list(dict.fromkeys(e.community for e in entries if e.street == street))
    if first:
        names.sort(key=lambda name: 0 if first in name else 1)
    return names
