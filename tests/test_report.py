"""The report section: docx with paragraph, table and chart; markdown with the PNG beside it; a CJK font or a clear error."""
from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from docx import Document
from PIL import Image
from sqlalchemy.orm import Session

from hotline import cli_numbers, report
from hotline.cli import main
from hotline.ledger import import_ledger
from hotline.report import NoCJKFontError, find_cjk_font, write_report
from hotline.stats import annual_stats, change, render_paragraph

SEED = Path(__file__).parent / "data" / "ledger_seed.csv"


@pytest.fixture
def seeded(session: Session) -> Session:
    import_ledger(session=session, path=SEED)
    session.commit()
    return session


def assert_png(path: Path) -> None:
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(path) as image:
        image.verify()
    with Image.open(path) as image:
        assert image.format == "PNG" and image.width > 800 and image.height > 400


def test_docx(engine: object, seeded: Session, tmp_path: Path) -> None:
    out = tmp_path / "2023统计.docx"
    result = CliRunner().invoke(main, ["report", "--year", "2023", "--out", str(out)])
    assert result.exit_code == 0, result.output
    chart = tmp_path / "2023统计_chart.png"
    assert result.output == f"wrote {out} and {chart}\n"
    assert_png(chart)

    doc = Document(str(out))
    texts = [p.text for p in doc.paragraphs]
    assert texts[0] == "2023年度法律服务工作统计"
    assert render_paragraph(annual_stats(session=seeded, year=2023)) in texts
    table = {row.cells[0].text: row.cells[1].text for row in doc.tables[0].rows}
    assert table["指标"] == "数值"
    assert table["受理农民工案件"] == "74件" and table["受理农民工案件涉及人次"] == "182人次"
    assert table["法律援助中心指派法律援助案件"] == "127件" and table["调解成功率"] == "99.87%"
    assert table["调处率"] == "100%"
    assert table["指派律师到检察院办理认罪认罚从宽案"] == "498件" and table["认罪认罚从宽案提供法律帮助"] == "538人次"
    assert table["法治宣传活动提供各类法律咨询"] == "350人次"
    assert "智能助手在线解答法律咨询" not in table  # the ledger years have no assistant rows
    # Rows in the paragraph's order: 法律援助, then 认罪认罚, then 人民调解, then 普法.
    labels = list(table)
    assert labels.index("法律援助中心指派法律援助案件") < labels.index("指派律师到检察院办理认罪认罚从宽案") \
        < labels.index("排查矛盾纠纷") < labels.index("法治宣传活动提供各类法律咨询")
    # 2022 has records: each figure stands beside last year's, with the 同比.
    before = annual_stats(session=seeded, year=2022)
    yoy = {row.cells[0].text: [c.text for c in row.cells[1:]] for row in doc.tables[0].rows}
    assert yoy["指标"] == ["数值", "上年", "同比"]
    assert yoy["指派律师到检察院办理认罪认罚从宽案"] == ["498件", f"{before['plea_leniency_cases']}件",
                                                 change(498, before["plea_leniency_cases"])]
    assert yoy["法治宣传活动提供各类法律咨询"][1:] == ["366人次", "下降4.37%"]  # 350 against 366
    assert yoy["调解成功率"][2].endswith("个百分点") or yoy["调解成功率"][2] == "持平"
    # The service table has the monthly export's labels, 件 and 人次.
    services = {row.cells[0].text: (row.cells[1].text, row.cells[2].text) for row in doc.tables[1].rows}
    assert services["认罪认罚"] == ("498", "538") and services["普法咨询"][1] == "350"
    assert services["人民调解"] == ("749", str(annual_stats(session=seeded, year=2023)["persons_by_service"]["mediation"]))
    assert len(doc.inline_shapes) == 1


def test_no_year_over_year_without_last_years_records(seeded: Session, tmp_path: Path) -> None:
    files = write_report(session=seeded, year=2022, out=tmp_path / "2022.docx")
    header = [c.text for c in Document(str(files.document)).tables[0].rows[0].cells]
    assert header == ["指标", "数值"]  # 2021 has no records


def test_markdown(seeded: Session, tmp_path: Path) -> None:
    files = write_report(session=seeded, year=2023, out=tmp_path / "section.md")
    assert files.chart == tmp_path / "section_chart.png"
    assert_png(files.chart)
    text = files.document.read_text(encoding="utf-8")
    assert text.startswith("# 2023年度法律服务工作统计\n")
    assert render_paragraph(annual_stats(session=seeded, year=2023)) in text
    assert "| 调解成功 | 748件 | " in text and "| 认罪认罚 | 498 | 538 |" in text and "![2023年各月法律服务量](section_chart.png)" in text


def test_empty_year_still_renders(session: Session, tmp_path: Path, recwarn: pytest.WarningsRecorder) -> None:
    files = write_report(session=session, year=2030, out=tmp_path / "empty.md")
    assert_png(files.chart)
    assert "排查出矛盾纠纷0件，调处0件，调解成功0件。" in files.document.read_text(encoding="utf-8")
    assert not [w for w in recwarn if issubclass(w.category, UserWarning)]


def test_unknown_output_type(engine: object, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["report", "--year", "2023", "--out", str(tmp_path / "r.pdf")])
    assert (result.exit_code, result.output) == (1, "Error: cannot write 'r.pdf': the report is a .docx or .md file\n")


def test_a_cjk_font_is_installed() -> None:
    assert "CJK" in find_cjk_font() or "WenQuanYi" in find_cjk_font()


def test_no_cjk_font_is_a_clear_error(engine: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from matplotlib import font_manager

    monkeypatch.setattr(report, "CJK_FONTS", ("No Such Font",))
    monkeypatch.setattr(font_manager, "findSystemFonts", lambda *a, **k: [])
    with pytest.raises(NoCJKFontError):
        find_cjk_font()
    result = CliRunner().invoke(main, ["report", "--year", "2023", "--out", str(tmp_path / "r.md")])
    assert result.output == ("Error: no CJK font found for the chart: install one, e.g. "
                             "apt-get install -y fonts-noto-cjk\n")


def _commands(group: list[click.Command]) -> list[click.Command]:
    found = []
    for command in group:
        found.append(command)
        if isinstance(command, click.Group):
            found += _commands(list(command.commands.values()))
    return found


@pytest.mark.parametrize("command", _commands(cli_numbers.COMMANDS), ids=lambda c: c.name)
def test_every_command_has_an_example(command: click.Command) -> None:
    assert "Example: hotline " in (command.help or "")
