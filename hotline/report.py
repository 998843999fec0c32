"""The statistics section of the bureau's annual report: heading, paragraph, key-figure table, monthly chart.

Written as .docx (python-docx, chart embedded) or .md (chart PNG beside it). The chart's Chinese labels need a
CJK font; one is chosen by name and its absence is an error, never tofu boxes.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from hotline.codes import SERVICES
from hotline.stats import annual_stats, change, format_rate, previous_year, render_paragraph

# Preferred first: Simplified-Chinese faces, then any pan-CJK face (they carry every Han glyph).
CJK_FONTS = (
    "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "SimHei",
    "Microsoft YaHei", "PingFang SC", "Noto Sans CJK JP", "Noto Sans CJK TC", "Noto Serif CJK SC",
    "Noto Serif CJK JP", "AR PL UMing CN",
)
FORMATS = (".docx", ".md")
SERVICE_COLOURS = ("#1f4e79", "#2e75b6", "#9dc3e6", "#c55a11", "#70ad47", "#ffc000", "#7030a0", "#a5a5a5")

# (stats key, label, unit) in the order the paragraph tells them.
KEY_FIGURES: tuple[tuple[str, str, str], ...] = (
    ("migrant_worker_cases", "受理农民工案件", "件"),
    ("migrant_worker_case_persons", "受理农民工案件涉及人次", "人次"),
    ("hotline_12348_consultations", "解答“12348”电话咨询", "个"),
    ("migrant_worker_visit_persons", "接待农民工来访", "人次"),
    ("advisor_consultations", "顾问律师解答居(村)民法律咨询", "件"),
    ("advisor_mediations", "顾问律师参与纠纷调解", "件"),
    ("legal_aid_assigned", "法律援助中心指派法律援助案件", "件"),
    ("plea_leniency_cases", "指派律师到检察院办理认罪认罚从宽案", "件"),
    ("plea_leniency_help_persons", "认罪认罚从宽案提供法律帮助", "人次"),
    ("disputes_found", "排查矛盾纠纷", "件"),
    ("disputes_handled", "调处矛盾纠纷", "件"),
    ("disputes_handled_rate", "调处率", "%"),
    ("disputes_mediated_success", "调解成功", "件"),
    ("mediation_success_rate", "调解成功率", "%"),
    ("publicity_consultation_persons", "法治宣传活动提供各类法律咨询", "人次"),
    ("online_consultations", "网络咨询", "件"),
    ("assistant_consultation_persons", "智能助手在线解答法律咨询", "人次"),
    ("assistant_wage_persons", "其中讨薪", "人次"),
    ("records_total", "全部服务记录", "件"),
)
ASSISTANT_KEYS = ("assistant_consultation_persons", "assistant_wage_persons")
HEADERS = ("指标", "数值")
HEADERS_YOY = ("指标", "数值", "上年", "同比")


@dataclass(frozen=True)
class FigureRow:
    key: str
    label: str
    value: str
    previous: str | None  # None when the previous year has no records (no 同比 then)
    change: str | None


def figure_rows(stats: dict[str, Any], previous: dict[str, Any] | None) -> list[FigureRow]:
    """The key-figure table: each figure, and beside it last year's and the 同比 when last year has records.

    The assistant's rows appear only when it answered someone in one of the two years, as in the paragraph.
    """
    rows = []
    for key, label, unit in KEY_FIGURES:
        if key in ASSISTANT_KEYS and not stats["assistant_consultations"] and not (
                previous and previous["assistant_consultations"]):
            continue
        before = None if previous is None else format_figure(previous, key, unit)
        moved = None if previous is None else change(stats[key], previous[key], rate=unit == "%")
        rows.append(FigureRow(key, label, format_figure(stats, key, unit), before, moved))
    return rows


def service_rows(stats: dict[str, Any]) -> list[tuple[str, int, int]]:
    """(服务类型, 件数, 人次) in the order and with the labels of the monthly export's first table."""
    order = {code: i for i, code in enumerate(SERVICES)}
    codes = sorted(stats["by_service"], key=lambda code: (order.get(code, len(order)), code))
    return [(SERVICES.get(code, code), stats["by_service"][code], stats["persons_by_service"].get(code, 0))
            for code in codes]


class ReportError(ValueError):
    """The report cannot be written (unknown output type, no CJK font)."""


class NoCJKFontError(ReportError):
    def __init__(self) -> None:
        super().__init__("no CJK font found for the chart: install one, e.g. apt-get install -y fonts-noto-cjk")


@dataclass(frozen=True)
class ReportFiles:
    document: Path
    chart: Path


def find_cjk_font() -> str:
    """The family name of an installed CJK font matplotlib can use; raises NoCJKFontError if there is none."""
    from matplotlib import font_manager

    def known() -> set[str]:
        return {f.name for f in font_manager.fontManager.ttflist}

    names = known()
    if not any(name in names for name in CJK_FONTS):
        # Fonts installed after matplotlib built its cache are not listed yet: register them.
        for path in font_manager.findSystemFonts():
            if any(tag in Path(path).name.lower() for tag in ("cjk", "wqy", "sourcehan", "simhei", "yahei")):
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):
                    continue
        names = known()
    for name in CJK_FONTS:
        if name in names:
            return name
    raise NoCJKFontError()


def format_figure(stats: dict[str, Any], key: str, unit: str) -> str:
    value = stats[key]
    if unit == "%":
        return "—" if value is None else f"{format_rate(value)}%"
    return f"{value}{unit}"


def render_chart(stats: dict[str, Any], out: Path) -> Path:
    """A bar chart of the records per month, stacked by service, with Chinese labels; written as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    font = find_cjk_font()
    months = list(stats["by_month"])
    with plt.rc_context({"font.family": "sans-serif", "font.sans-serif": [font, "DejaVu Sans"],
                         "axes.unicode_minus": False}):
        fig, ax = plt.subplots(figsize=(9, 4.8), dpi=150)
        bottom = [0] * len(months)
        for code, colour in zip(SERVICES, SERVICE_COLOURS, strict=True):  # a colour for each service
            values = [stats["by_month_service"][m].get(code, 0) for m in months]
            if any(values):
                ax.bar(range(12), values, bottom=bottom, color=colour, label=SERVICES[code], width=0.7)
                bottom = [b + v for b, v in zip(bottom, values, strict=True)]
        for x, total in enumerate(bottom):
            if total:
                ax.text(x, total, str(total), ha="center", va="bottom", fontsize=8)
        ax.set_xticks(range(12), [f"{int(m)}月" for m in months])
        ax.set_xlim(-0.6, 11.6)
        ax.set_ylabel("件数")
        ax.set_title(f"{stats['year']}年各月法律服务量（按服务类型）")
        ax.spines[["top", "right"]].set_visible(False)
        if any(bottom):
            ax.legend(ncol=3, fontsize=8, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.08))
        else:
            ax.set_ylim(0, 1)
            ax.set_yticks([])
            ax.text(5.5, 0.5, "本年度无记录", ha="center", va="center", fontsize=14, color="#888888")
        fig.tight_layout()
        fig.savefig(out, format="png")
        plt.close(fig)
    return out


def heading(year: int) -> str:
    return f"{year}年度法律服务工作统计"


def _write_markdown(stats: dict[str, Any], previous: dict[str, Any] | None, out: Path, chart: Path) -> None:
    rows = figure_rows(stats, previous)
    headers = HEADERS if previous is None else HEADERS_YOY
    lines = [f"# {heading(stats['year'])}", "", render_paragraph(stats), "",
             "| " + " | ".join(headers) + " |", "|---" + "|---:" * (len(headers) - 1) + "|"]
    for r in rows:
        cells = (r.label, r.value) if previous is None else (r.label, r.value, r.previous, r.change)
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    lines += ["", "| 服务类型 | 件数 | 人次 |", "|---|---:|---:|"]
    lines += [f"| {label} | {n} | {p} |" for label, n, p in service_rows(stats)]
    lines += ["", f"![{stats['year']}年各月法律服务量]({chart.name})", ""]
    out.write_text("\n".join(lines), encoding="utf-8")


def _docx_table(doc: Any, headers: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    table = doc.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, headers, strict=True):
        cell.text = ""
        cell.paragraphs[0].add_run(text).bold = True
    for row in rows:
        cells = table.add_row().cells
        for i, value in enumerate(row):
            cells[i].text = str(value)
            if i:
                cells[i].paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT


def _write_docx(stats: dict[str, Any], previous: dict[str, Any] | None, out: Path, chart: Path) -> None:
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.size = Pt(12)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "宋体")  # Word otherwise picks a Latin font for 中文
    doc.add_heading(heading(stats["year"]), level=1)
    doc.add_paragraph(render_paragraph(stats))
    rows = figure_rows(stats, previous)
    if previous is None:
        _docx_table(doc, HEADERS, [(r.label, r.value) for r in rows])
    else:
        _docx_table(doc, HEADERS_YOY, [(r.label, r.value, r.previous, r.change) for r in rows])
    doc.add_paragraph()
    _docx_table(doc, ("服务类型", "件数", "人次"), service_rows(stats))
    doc.add_paragraph()
    doc.add_picture(str(chart), width=Cm(16))
    caption = doc.add_paragraph(f"图：{stats['year']}年各月法律服务量（按服务类型）")
    caption.alignment = WD_ALIGN_PARAGRAPH.CENTER
    doc.save(str(out))


def write_report(*, session: Session, year: int, out: Path) -> ReportFiles:
    """Write the statistics section for `year` to out (.docx or .md) and its chart PNG beside it."""
    suffix = out.suffix.lower()
    if suffix not in FORMATS:
        raise ReportError(f"cannot write '{out.name}': the report is a .docx or .md file")
    stats = annual_stats(session=session, year=year)
    previous = previous_year(session=session, year=year)
    chart = render_chart(stats, out.with_name(f"{out.stem}_chart.png"))
    (_write_docx if suffix == ".docx" else _write_markdown)(stats, previous, out, chart)
    return ReportFiles(document=out, chart=chart)
