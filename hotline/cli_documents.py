"""CLI commands for the citizens' draft papers and deadline reminders (issue 25): `hotline drafts`, `hotline reminders`.

Each opens one session, calls hotline.store.documents or hotline.documents.delivery and formats; nothing personal is
printed (drafts are listed by kind, date and channel; their content stays sealed).
"""
from __future__ import annotations

import datetime as dt
import json

import click

from hotline import clock
from hotline.cli_store import _session
from hotline.documents import delivery
from hotline.settings import get_settings
from hotline.store import documents as store

COMMANDS: list[click.Command] = []
_DATE = click.DateTime(formats=["%Y-%m-%d"])


def draft_days() -> int:
    """How long a draft is kept: HOTLINE_DRAFT_DAYS, default 30."""
    return get_settings().draft_days


def draft_cutoff(today: dt.date | None = None) -> dt.date:
    return (today or clock.today()) - dt.timedelta(days=draft_days())


@click.group("drafts")
def drafts_group() -> None:
    """Draft papers made for citizens (arbitration applications, legal-aid forms): sealed, purged after 30 days.

    Example: hotline drafts list
    """


@drafts_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
def drafts_list(as_json: bool) -> None:
    """The drafts kept, newest first: id, kind, when, channel, deadline, downloads — never their content.

    Example: hotline drafts list --json
    """
    with _session() as session:
        rows = store.list_drafts(session=session)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False))
        return
    if not rows:
        click.echo("No drafts kept.")
    for r in rows:
        click.echo(f"{r['id']:>5}  {r['kind']:<11} {r['created_at']}  {r['channel']:<8} "
                   f"deadline {r['deadline'] or '-':<10}  downloads {r['downloads']}")


@drafts_group.command("purge")
@click.option("--before", type=_DATE, help="Delete drafts made before this day; default today minus "
                                           "HOTLINE_DRAFT_DAYS (30 unless set).")
def drafts_purge(before: dt.datetime | None) -> None:
    """Delete drafts (content, personal fields and files together). `hotline purge` does this too.

    Example: hotline drafts purge --before 2026-11-01
    """
    day = before.date() if before else draft_cutoff()
    with _session() as session:
        count = store.purge_drafts(session=session, before=day)
    click.echo(f"Deleted {count} drafts made before {day.isoformat()}.")


@click.group("reminders")
def reminders_group() -> None:
    """Deadline reminders citizens agreed to (30 and 7 days before the arbitration period ends).

    Example: hotline reminders send
    """


@reminders_group.command("send")
@click.option("--today", type=_DATE, help="Act as if today were this day (YYYY-MM-DD); default: today in Liuzhou.")
def reminders_send(today: dt.datetime | None) -> None:
    """Send the reminders that are due. Run it daily (cron: `0 9 * * * hotline reminders send`); the jobs are rows
    in the database, so a restart loses none and a missed day is sent the next run, never after the deadline.

    Example: hotline reminders send
    """
    day = today.date() if today else clock.today()
    with _session() as session:
        report = delivery.send_due(session=session, today=day)
    for line in report.lines:
        click.echo(line)
    click.echo(f"Sent {report.sent}, held for WeChat {report.held}, not sent {report.failed} (as of {day.isoformat()}).")


@reminders_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
def reminders_list(as_json: bool) -> None:
    """Every reminder by its day: channel, deadline, days before, status — no chat ids, no names.

    Example: hotline reminders list
    """
    with _session() as session:
        rows = store.list_reminders(session=session)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False))
        return
    if not rows:
        click.echo("No reminders.")
    for r in rows:
        click.echo(f"{r['id']:>5}  due {r['due_on']}  {r['channel']:<8} {r['days_before']:>2} days before "
                   f"{r['deadline']}  {r['status']}")


COMMANDS.extend([drafts_group, reminders_group])
