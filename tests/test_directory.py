"""Roster parsing and fuzzy advisor lookup (hotline.directory, pure)."""
from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotline.directory import (
    COLUMNS,
    STREET_ALIASES,
    AdvisorEntry,
    RosterError,
    canonical_community,
    canonical_street,
    lookup,
    parse_roster,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_CSV = (PROJECT_ROOT / "data" / "directory_sample.csv").read_text(encoding="utf-8")
HEADER = ",".join(COLUMNS)
GOOD_ROW = "公园街道,东台社区,社区,东台,莫家宁,龙城律师事务所,0772-0002101,公园司法所,公园街道办事处二楼,0772-0002100,周一至周五"


@pytest.fixture(scope="module")
def entries() -> list[AdvisorEntry]:
    return parse_roster(SAMPLE_CSV)


def communities(found: list[AdvisorEntry]) -> list[str]:
    return [e.community for e in found]


# --- parse_roster ----------------------------------------------------------------------------------------


def test_sample_roster_has_every_row_in_order(entries: list[AdvisorEntry]) -> None:
    rows = list(csv.DictReader(io.StringIO(SAMPLE_CSV)))
    assert len(entries) == len(rows) == 21
    assert [(e.street, e.community) for e in entries] == [(r["street"], r["community"]) for r in rows]
    assert {e.street for e in entries} == {"城中街道", "公园街道", "中南街道", "沿江街道", "潭中街道", "河东街道", "静兰街道"}


def test_sample_roster_fields(entries: list[AdvisorEntry]) -> None:
    dongtai = next(e for e in entries if e.community == "东台社区")
    assert dongtai == AdvisorEntry(
        street="公园街道", community="东台社区", kind="社区", aliases=("东台",), advisor="莫家宁",
        advisor_firm="示例·柳江律师事务所", advisor_phone="0772-0002101", justice_office="公园司法所",
        office_address="公园街道办事处二楼（示例地址）", office_phone="0772-0002100",
        office_hours="周一至周五 8:00-12:00 15:00-18:00", sample=True,
    )
    assert next(e for e in entries if e.community == "公园社区").aliases == ()
    assert next(e for e in entries if e.community == "环江村").kind == "村"


def test_sample_flag_follows_the_sample_mark() -> None:
    assert all(e.sample for e in parse_roster(SAMPLE_CSV))
    real = parse_roster(f"{HEADER}\n{GOOD_ROW}\n")
    assert [e.sample for e in real] == [False]


def test_bom_is_accepted() -> None:
    assert parse_roster("\ufeff" + SAMPLE_CSV) == parse_roster(SAMPLE_CSV)


def test_windows_line_endings_and_blank_lines() -> None:
    text = f"{HEADER}\r\n\r\n{GOOD_ROW}\r\n"
    assert communities(parse_roster(text)) == ["东台社区"]


def test_only_street_and_community_are_required_columns() -> None:
    found = parse_roster("community,street\n东台社区,公园街道\n")
    assert found == [AdvisorEntry(street="公园街道", community="东台社区")]


def test_several_aliases_split() -> None:
    found = parse_roster("street,community,aliases\n沿江街道,水上社区,水上|水上村、老水上\n")
    assert found[0].aliases == ("水上", "水上村", "老水上")


def test_former_street_name_is_canonicalised() -> None:
    assert parse_roster("street,community\n水上街道,东堤社区\n")[0].street == "沿江街道"


def test_every_bad_row_is_reported_by_line_and_nothing_returned() -> None:
    text = "\n".join([
        HEADER,
        GOOD_ROW,
        ",解放社区,社区,,,,,,,,",                                # line 3: no street
        "公园街道,,社区,,,,,,,,",                                # line 4: no community
        "公园街道,映山社区,小区,,,,,,,,",                         # line 5: bad kind
        "公园街道,映山社区,社区,,,,call me,,,,",                  # line 6: bad phone
        "公园街道,东台社区,社区,,,,,,,,",                         # line 7: duplicate of line 2
        "公园街道,公园社区",                                      # line 8: too few fields
    ])
    with pytest.raises(RosterError) as caught:
        parse_roster(text)
    assert caught.value.problems == [
        "line 3: street is empty",
        "line 4: community is empty",
        "line 5: unknown kind '小区' (expected 社区 or 村)",
        "line 6: bad advisor_phone 'call me'",
        "line 7: duplicate community 东台社区 in 公园街道 (first on line 2)",
        "line 8: expected 11 fields, found 2",
    ]
    assert str(caught.value).startswith("line 3: street is empty; line 4: community is empty; ")


def test_line_numbers_count_blank_lines_and_bom() -> None:
    with pytest.raises(RosterError, match=r"^line 4: community is empty$"):
        parse_roster(f"\ufeff{HEADER}\n{GOOD_ROW}\n\n公园街道,,社区,,,,,,,,\n")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "line 1: empty file, expected the header " + HEADER),
        ("street,name\n公园街道,东台\n", "line 1: missing column community; line 1: unknown column 'name'"),
        (HEADER + "\n", "line 2: no entries after the header"),
        ("street,community,street\na,b,c\n", "line 1: repeated column street"),
    ],
)
def test_bad_files(text: str, message: str) -> None:
    with pytest.raises(RosterError) as caught:
        parse_roster(text)
    assert str(caught.value) == message


def test_roster_error_is_a_value_error() -> None:
    assert issubclass(RosterError, ValueError)


def test_to_api_has_the_contract_keys(entries: list[AdvisorEntry]) -> None:
    api = entries[0].to_api()
    contract = {"street", "community", "advisor", "advisor_phone", "justice_office", "office_address",
                "office_phone", "office_hours", "sample"}
    assert contract <= api.keys()
    assert api["street"] == "城中街道" and api["community"] == "五一社区" and api["advisor"] == "韦明华"
    assert api["sample"] is True


# --- lookup ----------------------------------------------------------------------------------------------


def test_community_short_name(entries: list[AdvisorEntry]) -> None:
    assert communities(lookup(entries, "东台")) == ["东台社区"]
    assert communities(lookup(entries, "东台社区")) == ["东台社区"]


def test_former_street_name_returns_the_street(entries: list[AdvisorEntry]) -> None:
    found = lookup(entries, "水上")
    assert {e.street for e in found} == {"沿江街道"}
    assert communities(found) == ["水上社区", "沿江社区", "东堤社区"]  # the alias 水上 itself first
    assert {e.street for e in lookup(entries, "水上街道")} == {"沿江街道"}


def test_street_returns_its_communities_same_named_first(entries: list[AdvisorEntry]) -> None:
    assert communities(lookup(entries, "中南")) == ["中南社区", "弯塘社区", "八一社区"]
    assert communities(lookup(entries, "中南街道")) == ["中南社区", "弯塘社区", "八一社区"]
    assert communities(lookup(entries, "静兰")) == ["静兰社区", "环江村", "马鞍社区"]


def test_street_without_same_named_community(entries: list[AdvisorEntry]) -> None:
    assert communities(lookup(entries, "城中")) == ["五一社区", "解放社区", "三中社区"]


def test_village(entries: list[AdvisorEntry]) -> None:
    assert communities(lookup(entries, "环江")) == ["环江村"]


@pytest.mark.parametrize(("typo", "expected"), [("东苔", "东台社区"), ("东苔社区", "东台社区"), ("映衫", "映山社区")])
def test_homophone_typo(entries: list[AdvisorEntry], typo: str, expected: str) -> None:
    # 东苔 shares one character with 东台 and with 东堤 alike; only the sound (dongtai) picks 东台.
    assert communities(lookup(entries, typo))[0] == expected


def test_street_typo(entries: list[AdvisorEntry]) -> None:
    assert {e.street for e in lookup(entries, "中楠")} == {"中南街道"}


def test_justice_office_name(entries: list[AdvisorEntry]) -> None:
    assert {e.street for e in lookup(entries, "河东司法所")} == {"河东街道"}


def test_name_inside_a_sentence_longest_first(entries: list[AdvisorEntry]) -> None:
    assert communities(lookup(entries, "我住在公园街道东台社区"))[0] == "东台社区"


@pytest.mark.parametrize("query", ["", "   ", "，。"])
def test_empty_query(entries: list[AdvisorEntry], query: str) -> None:
    assert lookup(entries, query) == []


@pytest.mark.parametrize("query", ["北京", "天气怎么样", "xyz", "柳州"])
def test_unknown_query(entries: list[AdvisorEntry], query: str) -> None:
    assert lookup(entries, query) == []


def test_limit(entries: list[AdvisorEntry]) -> None:
    assert len(lookup(entries, "东")) == 5
    assert len(lookup(entries, "东", limit=2)) == 2
    assert lookup(entries, "东台", limit=0) == []
    assert lookup([], "东台") == []


@given(st.text(max_size=12))
def test_lookup_never_raises_and_respects_limit(query: str) -> None:
    found = lookup(parse_roster(SAMPLE_CSV), query, limit=3)
    assert len(found) <= 3


# --- canonical names -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "street"),
    [("水上", "沿江街道"), ("水上街道", "沿江街道"), ("中南", "中南街道"), ("中南街道", "中南街道"), ("静兰", "静兰街道"),
     ("中楠", "中南街道"), ("河东司法所", "河东街道"), ("东台", None), ("东", None), ("北京", None), ("", None)],
)
def test_canonical_street(entries: list[AdvisorEntry], text: str, street: str | None) -> None:
    assert canonical_street(entries, text) == street


@pytest.mark.parametrize(
    ("text", "community"),
    [("东台", "东台社区"), ("东苔", "东台社区"), ("环江", "环江村"), ("水上", "水上社区"), ("中南", "中南社区"),
     ("我住公园街道东台社区", "东台社区"), ("东", None), ("城中", None), ("北京", None), ("", None)],
)
def test_canonical_community(entries: list[AdvisorEntry], text: str, community: str | None) -> None:
    assert canonical_community(entries, text) == community


def test_street_aliases_point_at_roster_streets(entries: list[AdvisorEntry]) -> None:
    assert STREET_ALIASES == {"水上街道": "沿江街道", "水上": "沿江街道"}
    assert set(STREET_ALIASES.values()) <= {e.street for e in entries}
