"""`ehc-triage queue safeguarding` and `queue clear-flag`: the safeguarding decisions from the command line
(the same functions the web app calls: triage.decisions). Registered on the `queue` group by triage.cli."""

from __future__ import annotations

import click

from . import decisions
from .cli_options import Context, actor_option
from .decisions import SafeguardingAction
from .service import open_store


@click.command("safeguarding")
@click.argument("item_id", type=int)
@click.option("--action", "action", required=True, type=click.Choice([a.value for a in SafeguardingAction]),
              help="What was done about the flag.")
@click.option("--note", default="", help="Who was told, the referral's reference, or how the family is known "
                                         "(required unless not_safeguarding).")
@actor_option("recording the action")
@click.pass_obj
def record_action(obj: Context, item_id: int, action: str, note: str, actor: str) -> None:
    """Record the action taken on a safeguarding-flagged item (needed before its reply can be approved)."""
    chosen = decisions.record_safeguarding_action(open_store(obj.settings), item_id, action, note, actor)
    click.echo(f"item {item_id}: safeguarding action recorded ({chosen.label})")


@click.command("clear-flag")
@click.argument("item_id", type=int)
@click.option("--reason", required=True, help="Why the flag is false (supervisors review every clearing).")
@actor_option("clearing the flag")
@click.pass_obj
def clear_flag(obj: Context, item_id: int, reason: str, actor: str) -> None:
    """Clear a false safeguarding flag, with the reason."""
    decisions.clear_safeguarding_flag(open_store(obj.settings), item_id, reason, actor)
    click.echo(f"item {item_id}: safeguarding flag cleared")


def register(queue: click.Group) -> None:
    queue.add_command(record_action)
    queue.add_command(clear_flag)
