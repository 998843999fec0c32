"""CLI commands over the store: db, directory, consultations, operators, purge.

Each command opens one session, calls the store (hotline/store/) and formats; library errors become one-line
click.ClickException messages here and nowhere else.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timezone
from pathlib import Path

import click
from sqlalchemy import inspect
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from hotline import clock, codes, outbox, retention
from hotline.consultation_record import InvalidConsultation
from hotline.directory import RosterError, parse_roster
from hotline.store import consultations, directory, migrate, operators, purge
from hotline.store.db import get_engine, session_scope
from hotline.store.errors import StoreError

COMMANDS: list[click.Command] = []
_DATE = click.DateTime(formats=["%Y-%m-%d"])


@contextmanager
def _session() -> Iterator[Session]:
    """One committed unit of work; database and store errors as one clear line."""
    try:
        with session_scope() as session:
            yield session
    except (StoreError, InvalidConsultation) as exc:
        raise click.ClickException(str(exc)) from exc
    except (OperationalError, ProgrammingError) as exc:
        if not inspect(get_engine()).has_table("consultations"):
            raise click.ClickException(
                f"the database at {migrate.display_url()} has no tables yet: run `hotline db upgrade` first"
            ) from exc
        raise click.ClickException(f"database error: {str(exc.orig).splitlines()[0]}") from exc


# --- db --------------------------------------------------------------------------------------------------


@click.group("db")
def db_group() -> None:
    """The database schema (Alembic migrations shipped with the package).

    Example: hotline db upgrade
    """


@db_group.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database (HOTLINE_DATABASE_URL) to the newest revision; safe to run again.

    Example: hotline db upgrade
    """
    revision = _migrate(migrate.upgrade)
    click.echo(f"Database {migrate.display_url()} is at revision {revision} (head).")


@db_group.command("downgrade")
@click.argument("revision", default="-1")
def db_downgrade(revision: str) -> None:
    """Migrate the database down to REVISION (default: one step back; "base" drops every table).

    Example: hotline db downgrade base
    """
    now = _migrate(migrate.downgrade, revision)
    click.echo(f"Database {migrate.display_url()} is at revision {now or 'base'}.")


def _migrate(step: Callable[..., str | None], *args: str) -> str | None:
    try:
        return step(None, *args)
    except (OperationalError, ProgrammingError) as exc:
        raise click.ClickException(f"database error: {str(exc.orig).splitlines()[0]}") from exc
    except Exception as exc:  # Alembic's CommandError and friends: bad revision names and the like
        if type(exc).__module__.startswith("alembic"):
            raise click.ClickException(str(exc)) from exc
        raise


# --- directory -------------------------------------------------------------------------------------------


@click.group("directory")
def directory_group() -> None:
    """The 一村（社区）一法律顾问 roster.

    Example: hotline directory import data/directory_sample.csv
    """


@directory_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def directory_import(file: Path) -> None:
    """Load the roster CSV (UTF-8 with or without BOM, or Excel's GB18030); all or nothing.

    Rows are matched on (street, community): a changed advisor replaces the old one. Loading a real roster
    removes the sample entries.

    Example: hotline directory import data/directory_sample.csv
    """
    try:
        entries = parse_roster(_read_text(file))
    except RosterError as exc:
        raise click.ClickException(f"{file.name}: {exc}") from exc
    try:
        with _session() as session:
            count = directory.import_directory(session=session, entries=entries)
    except click.ClickException as exc:
        # `make run` loads the sample roster every time: once the real one is in, keeping it is success.
        if isinstance(exc.__cause__, directory.SampleOverRealRoster):
            click.echo(f"Kept the bureau's roster: {file.name} is sample data and was not loaded.")
            return
        raise
    streets = len({e.street for e in entries})
    click.echo(f"Imported {count} advisor entries in {streets} streets from {file.name}.")
    if any(e.sample for e in entries):
        click.echo("This is SAMPLE data (示例): the advisors and offices are invented; load the bureau's roster "
                   "before going live.")


@directory_group.command("find")
@click.argument("query")
@click.option("--limit", default=5, show_default=True, help="At most this many entries.")
def directory_find(query: str, limit: int) -> None:
    """Look up advisors by street, community, alias or a near spelling, best match first.

    Example: hotline directory find 东台
    """
    with _session() as session:
        found = directory.find_advisors(session=session, query=query, limit=limit)
    if not found:
        raise click.ClickException(f"no street or community matches {query!r}")
    for entry in found:
        sample = "  [示例]" if entry.sample else ""
        click.echo(f"{entry.street} {entry.community}: {entry.advisor or '-'} {entry.advisor_phone or ''} · "
                   f"{entry.justice_office or '-'} {entry.office_phone or ''}{sample}")


def _read_text(file: Path) -> str:
    data = file.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")  # what Excel on a Chinese Windows writes as "CSV"
    except UnicodeDecodeError:
        raise click.ClickException(f"{file.name}: not UTF-8 or GB18030 text; save it as CSV UTF-8") from None


# --- consultations ---------------------------------------------------------------------------------------


@click.group("consultations")
def consultations_group() -> None:
    """The consultation log (CONTRACT §5).

    Example: hotline consultations list --since 2024-01-01 --json
    """


@consultations_group.command("list")
@click.option("--since", type=_DATE, help="Only consultations on or after this day (YYYY-MM-DD, UTC).")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many, newest first.")
@click.option("--json", "as_json", is_flag=True, help="A JSON list of objects keyed by the §5 column names.")
def consultations_list(since: datetime | None, limit: int | None, as_json: bool) -> None:
    """The consultation log, newest first; phone numbers are masked.

    Example: hotline consultations list --since 2024-01-01 --json
    """
    with _session() as session:
        rows = [
            consultations.consultation_to_dict(c)
            for c in consultations.list_consultations(session=session, since=since.date() if since else None,
                                                      limit=limit)
        ]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo("No consultations.")
        return
    columns = ("id", "occurred_at", "service", "channel", "category", "persons", "street", "outcome", "amount", "phone")
    click.echo("\t".join(columns))
    for row in rows:
        row["service"] = codes.SERVICES.get(row["service"], row["service"])
        click.echo("\t".join(_cell(row[key]) for key in columns))


def _cell(value: object) -> str:
    return "-" if value is None else str(value)


# --- operators -------------------------------------------------------------------------------------------


@click.group("operators")
def operators_group() -> None:
    """Copilot logins for hotline operators.

    Example: hotline operators add wang.li
    """


@operators_group.command("add")
@click.argument("name")
@click.option("--display-name", default=None, help="What citizens see when this operator answers, e.g. 黄律师.")
def operators_add(name: str, display_name: str | None) -> None:
    """Create the copilot login NAME; its one-time password is printed alone on the last line.

    Example: hotline operators add wang.li --display-name 王律师
    """
    with _session() as session:
        password = operators.create_operator(session=session, username=name, display_name=display_name)
    click.echo(f"Created operator {name}. Give them this password once; it is not stored and cannot be shown again:")
    click.echo(password)


@operators_group.command("display-name")
@click.argument("name")
@click.argument("display_name", required=False)
def operators_display_name(name: str, display_name: str | None) -> None:
    """Set what citizens see when operator NAME answers (「值班人员 · DISPLAY_NAME」); without it, clear it.

    Example: hotline operators display-name wang.li 王律师
    """
    with _session() as session:
        operators.set_display_name(session=session, username=name, display_name=display_name)
    click.echo(f"{name}: {display_name or '（不显示姓名）'}")


# --- purge -----------------------------------------------------------------------------------------------


@click.command("purge")
@click.option("--before", type=_DATE,
              help="Purge what is dated before this day (YYYY-MM-DD); default: today minus HOTLINE_RETENTION_DAYS "
                   f"({retention.DEFAULT_RETENTION_DAYS} unless set).")
def purge_command(before: datetime | None) -> None:
    """Clear what citizens said before a day: the log's summaries, phone numbers and sender hashes (the counts
    stay), the chat transcripts, the handoffs' summaries and contact details, and Rasa's tracker store
    (HOTLINE_TRACKER_STORE_URL, the conversations as Rasa keeps them). Draft papers go after HOTLINE_DRAFT_DAYS
    (30) whatever the day given, and deadline reminders once their deadline has passed.

    Example: hotline purge --before 2023-01-01
    """
    day = before.date() if before else retention.default_cutoff()
    if day > clock.today():
        raise click.ClickException(f"--before {day.isoformat()} is in the future")
    with _session() as session:
        count = purge.purge_consultations(session=session, before=day)
        transcripts = purge.purge_transcripts(session=session, before=day)
        drafts, reminders = _purge_documents(session, day)
    click.echo(f"Purged {count} consultations dated before {day.isoformat()}.")
    click.echo(f"Deleted {drafts[0]} draft papers made before {drafts[1].isoformat()} and {reminders} reminders whose "
               "deadline had passed.")
    click.echo(f"Deleted {transcripts.messages_deleted} transcript lines; cleared {transcripts.handoffs_cleared} "
               "handoffs.")
    url = retention.tracker_store_url()
    if url is None:
        click.echo("Rasa tracker store: none configured (HOTLINE_TRACKER_STORE_URL unset, no var/rasa_tracker.db).")
        return
    try:
        events = purge.purge_tracker_store(url=url, before=day)
    except (OperationalError, ProgrammingError) as exc:
        raise click.ClickException(f"Rasa tracker store: database error: {str(exc.orig).splitlines()[0]}") from exc
    if events is None:
        click.echo("Rasa tracker store: no events table yet (Rasa has not run), nothing to purge.")
    else:
        click.echo(f"Deleted {events} Rasa tracker events dated before {day.isoformat()}.")


def _purge_documents(session: Session, day: date) -> tuple[tuple[int, date], int]:
    """Drafts go after HOTLINE_DRAFT_DAYS (30) even when --before is older; reminders once their deadline passed."""
    from hotline.cli_documents import draft_cutoff
    from hotline.store import documents

    cut = max(day, draft_cutoff())
    today = clock.today()  # a reminder's deadline is a Liuzhou day
    return ((documents.purge_drafts(session=session, before=cut), cut),
            documents.purge_reminders(session=session, before=today))


# --- outbox ----------------------------------------------------------------------------------------------


@click.group("outbox")
def outbox_group() -> None:
    """Consultations that waited while the database was down (hotline/outbox.py).

    Example: hotline outbox flush
    """


@outbox_group.command("status")
def outbox_status() -> None:
    """How many consultations wait to be written, and any the store refused (kept, not dropped).

    Example: hotline outbox status
    """
    box = outbox.Outbox()
    waiting, aside = box.items(), box.items(dead=True)
    click.echo(f"{len(waiting)} consultations waiting in {box.path}.")
    if waiting:
        oldest = datetime.fromtimestamp(waiting[0].queued_at, timezone.utc)
        click.echo(f"Oldest queued {oldest:%Y-%m-%d %H:%M} UTC; last error: {waiting[0].last_error or '-'}")
    for item in aside:
        click.echo(f"set aside: {item.source_id}: {item.last_error}")


@outbox_group.command("flush")
def outbox_flush() -> None:
    """Write the waiting consultations now, oldest first; each once, however often this runs.

    Example: hotline outbox flush
    """
    result = outbox.Outbox().flush()
    message = f"Wrote {result.written} consultations; {result.remaining} waiting."
    if result.dead:
        message += f" {result.dead} set aside as invalid (see hotline outbox status)."
    if result.remaining:
        raise click.ClickException(f"{message[:-1]}: {result.remaining} consultations still waiting "
                                   f"(database: {result.error})")
    click.echo(message)


COMMANDS.extend([db_group, directory_group, consultations_group, operators_group, purge_command, outbox_group])
