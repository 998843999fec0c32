"""CLI commands for the bureau's numbers: ledger import, stats, export, report.

Each command opens one session, calls one core function and formats; core errors become one ClickException.
"""
from __future__ import annotations

import json
from pathlib import Path

import click

from hotline.advisor_report import advisor_report, render_text
from hotline.advisor_report import write_xlsx as write_advisor_xlsx
from hotline.cli_store import _session  # one unit of work and one database error message for every command
from hotline.export import FORMATS, ExportError, month_export, write_export
from hotline.ledger import LedgerError, LedgerFileError, import_ledger
from hotline.report import ReportError, write_report
from hotline.stats import StatsError, annual_stats, render_paragraph


@click.group("ledger")
def ledger() -> None:
    """The bureau's historical ledger (CSV).

    Example: hotline ledger import 台账2023.csv --dry-run
    """


@ledger.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Validate and count only; write nothing.")
def ledger_import(file: Path, dry_run: bool) -> None:
    """Import a ledger CSV: all rows or none; every bad row is reported as `line N: why`.

    Columns: id,date,service,category,migrant_worker,persons,street,community,outcome,amount,summary.
    Rows already imported (same id) are skipped, so importing a file twice adds nothing.

    Example: hotline ledger import tests/data/ledger_seed.csv
    """
    try:
        with _session() as session:
            result = import_ledger(session=session, path=file, dry_run=dry_run)
    except LedgerFileError as exc:
        raise click.ClickException(f"{file.name}: {exc}, nothing written") from None
    except LedgerError as exc:
        count = len(exc.problems)
        raise click.ClickException(
            f"{file.name}: {count} bad row{'s' if count > 1 else ''}, nothing written\n{exc}"
        ) from None
    verb = "would add" if dry_run else "added"
    click.echo(f"read {result.read} rows: {verb} {result.new}, already present {result.already_present}")


@click.command("stats")
@click.option("--year", type=int, required=True, help="Calendar year of the records.")
@click.option("--json", "as_json", is_flag=True, help="Print every figure as one JSON object.")
def stats(year: int, as_json: bool) -> None:
    """The annual figures; without --json, the report paragraph in the bureau's wording.

    Example: hotline stats --year 2023 --json
    """
    try:
        with _session() as session:
            figures = annual_stats(session=session, year=year)
    except StatsError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(json.dumps(figures, ensure_ascii=False, indent=2) if as_json else render_paragraph(figures))


@click.command("export")
@click.option("--month", required=True, help="Month as YYYY-MM.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), required=True, help="csv or xlsx.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="File to write.")
def export(month: str, fmt: str, out: Path) -> None:
    """Monthly counts (件, 人次) by service × category, by street and by channel. Counts only.

    Example: hotline export --month 2023-03 --format xlsx --out 2023-03.xlsx
    """
    try:
        with _session() as session:
            tables = month_export(session=session, month=month)
        write_export(tables, out, fmt)
    except ExportError as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(f"cannot write {out}: {exc.strerror}") from None
    click.echo(f"wrote {out} ({tables.label}, {tables.tables[0].total[-2]} records)")


@click.command("report")
@click.option("--year", type=int, required=True, help="Calendar year of the records.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="FILE.docx or FILE.md; the chart PNG is written beside it.")
def report(year: int, out: Path) -> None:
    """The statistics section of the annual report: heading, paragraph, key figures, monthly chart.

    Example: hotline report --year 2023 --out 2023统计.docx
    """
    try:
        with _session() as session:
            files = write_report(session=session, year=year, out=out)
    except (ReportError, StatsError) as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(f"cannot write {out}: {exc.strerror}") from None
    click.echo(f"wrote {files.document} and {files.chart}")


@click.group("advisors")
def advisors() -> None:
    """The advisor network (一村（社区）一法律顾问): the roster against the year's consultations.

    Example: hotline advisors report --year 2023 --out 顾问2023.xlsx
    """


@advisors.command("report")
@click.option("--year", type=int, required=True, help="Calendar year of the records.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write FILE.xlsx: one sheet per street.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
def advisors_report(year: int, out: Path | None, as_json: bool) -> None:
    """Per street and community: its advisor, consultations and mediations in the year and by month, communities
    with none, and the coverage of the roster (communities with an advisor over all communities).

    Totals equal `hotline stats` (advisor_consultations, advisor_mediations); log rows whose place is not in the
    roster keep a line of their own.

    Example: hotline advisors report --year 2023 --out 顾问2023.xlsx
    """
    if out is not None and out.suffix.lower() != ".xlsx":
        raise click.ClickException(f"cannot write '{out.name}': the advisor report is an .xlsx file")
    try:
        with _session() as session:
            network = advisor_report(session=session, year=year)
        if out is not None:
            write_advisor_xlsx(network, out)
    except StatsError as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(f"cannot write {out}: {exc.strerror}") from None
    if as_json:
        click.echo(json.dumps(network.to_dict(), ensure_ascii=False, indent=2))
    elif out is not None:
        click.echo(f"wrote {out} ({len(network.streets)} streets, {network.consultations} consultations)")
    else:
        click.echo(render_text(network))


COMMANDS: list[click.Command] = [ledger, stats, export, report, advisors]
