"""The advisor network's year (一村（社区）一法律顾问): per street and community, its advisor, the consultations and
mediations its advisor logged in the year and by month, the communities with none, and the coverage figure.

The roster (table advisors) says which communities exist and who advises each; the consultation log (service
advisor) says what they did. Log rows whose place is not in the roster keep their own line ("名册外", or
"未填写" without a place), so every sheet adds up and the totals equal `hotline stats` (advisor_consultations,
advisor_mediations).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import extract, func, select
from sqlalchemy.orm import Session

from hotline.directory import STREET_ALIASES
from hotline.stats import format_rate, percent, period
from hotline.store.models import Advisor, Consultation

MISSING = "未填写"
MONTHS = tuple(f"{m:02d}" for m in range(1, 13))
NOTE_IDLE = "全年无咨询"
NOTE_OFF_ROSTER = "名册外"
NOTE_NO_PLACE = "未填写村（社区）"
NOTE_NO_ADVISOR = "未配备顾问"

_c = Consultation.__table__.c


@dataclass
class CommunityLine:
    street: str
    community: str
    advisor: str | None = None
    advisor_firm: str | None = None
    in_roster: bool = True
    consultations: int = 0
    mediations: int = 0
    by_month: dict[str, int] = field(default_factory=lambda: dict.fromkeys(MONTHS, 0))

    @property
    def note(self) -> str:
        notes = []
        if not self.in_roster:
            notes.append(NOTE_NO_PLACE if self.community == MISSING else NOTE_OFF_ROSTER)
        elif not self.advisor:
            notes.append(NOTE_NO_ADVISOR)
        if self.in_roster and not self.consultations:
            notes.append(NOTE_IDLE)
        return "；".join(notes)


@dataclass
class StreetBlock:
    street: str
    lines: list[CommunityLine]

    @property
    def consultations(self) -> int:
        return sum(line.consultations for line in self.lines)

    @property
    def mediations(self) -> int:
        return sum(line.mediations for line in self.lines)

    @property
    def by_month(self) -> dict[str, int]:
        return {m: sum(line.by_month[m] for line in self.lines) for m in MONTHS}

    @property
    def communities(self) -> int:
        return sum(1 for line in self.lines if line.in_roster)

    @property
    def with_advisor(self) -> int:
        return sum(1 for line in self.lines if line.in_roster and line.advisor)

    @property
    def idle(self) -> list[str]:
        return [line.community for line in self.lines if line.in_roster and not line.consultations]


@dataclass
class AdvisorReport:
    year: int
    streets: list[StreetBlock]

    @property
    def communities(self) -> int:
        return sum(block.communities for block in self.streets)

    @property
    def with_advisor(self) -> int:
        return sum(block.with_advisor for block in self.streets)

    @property
    def coverage(self) -> float | None:
        """Communities with an advisor in the roster over all the roster's communities, in %."""
        return percent(self.with_advisor, self.communities)

    @property
    def consultations(self) -> int:
        return sum(block.consultations for block in self.streets)

    @property
    def mediations(self) -> int:
        return sum(block.mediations for block in self.streets)

    @property
    def idle(self) -> list[tuple[str, str]]:
        return [(block.street, name) for block in self.streets for name in block.idle]

    def to_dict(self) -> dict[str, Any]:
        return {
            "year": self.year,
            "communities": self.communities,
            "communities_with_advisor": self.with_advisor,
            "coverage": self.coverage,
            "advisor_consultations": self.consultations,
            "advisor_mediations": self.mediations,
            "idle_communities": [{"street": s, "community": c} for s, c in self.idle],
            "summary": summary(self),
            "streets": [
                {
                    "street": b.street, "communities": b.communities, "with_advisor": b.with_advisor,
                    "consultations": b.consultations, "mediations": b.mediations, "by_month": b.by_month,
                    "idle": b.idle,
                    "lines": [
                        {"community": line.community, "advisor": line.advisor, "advisor_firm": line.advisor_firm,
                         "in_roster": line.in_roster, "consultations": line.consultations,
                         "mediations": line.mediations, "by_month": line.by_month, "note": line.note}
                        for line in b.lines
                    ],
                }
                for b in self.streets
            ],
        }


def advisor_report(*, session: Session, year: int) -> AdvisorReport:
    """The advisor network's figures for `year` from the stored roster and the consultation log."""
    start, end = period(year)
    blocks: dict[str, dict[str, CommunityLine]] = {}
    for a in session.scalars(select(Advisor).order_by(Advisor.id)):
        blocks.setdefault(a.street, {})[a.community] = CommunityLine(a.street, a.community, a.advisor, a.advisor_firm)
    roster_streets = list(blocks)

    month = extract("month", _c.occurred_at)
    mediated = _c.outcome == "mediated"
    query = (
        select(_c.street, _c.community, month, mediated, func.count())
        .where(_c.service == "advisor", _c.occurred_at >= start, _c.occurred_at < end)
        .group_by(_c.street, _c.community, month, mediated)
    )
    for street, community, mon, is_mediation, n in session.execute(query):
        street_name = STREET_ALIASES.get(street or "", street) or MISSING
        lines = blocks.setdefault(street_name, {})
        name = community or MISSING
        line = lines.get(name)
        if line is None:
            line = lines[name] = CommunityLine(street_name, name, in_roster=False)
        line.consultations += int(n)
        line.by_month[f"{int(mon):02d}"] += int(n)
        if is_mediation:
            line.mediations += int(n)
    # The roster's streets in its order, then streets only the log names, then rows without a street.
    order = roster_streets + sorted(s for s in blocks if s not in roster_streets and s != MISSING)
    order += [MISSING] if MISSING in blocks else []
    return AdvisorReport(year, [StreetBlock(s, list(blocks[s].values())) for s in order])


def summary(report: AdvisorReport) -> str:
    """One paragraph in the report's words: coverage, the year's work, the communities without any consultation."""
    r = report
    if r.communities:
        cover = (f"{r.communities}个村（社区）中{r.with_advisor}个配备法律顾问，"
                 f"「一村（社区）一法律顾问」覆盖率{format_rate(r.coverage or 0.0)}%")
        if r.with_advisor == r.communities:
            cover += "，实现全覆盖"
    else:
        cover = "法律顾问名册为空（先导入：hotline directory import）"
    idle = "、".join(f"{s}{c}" for s, c in r.idle) or "无"
    return (f"{r.year}年，{cover}；顾问律师共解答居(村)民法律咨询{r.consultations}件，参与纠纷调解{r.mediations}件；"
            f"全年无咨询的村（社区）：{idle}。")


def render_text(report: AdvisorReport) -> str:
    """The console form of the report: the summary, then each street and its communities."""
    out = [summary(report), ""]
    for block in report.streets:
        out.append(f"{block.street}：咨询{block.consultations}件，调解{block.mediations}件")
        for line in block.lines:
            months = " ".join(str(line.by_month[m]) for m in MONTHS)
            note = f"（{line.note}）" if line.note else ""
            out.append(f"  {line.community} {line.advisor or '—'}：咨询{line.consultations}件，"
                       f"调解{line.mediations}件；1-12月 {months}{note}")
    return "\n".join(out)


def _sheet_name(name: str, taken: set[str]) -> str:
    """An Excel sheet name: at most 31 characters, none of []:*?/\\, unique in the book."""
    clean = "".join("_" if ch in "[]:*?/\\" else ch for ch in name)[:31] or MISSING
    candidate, n = clean, 2
    while candidate in taken:
        candidate = f"{clean[:28]}({n})"
        n += 1
    taken.add(candidate)
    return candidate


def write_xlsx(report: AdvisorReport, out: Path) -> None:
    """汇总 first (coverage, per street), then one sheet per street: its communities, advisor, 咨询/调解 and each
    month, a 备注 for communities without any consultation, and a bold 合计 row."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    bold, shade, idle = Font(bold=True), PatternFill("solid", fgColor="DDEBF7"), PatternFill("solid", fgColor="FCE4D6")
    book = Workbook()
    first = book.worksheets[0]  # a new book's one sheet: the summary
    taken: set[str] = set()

    def header(sheet: Any, title: str, headers: list[str]) -> None:
        sheet.append([title])
        sheet["A1"].font = Font(bold=True, size=13)
        sheet.append(headers)
        for cell in sheet[sheet.max_row]:
            cell.font, cell.fill = bold, shade
            cell.alignment = Alignment(horizontal="center")

    def widths(sheet: Any) -> None:
        for col in sheet.iter_cols(min_row=2):
            text = [str(c.value) for c in col if c.value is not None]
            width = max((sum(2 if ord(ch) > 0x2E80 else 1 for ch in t) for t in text), default=4)
            sheet.column_dimensions[get_column_letter(col[0].column)].width = min(60, max(6, width + 2))

    first.title = _sheet_name("汇总", taken)
    header(first, f"{report.year}年「一村（社区）一法律顾问」工作统计",
           ["街道", "村（社区）数", "配备法律顾问", "咨询件数", "调解件数", "全年无咨询的村（社区）"])
    for block in report.streets:
        first.append([block.street, block.communities, block.with_advisor, block.consultations, block.mediations,
                      "、".join(block.idle)])
    first.append(["合计", report.communities, report.with_advisor, report.consultations, report.mediations,
                  f"{len(report.idle)}个"])
    for cell in first[first.max_row]:
        cell.font = bold
    first.append([])
    first.append([summary(report)])
    first.freeze_panes = "A3"
    widths(first)
    first.column_dimensions["A"].width = 14

    month_heads = [f"{int(m)}月" for m in MONTHS]
    for block in report.streets:
        sheet = book.create_sheet(_sheet_name(block.street, taken))
        header(sheet, f"{report.year}年 {block.street} 法律顾问工作统计",
               ["村（社区）", "法律顾问", "律师事务所", "咨询件数", "调解件数", *month_heads, "备注"])
        for line in block.lines:
            sheet.append([line.community, line.advisor or "", line.advisor_firm or "", line.consultations,
                          line.mediations, *(line.by_month[m] for m in MONTHS), line.note])
            if line.note:
                for cell in sheet[sheet.max_row]:
                    cell.fill = idle
        sheet.append(["合计", "", "", block.consultations, block.mediations,
                      *(block.by_month[m] for m in MONTHS), ""])
        for cell in sheet[sheet.max_row]:
            cell.font = bold
        sheet.freeze_panes = "B3"
        widths(sheet)
    book.save(out)
