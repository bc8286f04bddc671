"""The `ehc-triage` command: parse options, call one function, print. A public interface: keep it stable.

Output is rendered by triage.reports and triage.model_reports; the service's expected failures become
`Error: <one line>` and exit 1 in one place, the top-level group (triage.cli_errors)."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import click

import classifier
from classifier.corpus import REAL_LABELS_FILE, load_corpus, read_document

from . import accounts, decisions, health, learning, logs
from . import model_reports as mreports
from . import reports
from .cli_errors import TriageGroup
from .cli_options import Context, actor_option, format_option, model_dir_option, password_stdin_option, read_password
from .domain import OutboxStatus, Role, Status
from .privacy.cli import register as register_privacy_commands
from .cli_safeguarding import register as register_safeguarding_commands
from .running import poll_each, service_jobs
from .service import build_triage, open_store, route_book, send_outbox
from .serving import app_server, serve_until_stopped
from .settings import CONFIG_ENV



@click.group(cls=TriageGroup)
@click.option("--config", "config", type=click.Path(dir_okay=False), envvar=CONFIG_ENV,
              help=f"Settings file (TOML). Default: ${CONFIG_ENV}, else the embedded demo.")
@click.option("-v", "--verbose", is_flag=True, help="Log more detail to stderr.")
@click.version_option(package_name="ehc-triage")
@click.pass_context
def cli(ctx: click.Context, config: str | None, verbose: bool) -> None:
    """Triage the EHC assessment team's inbox: classify, acknowledge, draft and queue replies."""
    logs.configure(verbose)
    ctx.obj = Context(config)


def _subgroup(name: str, about: str) -> click.Group:
    group = click.Group(name, help=about)
    cli.add_command(group)
    return group


users = _subgroup("users", "Web app accounts: caseworkers, supervisors and admins.")
queue = _subgroup("queue", "The caseworkers' approval queue.")
outbox = _subgroup("outbox", "Outgoing mail: acknowledgements, approved replies, safeguarding alerts.")
audit = _subgroup("audit", "The tamper-evident event log.")
model = _subgroup("model", "The saved model versions: list them, roll back to one.")


@cli.command()
@click.pass_obj
def run(obj: Context) -> None:
    """Run the service until stopped (SIGTERM/SIGINT): each mailbox polled every poll_interval_seconds and at
    once when IDLE announces new mail, the outbox sent, health checked."""
    from .scheduler import run_forever

    settings = obj.settings
    store = open_store(settings)
    triage = build_triage(settings, store)
    server = app_server(settings, store) if settings.web is not None else None  # [web]: the app beside the jobs
    jobs = service_jobs(settings, store, triage)
    run_forever(jobs.every, web=server, cron_jobs=jobs.cron, helpers=jobs.helpers)


@cli.command()
@click.option("--host", default=None, help="Address to listen on (default: [web] host, else 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port to listen on (default: [web] port, else 8000).")
@click.pass_obj
def web(obj: Context, host: str | None, port: int | None) -> None:
    """Serve the caseworkers' web app (waitress) until stopped; the scheduler is `run`."""
    server = app_server(obj.settings, open_store(obj.settings), host, port)
    click.echo(f"Serving the web app on {server.url} (Ctrl-C to stop)", err=True)
    serve_until_stopped(server)


@users.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@password_stdin_option()
@actor_option("adding the account")
@click.pass_obj
def users_add(obj: Context, name: str, role: str, password_stdin: bool, actor: str) -> None:
    """Add an account; the password is asked for (twice), or read from stdin with --password-stdin."""
    accounts.check_username(name)  # before asking for a password
    accounts.add_account(open_store(obj.settings), name, read_password(password_stdin), Role(role), actor)
    click.echo(f"user {name} added as {role}")


@users.command("list")
@click.pass_obj
def users_list(obj: Context) -> None:
    """List accounts with their role and whether they can sign in."""
    click.echo(reports.users_table(open_store(obj.settings).accounts.list_users()))


@users.command("disable")
@click.argument("name")
@actor_option("disabling the account")
@click.pass_obj
def users_disable(obj: Context, name: str, actor: str) -> None:
    """Stop an account signing in; its open sessions end at their next request. The account is kept."""
    open_store(obj.settings).accounts.disable_user(name, actor)
    click.echo(f"user {name} disabled")


@users.command("password")
@click.argument("name")
@password_stdin_option("the new password")
@actor_option("changing it")
@click.pass_obj
def users_password(obj: Context, name: str, password_stdin: bool, actor: str) -> None:
    """Set a new password for an account."""
    password = read_password(password_stdin)
    accounts.change_password(open_store(obj.settings), name, password, actor)
    click.echo(f"password for {name} changed")


@cli.command()
@click.option("--once", is_flag=True, help="Poll once and exit (without it, the same as `run`).")
@click.pass_context
def poll(ctx: click.Context, once: bool) -> None:
    """Poll each mailbox; with --once, exit non-zero after all of them if any failed (one line each)."""
    if not once:
        ctx.invoke(run)
        return
    settings = ctx.obj.settings
    store = open_store(settings)
    lines = reports.poll_lines(poll_each(settings, store, build_triage(settings, store)))
    for line, is_error in lines:
        click.echo(line, err=is_error)
    if any(is_error for _, is_error in lines):
        sys.exit(1)


@queue.command("list")
@click.option("--status", type=click.Choice([s.value for s in Status]), help="Only items with this status.")
@format_option("table", "jsonl", default="table")
@click.pass_obj
def queue_list(obj: Context, status: str | None, fmt: str) -> None:
    """List queued items, safeguarding first, then those needing review, then oldest first."""
    entries = open_store(obj.settings).items.list_queue(status=status)
    if fmt == "jsonl":
        for e in entries:
            click.echo(reports.json_line(reports.queue_json(e)))
    else:
        click.echo(reports.queue_table(entries))


@queue.command("approve")
@click.argument("item_id", type=int)
@actor_option("approving")
@click.option("--confirm-deadlines", is_flag=True,
              help="Approve although the draft's deadlines have passed or changed since it was written (you checked).")
@click.pass_obj
def queue_approve(obj: Context, item_id: int, actor: str, confirm_deadlines: bool) -> None:
    """Approve an item's current draft: the reply goes to the outbox; the send job sends it (nothing is sent here)."""
    settings = obj.settings
    decisions.approve(open_store(settings), settings.service, item_id, actor, confirm_deadlines=confirm_deadlines)
    click.echo(reports.approved_line(item_id, settings.service.shadow, settings.outbox.send_interval_seconds))


@outbox.command("list")
@click.option("--status", type=click.Choice([s.value for s in OutboxStatus]), help="Only rows with this status.")
@format_option("table", "jsonl", default="table")
@click.pass_obj
def outbox_list(obj: Context, status: str | None, fmt: str) -> None:
    """List outgoing mail with its status, attempts and last error."""
    entries = open_store(obj.settings).outbox.entries(status=status)
    if fmt == "jsonl":
        for e in entries:
            click.echo(reports.json_line(reports.outbox_json(e)))
    else:
        click.echo(reports.outbox_table(entries))


@outbox.command("send")
@click.pass_obj
def outbox_send(obj: Context) -> None:
    """Send whatever is due, once, and exit (the function the scheduler's send job calls)."""
    report = send_outbox(obj.settings, open_store(obj.settings))
    click.echo(reports.send_line(report))
    for error in report.errors:
        click.echo(reports.visible(f"error: {error}"), err=True)


@outbox.command("retry")
@click.argument("outbox_id", type=int)
@actor_option("retrying")
@click.pass_obj
def outbox_retry(obj: Context, outbox_id: int, actor: str) -> None:
    """Queue a failed row to be sent again (after checking it was not delivered)."""
    open_store(obj.settings).outbox.retry(outbox_id, actor)
    click.echo(f"outbox row {outbox_id} queued again")


@audit.command("verify")
@click.pass_obj
def audit_verify(obj: Context) -> None:
    """Check the whole hash chain; exit 1 naming the first broken event."""
    from .audit import verify

    result = verify(open_store(obj.settings).events.chain())
    click.echo(reports.chain_text(result.ok, result.checked, result.first_broken, result.reason))
    if not result.ok:
        sys.exit(1)


@audit.command("export")
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), help="From this date (UTC), inclusive.")
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), help="Up to this date (UTC), exclusive.")
@format_option("jsonl", "csv", default="jsonl")
@click.option("--redact", is_flag=True, help="Remove names, addresses and message text; keep IDs, labels and times.")
@click.pass_obj
def audit_export(obj: Context, start: dt.datetime | None, end: dt.datetime | None, fmt: str, redact: bool) -> None:
    """Write the event log (or a date range of it) to standard output."""
    from .event_export import chain_rows, to_csv, to_jsonl

    utc = dt.timezone.utc
    events = open_store(obj.settings).events.chain(start and start.replace(tzinfo=utc), end and end.replace(tzinfo=utc))
    for chunk in (to_csv if fmt == "csv" else to_jsonl)(chain_rows(events, redacted=redact)):
        click.echo(chunk, nl=False)


@cli.command()
@format_option("text", "json", default="text")
@click.pass_obj
def status(obj: Context, fmt: str) -> None:
    """Is the service working? Last poll per mailbox, waiting work, outbox, model; exit 1 when unhealthy."""
    report = health.check(obj.settings, open_store(obj.settings))
    click.echo(json.dumps(reports.status_json(report), indent=2) if fmt == "json" else reports.status_text(report))
    if not report.healthy:
        sys.exit(1)


@cli.command("check-config")
@click.pass_obj
def check_config(obj: Context) -> None:
    """Check the settings and route facts; list placeholders the council has still to fill in."""
    book = route_book(obj.settings)
    click.echo(reports.config_text(obj.settings, book))
    if book.placeholders():
        sys.exit(1)


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@format_option("table", "jsonl", default="jsonl")
@click.option("--explain", is_flag=True,
              help="Also give the sentences that most support each route, the runner-up when the call is close, "
                   "and the sentences that raised a safeguarding flag.")
@model_dir_option()
def classify(paths: tuple[Path, ...], fmt: str, explain: bool, model_dir: Path | None) -> None:
    """Classify .eml files (or .txt files holding a body); needs no config and no database."""
    model = classifier.load_or_train(model_dir)
    predictions = model.predict_documents([read_document(p) for p in paths], explain=explain)
    if fmt == "table":
        click.echo(mreports.predictions_table(paths, predictions, explain))
        return
    for path, p in zip(paths, predictions):
        click.echo(reports.json_line(mreports.prediction_json(path, p, explain)))


@cli.command()
@model_dir_option("Where to write the model (default: beside the classifier package).")
def train(model_dir: Path | None) -> None:
    """Build the model and its card from the labelled corpus in the repository."""
    card = classifier.train(model_dir=model_dir)
    click.echo(mreports.trained_text(card, model_dir or classifier.DEFAULT_MODEL_DIR))


@cli.command()
@click.argument("labels_file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@model_dir_option()
@format_option("table", "json", default="table")
@click.option("--sites", is_flag=True,
              help="Leave-one-site-out on the real-derived corpus (or LABELS_FILE): for each site, train without it "
                   "and score it; report overall and by kind of text. Takes a few minutes.")
def evaluate(labels_file: Path | None, model_dir: Path | None, fmt: str, sites: bool) -> None:
    """Score the model on a labels.jsonl (paths relative to its folder; .eml or .txt files)."""
    if sites:
        from classifier.sites import evaluate_sites

        figures, rows = evaluate_sites(real_file=labels_file or REAL_LABELS_FILE)
        click.echo(json.dumps({**figures, "rows": rows}, indent=2) if fmt == "json" else mreports.sites_text(figures))
        return
    if labels_file is None:
        raise click.UsageError("give a LABELS_FILE, or --sites for the real-derived corpus")
    model = classifier.load_or_train(model_dir)
    m = classifier.evaluate(model, load_corpus(labels_file))
    if fmt == "json":
        click.echo(json.dumps({"model_version": model.version, "threshold": model.threshold, **m}, indent=2))
    else:
        click.echo(mreports.evaluation_text(model.version, model.threshold, m))


@cli.command()
@actor_option("retraining")
@click.option("--corpus", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="A labels.jsonl to train and test on instead of the bundled corpus.")
@click.pass_obj
def retrain(obj: Context, actor: str, corpus: Path | None) -> None:
    """Train a candidate on the corpus plus confirmed labels; promote it only if it is not worse."""
    result = learning.retrain_model(obj.settings, open_store(obj.settings), actor, labels_file=corpus)
    click.echo(mreports.retrain_text(result))


@model.command("list")
@click.pass_obj
def model_list(obj: Context) -> None:
    """Every saved version, newest first; * marks the current one."""
    entries = learning.registry(obj.settings).entries()
    if not entries:
        raise click.ClickException("no saved model versions: run `ehc-triage train`")
    click.echo(mreports.models_table(entries))


@model.command("rollback")
@click.argument("version")
@actor_option("rolling back")
@click.pass_obj
def model_rollback(obj: Context, version: str, actor: str) -> None:
    """Make an earlier saved VERSION current again (a running service picks it up at its next poll)."""
    before = learning.rollback_model(obj.settings, open_store(obj.settings), version, actor)
    click.echo(f"Current model is now {version} (was {before or 'none'}).")


@cli.command()
@click.option("--serve", is_flag=True, help="Then serve the web app on the demo data, with a demo login.")
@click.option("--port", type=int, default=8000, show_default=True, help="Port for --serve (on 127.0.0.1).")
@click.pass_obj
def demo(obj: Context, serve: bool, port: int) -> None:
    """Run one poll on the bundled sample mailbox and show what the service did (--serve: then open the web app)."""
    from . import demo_run

    result = demo_run.run_demo(obj.settings)
    click.echo(demo_run.summary(result))
    if not serve:
        click.echo(demo_run.NEXT_STEP)
        return
    server, login = demo_run.demo_server(result, port)
    click.echo(login)
    serve_until_stopped(server)


register_privacy_commands(cli)  # retention, sar, erase
register_safeguarding_commands(queue)  # queue safeguarding, queue clear-flag


def main() -> None:
    cli(prog_name="ehc-triage")
