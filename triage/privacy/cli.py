"""`ehc-triage retention`, `sar` and `erase`: the data protection commands (registered by triage.cli)."""

from __future__ import annotations

from pathlib import Path

import click

from .. import reports
from ..cli_options import Context, actor_option
from ..service import open_store
from . import erasure, retention, subject_access


@click.group("retention")
def retention_group() -> None:
    """Delete closed items' personal data after [retention] closed_months; report items never closed."""


@retention_group.command("run")
@click.option("--dry-run", is_flag=True, help="Only say what would be deleted.")
@actor_option("applying retention")
@click.pass_obj
def retention_run(obj: Context, dry_run: bool, actor: str) -> None:
    """Apply the retention period now (the scheduled job's function)."""
    report = retention.apply_retention(obj.settings, open_store(obj.settings), dry_run=dry_run, actor=actor)
    for line in retention.report_lines(report):
        click.echo(line)


@click.group("sar")
def sar_group() -> None:
    """Subject access requests: find and export everything held about one person."""


def _person_options(command: click.Command) -> click.Command:
    for option in reversed((
        click.option("--address", required=True, help="The person's email address (their messages are certain)."),
        click.option("--name", default="",
                     help="Their name, or the child's: messages mentioning it are shown to confirm."),
        click.option("--reference", default="", help="A case reference: messages with it are shown to confirm."),
    )):
        command = option(command)
    return command


@sar_group.command("search")
@_person_options
@click.pass_obj
def sar_search(obj: Context, address: str, name: str, reference: str) -> None:
    """List the messages from the address, then the candidates found by name, reference or address in the text."""
    for f in subject_access.search(open_store(obj.settings), address, name, reference):
        click.echo(reports.visible(_found_line(f)))


@sar_group.command("export")
@_person_options
@click.option("--include", "include", type=int, multiple=True,
              help="A candidate message ID (from `sar search`) confirmed as theirs; without it each is asked.")
@click.option("--received", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="When the request was received (default today): the one-month clock starts then.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="The zip file to write.")
@actor_option("making the export")
@click.pass_obj
def sar_export(obj: Context, address: str, name: str, reference: str, include: tuple[int, ...],
               received: object, out: Path, actor: str) -> None:
    """Write everything held about the person (HTML index, original .eml files, data.json) to a zip."""
    store = open_store(obj.settings)
    chosen = []
    for f in subject_access.search(store, address, name, reference):
        if f.why == "from" or f.message_id in include:
            chosen.append(f.message_id)
        elif click.confirm(reports.visible(f"Include {_found_line(f)}?"), default=False, err=True):
            chosen.append(f.message_id)
    day = received.date() if received is not None else None  # type: ignore[attr-defined]
    done = subject_access.export_to(out, store, address, chosen, actor, name=name, received=day)
    click.echo(f"wrote {out}: {len(done.messages)} message(s); the answer is due by {done.due:%A %d %B %Y} "
               f"(by {done.extended_due:%A %d %B %Y} if extended as complex)")


def _found_line(f: subject_access.Found) -> str:
    item = f"item {f.item_id} ({f.reference})" if f.item_id else "recorded only"
    return (f"message {f.message_id}, {item}, {f.received_at:%Y-%m-%d}, from {f.from_name} <{f.from_address}>: "
            f"{f.subject!r} [{f.why}]")


@click.command("erase")
@click.option("--item", "item_id", type=int, required=True, help="The queue item whose message to erase.")
@click.option("--reason", required=True, help="Who asked, when, and on what ground (kept in the tombstone event).")
@click.option("--as", "actor", required=True, help="Your supervisor or admin account name.")
@click.pass_obj
def erase(obj: Context, item_id: int, reason: str, actor: str) -> None:
    """Erase an item's message's personal data everywhere (database, outbox files, training data), keeping a
    tombstone event; only a supervisor or admin."""
    removed = erasure.erase_item(obj.settings, open_store(obj.settings), item_id, reason, actor)
    for line in erasure.removed_lines(item_id, removed):
        click.echo(line)


def register(cli: click.Group) -> None:
    for command in (retention_group, sar_group, erase):
        cli.add_command(command)
