"""The `ehc-triage` command: parse options, call one function, print. A public interface: keep it stable."""

from __future__ import annotations

import html
import json
import logging
import re
import sys
from pathlib import Path
from typing import Any, Iterable

import click

import classifier
from replies import FactsError
from replies.drafting import placeholders_in, sample_renders
from classifier.corpus import REAL_LABELS_FILE, load_corpus, read_document

from . import health, learning, logs
from .domain import OutboxStatus, PollReport, QueueEntry, Role, Status
from .errors import TriageError
from .running import poll_each, service_jobs
from .service import approve_item, build_triage, open_store, route_book, send_outbox
from .settings import CONFIG_ENV, Settings, load_settings

log = logging.getLogger("triage")


class _Context:
    def __init__(self, config: str | None) -> None:
        self.config = config
        self._settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.config)
            logs.use_format(self._settings.service.log_format)
        return self._settings


def _fail(exc: Exception) -> click.ClickException:
    return click.ClickException(str(exc))


@click.group()
@click.option("--config", "config", type=click.Path(dir_okay=False), envvar=CONFIG_ENV,
              help=f"Settings file (TOML). Default: ${CONFIG_ENV}, else the embedded demo.")
@click.option("-v", "--verbose", is_flag=True, help="Log more detail to stderr.")
@click.version_option(package_name="ehc-triage")
@click.pass_context
def cli(ctx: click.Context, config: str | None, verbose: bool) -> None:
    """Triage the EHC assessment team's inbox: classify, acknowledge, draft and queue replies."""
    logs.configure(verbose)
    ctx.obj = _Context(config)


@cli.command()
@click.pass_obj
def run(obj: _Context) -> None:
    """Run the service until stopped (SIGTERM/SIGINT): each mailbox polled every poll_interval_seconds and at
    once when IDLE announces new mail, the outbox sent, health checked."""
    from .scheduler import run_forever

    try:
        settings = obj.settings
        store = open_store(settings)
        triage = build_triage(settings, store)
    except (TriageError, classifier.ClassifierError) as exc:
        raise _fail(exc) from None
    server = None
    if settings.web is not None:  # a [web] section: serve the caseworkers' app beside the jobs
        from .web import create_app

        server = _web_server(create_app(settings, store), settings.web.host, settings.web.port, settings.web.threads)
    jobs = service_jobs(settings, store, triage)
    run_forever(jobs.every, web=server, cron_jobs=jobs.cron, helpers=jobs.helpers)


def _web_server(app: Any, host: str, port: int, threads: int) -> Any:
    from .web.serve import WebServer

    try:
        return WebServer(app, host, port, threads)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


@cli.command()
@click.option("--host", default=None, help="Address to listen on (default: [web] host, else 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port to listen on (default: [web] port, else 8000).")
@click.pass_obj
def web(obj: _Context, host: str | None, port: int | None) -> None:
    """Serve the caseworkers' web app (waitress) until stopped; the scheduler is `run`."""
    from .settings import WebSettings
    from .web import create_app

    try:
        settings = obj.settings
        conf = settings.web or WebSettings()
        app = create_app(settings, open_store(settings))
    except TriageError as exc:
        raise _fail(exc) from None
    server = _web_server(app, host or conf.host, conf.port if port is None else port, conf.threads)
    click.echo(f"Serving the web app on {server.url} (Ctrl-C to stop)", err=True)
    _serve_until_stopped(server)


def _serve_until_stopped(server: Any) -> None:
    import signal
    import threading

    def stop(signum: int, _frame: object) -> None:
        log.info("received %s: stopping the web app", signal.Signals(signum).name)
        threading.Thread(target=server.close, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server.run()
    log.info("web app stopped")


@cli.group()
def users() -> None:
    """Web app accounts: caseworkers, supervisors and admins."""


@users.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
@click.option("--as", "actor", default="cli", show_default=True, help="Who is adding the account, for the event log.")
@click.pass_obj
def users_add(obj: _Context, name: str, role: str, password_stdin: bool, actor: str) -> None:
    """Add an account; the password is asked for (twice), or read from stdin with --password-stdin."""
    from .web.passwords import hash_password

    if not _USERNAME.fullmatch(name):
        raise click.ClickException("a username is 1 to 100 letters, digits, dots, hyphens, underscores or @")
    password = _read_password(password_stdin)
    try:
        open_store(obj.settings).add_user(name, hash_password(password), Role(role), actor)
    except TriageError as exc:
        raise _fail(exc) from None
    click.echo(f"user {name} added as {role}")


@users.command("list")
@click.pass_obj
def users_list(obj: _Context) -> None:
    """List accounts with their role and whether they can sign in."""
    try:
        accounts = open_store(obj.settings).list_users()
    except TriageError as exc:
        raise _fail(exc) from None
    rows = [("USERNAME", "ROLE", "STATUS", "CREATED")]
    for u in accounts:
        rows.append((u.username, u.role.value, "active" if u.active else f"disabled {u.disabled_at:%Y-%m-%d}",
                     f"{u.created_at:%Y-%m-%d %H:%M}"))
    click.echo(_table(rows))


@users.command("disable")
@click.argument("name")
@click.option("--as", "actor", default="cli", show_default=True,
              help="Who is disabling the account, for the event log.")
@click.pass_obj
def users_disable(obj: _Context, name: str, actor: str) -> None:
    """Stop an account signing in; its open sessions end at their next request. The account is kept."""
    try:
        open_store(obj.settings).disable_user(name, actor)
    except TriageError as exc:
        raise _fail(exc) from None
    click.echo(f"user {name} disabled")


@users.command("password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the new password from the first line of standard input.")
@click.option("--as", "actor", default="cli", show_default=True, help="Who is changing it, for the event log.")
@click.pass_obj
def users_password(obj: _Context, name: str, password_stdin: bool, actor: str) -> None:
    """Set a new password for an account."""
    from .web.passwords import hash_password

    password = _read_password(password_stdin)
    try:
        open_store(obj.settings).set_password(name, hash_password(password), actor)
    except TriageError as exc:
        raise _fail(exc) from None
    click.echo(f"password for {name} changed")


_USERNAME = re.compile(r"[A-Za-z0-9._@-]{1,100}")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise click.ClickException("no password on standard input")
        return password
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


@cli.command()
@click.option("--once", is_flag=True, help="Poll once and exit (without it, the same as `run`).")
@click.pass_context
def poll(ctx: click.Context, once: bool) -> None:
    """Poll each mailbox; with --once, exit non-zero after all of them if any failed (one line each)."""
    if not once:
        ctx.invoke(run)
        return
    obj: _Context = ctx.obj
    try:
        settings = obj.settings
        store = open_store(settings)
        results = poll_each(settings, store, build_triage(settings, store))
    except (TriageError, classifier.ClassifierError) as exc:
        raise _fail(exc) from None
    several = len(results) > 1
    for name, result in results.items():
        prefix = f"{name}: " if several else ""
        if isinstance(result, PollReport):
            click.echo(f"{prefix}fetched {result.fetched}, queued {result.queued}, duplicates {result.duplicates}, "
                       f"recorded only {result.recorded_only}, failed to parse {result.failed_parse}")
        else:
            click.echo(f"Error: {prefix}{result}", err=True)
    if any(not isinstance(r, PollReport) for r in results.values()):
        sys.exit(1)


@cli.group()
def queue() -> None:
    """The caseworkers' approval queue."""


@queue.command("list")
@click.option("--status", type=click.Choice([s.value for s in Status]), help="Only items with this status.")
@click.option("--format", "fmt", type=click.Choice(["table", "jsonl"]), default="table", show_default=True)
@click.pass_obj
def queue_list(obj: _Context, status: str | None, fmt: str) -> None:
    """List queued items, safeguarding first, then those needing review, then oldest first."""
    try:
        entries = open_store(obj.settings).list_queue(status=status)
    except TriageError as exc:
        raise _fail(exc) from None
    if fmt == "jsonl":
        for e in entries:
            click.echo(json.dumps(queue_json(e), ensure_ascii=False))
    else:
        click.echo(queue_table(entries))


def queue_json(e: QueueEntry) -> dict[str, Any]:
    return {
        "id": e.id, "message_id": e.message_id, "from": e.from_address, "from_name": e.from_name,
        "subject": e.subject, "received_at": e.received_at.isoformat(), "label": e.label,
        "confidence": round(e.confidence, 4), "needs_review": e.needs_review, "safeguarding": e.safeguarding,
        "status": e.status.value, "draft_subject": e.draft_subject, "draft_text": e.draft_text,
        "parse_error": e.parse_error,
    }


def queue_table(entries: Iterable[QueueEntry]) -> str:
    rows = [("ID", "RECEIVED", "FROM", "SUBJECT", "ROUTE", "CONF", "FLAGS", "STATUS")]
    for e in entries:
        flags = ",".join(f for f, on in (("SAFEGUARDING", e.safeguarding), ("review", e.needs_review),
                                          ("broken", bool(e.parse_error))) if on)
        rows.append((str(e.id), f"{e.received_at:%Y-%m-%d %H:%M}", _cut(e.from_address, 30), _cut(e.subject, 40),
                     e.label, f"{e.confidence:.2f}", flags or "-", e.status.value))
    return _table(rows)


def _cut(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows)


@queue.command("approve")
@click.argument("item_id", type=int)
@click.option("--as", "actor", default="cli", show_default=True, help="Who is approving, for the event log.")
@click.option("--confirm-deadlines", is_flag=True,
              help="Approve although the draft's deadlines have passed or changed since it was written (you checked).")
@click.pass_obj
def queue_approve(obj: _Context, item_id: int, actor: str, confirm_deadlines: bool) -> None:
    """Approve an item's current draft: the reply goes to the outbox and is sent by the next send."""
    try:
        settings = obj.settings
        store = open_store(settings)
        approve_item(settings, store, item_id, actor, confirm_deadlines=confirm_deadlines)
        report = send_outbox(settings, store)
    except TriageError as exc:
        raise _fail(exc) from None
    verb = "recorded as would-send (shadow mode)" if settings.service.shadow else f"queued; {report.sent} sent now"
    click.echo(f"item {item_id} approved: reply {verb}")


@cli.group()
def outbox() -> None:
    """Outgoing mail: acknowledgements, approved replies, safeguarding alerts."""


@outbox.command("list")
@click.option("--status", type=click.Choice([s.value for s in OutboxStatus]), help="Only rows with this status.")
@click.option("--format", "fmt", type=click.Choice(["table", "jsonl"]), default="table", show_default=True)
@click.pass_obj
def outbox_list(obj: _Context, status: str | None, fmt: str) -> None:
    """List outgoing mail with its status, attempts and last error."""
    try:
        entries = open_store(obj.settings).list_outbox(status=status)
    except TriageError as exc:
        raise _fail(exc) from None
    if fmt == "jsonl":
        for e in entries:
            click.echo(json.dumps({
                "id": e.id, "kind": e.kind, "to": e.to_address, "subject": e.subject, "status": e.status,
                "attempts": e.attempts, "last_error": e.last_error, "item_id": e.item_id,
                "created_at": e.created_at.isoformat(), "sent_at": e.sent_at.isoformat() if e.sent_at else None,
            }, ensure_ascii=False))
        return
    rows = [("ID", "KIND", "TO", "SUBJECT", "STATUS", "TRIES", "LAST ERROR")]
    for e in entries:
        rows.append((str(e.id), e.kind, _cut(e.to_address, 30), _cut(e.subject, 40), e.status, str(e.attempts),
                     _cut(e.last_error, 50) or "-"))
    click.echo(_table(rows))


@outbox.command("send")
@click.pass_obj
def outbox_send(obj: _Context) -> None:
    """Send whatever is due, once, and exit (the function the scheduler's send job calls)."""
    try:
        settings = obj.settings
        report = send_outbox(settings, open_store(settings))
    except TriageError as exc:
        raise _fail(exc) from None
    click.echo(f"sent {report.sent}, retrying {report.retrying}, failed {report.failed}"
               + (f", interrupted {report.interrupted}" if report.interrupted else "")
               + (f", held {report.held} (a placeholder is still in them: see `outbox list`)" if report.held else ""))
    for error in report.errors:
        click.echo(f"error: {error}", err=True)


@outbox.command("retry")
@click.argument("outbox_id", type=int)
@click.option("--as", "actor", default="cli", show_default=True)
@click.pass_obj
def outbox_retry(obj: _Context, outbox_id: int, actor: str) -> None:
    """Queue a failed row to be sent again (after checking it was not delivered)."""
    try:
        open_store(obj.settings).retry_outbox(outbox_id, actor)
    except TriageError as exc:
        raise _fail(exc) from None
    click.echo(f"outbox row {outbox_id} queued again")


@cli.group()
def audit() -> None:
    """The tamper-evident event log."""


@audit.command("verify")
@click.pass_obj
def audit_verify(obj: _Context) -> None:
    """Check the whole hash chain; exit 1 naming the first broken event."""
    from .audit import verify

    try:
        result = verify(open_store(obj.settings).event_chain())
    except TriageError as exc:
        raise _fail(exc) from None
    if result.ok:
        click.echo(f"event log intact: {result.checked} events verified")
        return
    click.echo(f"event log BROKEN at event {result.first_broken}: {result.reason} "
               f"({result.checked - 1} events before it verified)")
    sys.exit(1)


@audit.command("export")
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), help="From this date (UTC), inclusive.")
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), help="Up to this date (UTC), exclusive.")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True)
@click.option("--redact", is_flag=True, help="Remove names, addresses and message text; keep IDs, labels and times.")
@click.pass_obj
def audit_export(obj: _Context, start, end, fmt: str, redact: bool) -> None:
    """Write the event log (or a date range of it) to standard output."""
    import datetime as dt

    from .audit import export_rows, to_csv, to_jsonl

    utc = dt.timezone.utc
    try:
        events = open_store(obj.settings).event_chain(start and start.replace(tzinfo=utc), end and end.replace(tzinfo=utc))
        writer = to_csv if fmt == "csv" else to_jsonl
        for chunk in writer(export_rows(events, redacted=redact)):
            click.echo(chunk, nl=False)
    except TriageError as exc:
        raise _fail(exc) from None


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_obj
def status(obj: _Context, fmt: str) -> None:
    """Is the service working? Last poll per mailbox, waiting work, outbox, model; exit 1 when unhealthy."""
    try:
        settings = obj.settings
        report = health.check(settings, open_store(settings))
    except TriageError as exc:
        raise _fail(exc) from None
    if fmt == "json":
        click.echo(json.dumps(_status_json(report), indent=2))
    else:
        click.echo(_status_text(report))
    if not report.healthy:
        sys.exit(1)


def _status_json(report: health.HealthReport) -> dict[str, Any]:
    w = report.work
    return {
        "healthy": report.healthy, "at": report.at.isoformat(), "model_version": report.model_version,
        "mailboxes": [{"source": p.source, "last_success_at": p.last_success_at.isoformat() if p.last_success_at else None,
                       "last_attempt_at": p.last_attempt_at.isoformat(), "consecutive_failures": p.consecutive_failures,
                       "last_error": p.last_error} for p in report.polls],
        "items_waiting": w.open_items, "items_past_due": w.past_due, "outbox_pending": w.outbox_pending,
        "outbox_oldest_pending_at": w.oldest_pending_at.isoformat() if w.oldest_pending_at else None,
        "outbox_failed": w.outbox_failed, "parse_failures_last_hour": w.parse_failures_last_hour,
        "problems": [p.text for p in report.problems],
    }


def _status_text(report: health.HealthReport) -> str:
    w = report.work
    lines = [f"{'healthy' if report.healthy else 'UNHEALTHY'} at {report.at:%Y-%m-%d %H:%M} UTC"]
    for p in report.polls:
        last = f"{p.last_success_at:%Y-%m-%d %H:%M} UTC" if p.last_success_at else "never"
        failing = f" ({p.consecutive_failures} failure(s) since: {p.last_error})" if p.consecutive_failures else ""
        lines.append(f"mailbox {p.source}: last successful poll {last}{failing}")
    lines += [
        f"items waiting: {w.open_items} ({w.past_due} past their reply-by date)",
        f"outbox: {w.outbox_pending} waiting, {w.outbox_failed} failed",
        f"parse failures in the last hour: {w.parse_failures_last_hour}",
        f"model: {report.model_version}",
    ]
    lines += [f"problem: {p.text}" for p in report.problems]
    return "\n".join(lines)


@cli.command("check-config")
@click.pass_obj
def check_config(obj: _Context) -> None:
    """Check the settings and route facts; list placeholders the council has still to fill in."""
    try:
        settings = obj.settings
        book = route_book(settings)
    except (TriageError, FactsError) as exc:
        raise _fail(exc) from None
    missing = book.placeholders()
    click.echo(f"settings: {settings.source_file or 'embedded demo default'} (mode {settings.service.mode})")
    if not settings.safeguarding.duty_address:
        click.echo("warning: [safeguarding] duty_address is not set: safeguarding alerts will not be emailed")
    if missing:
        click.echo(f"{len(missing)} route fact(s) still to fill in (drafts using them cannot be approved, "
                   f"acknowledgements using them are held):")
        for name in missing:
            click.echo(f"  {name}")
    click.echo("placeholders left in each template, rendered with sample data:")
    for name, draft in sample_renders(book).items():
        left = placeholders_in(draft.text + "\n" + html.unescape(draft.html))
        click.echo(f"  {name}: {'; '.join(left) if left else 'none'}")
    if missing:
        sys.exit(1)
    click.echo("route facts: complete")


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["table", "jsonl"]), default="jsonl", show_default=True)
@click.option("--explain", is_flag=True,
              help="Also give the sentences that most support each route, the runner-up when the call is close, "
                   "and the sentences that raised a safeguarding flag.")
@click.option("--model-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Model folder (default: the one built beside the classifier package).")
def classify(paths: tuple[Path, ...], fmt: str, explain: bool, model_dir: Path | None) -> None:
    """Classify .eml files (or .txt files holding a body); needs no config and no database."""
    try:
        model = classifier.load_or_train(model_dir)
        documents = [read_document(p) for p in paths]
    except (classifier.ClassifierError, OSError) as exc:
        raise _fail(exc) from None
    predictions = model.predict_documents(documents, explain=explain)
    rows = [("PATH", "LABEL", "CONF", "REVIEW", "SAFEGUARDING")]
    because = []
    for path, p in zip(paths, predictions):
        if fmt == "jsonl":
            out: dict[str, Any] = {
                "path": str(path), "label": p.label, "confidence": round(p.confidence, 4),
                "needs_review": p.needs_review, "safeguarding": p.safeguarding,
                "scores": {k: round(v, 4) for k, v in p.scores.items()},
            }
            if explain:
                out["explanation"] = list(p.explanation)
                out["runner_up"] = ({"label": p.runner_up[0], "score": round(p.runner_up[1], 4)}
                                    if p.runner_up else None)
                out["safeguarding_reasons"] = list(p.safeguarding_reasons)
                out["safeguarding_evidence"] = list(p.safeguarding_evidence)
            click.echo(json.dumps(out, ensure_ascii=False))
        else:
            rows.append((str(path), p.label, f"{p.confidence:.2f}", "yes" if p.needs_review else "no",
                         "YES" if p.safeguarding else "no"))
            if explain:
                because.append(_explained(path, p))
    if fmt == "table":
        click.echo(_table(rows))
        if because:
            click.echo("\n" + "\n".join(because))


def _evaluate_sites(labels_file: Path, fmt: str) -> None:
    from classifier.sites import evaluate_sites

    try:
        figures, rows = evaluate_sites(real_file=labels_file)
    except classifier.ClassifierError as exc:
        raise _fail(exc) from None
    if fmt == "json":
        click.echo(json.dumps({**figures, "rows": rows}, indent=2))
        return
    o = figures["overall"]
    click.echo(f"leave-one-site-out: {o['n']} texts from {figures['sites']} sites\n")
    table = [("KIND", "N", "MACRO-F1", "ACCURACY", "DECIDED", "OF THOSE CORRECT")]
    for kind, r in [*figures["by_kind"].items(), ("all", o)]:
        table.append((kind, str(r["n"]), f"{r['macro_f1']:.3f}", f"{r['accuracy']:.3f}", f"{r['auto_coverage']:.1%}",
                      "-" if r["auto_accuracy"] is None else f"{r['auto_accuracy']:.1%}"))
    click.echo(_table(table))
    click.echo("\nrecall by route: " + ", ".join(f"{k} {v:.3f}" for k, v in figures["recall_by_label"].items()))


def _explained(path: Path, p: classifier.Prediction) -> str:
    """A prediction's evidence as lines a person reads: the sentences, the runner-up, the risk."""
    lines = [f"{path}: {p.label} ({p.confidence:.0%})"
             + (f", close to {p.runner_up[0]} ({p.runner_up[1]:.0%})" if p.runner_up else "")]
    lines += [f"  because: \"{sentence}\"" for sentence in p.explanation] or ["  (no sentence stands out)"]
    if p.safeguarding:
        lines.append(f"  safeguarding: {', '.join(p.safeguarding_reasons)}")
        lines += [f"    \"{sentence}\"" for sentence in p.safeguarding_evidence]
    return "\n".join(lines)


@cli.command()
@click.option("--model-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where to write the model (default: beside the classifier package).")
def train(model_dir: Path | None) -> None:
    """Build the model and its card from the labelled corpus in the repository."""
    try:
        card = classifier.train(model_dir=model_dir)
    except classifier.ClassifierError as exc:
        raise _fail(exc) from None
    click.echo(f"model {card['version']} trained on {card['corpus']['train']} emails "
               f"(threshold {card['threshold']:.3f}); card in {model_dir or classifier.DEFAULT_MODEL_DIR}")
    if "test_metrics" in card:
        m = card["test_metrics"]
        click.echo(f"frozen test split ({m['n']}): macro-F1 {m['macro_f1']:.3f}, auto-decided "
                   f"{m['auto_coverage']:.0%} at {m['auto_accuracy']:.1%} accuracy, safeguarding recall "
                   f"{m['safeguarding']['recall']}")


@cli.command()
@click.argument("labels_file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--model-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Model folder (default: the one built beside the classifier package).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--sites", is_flag=True,
              help="Leave-one-site-out on the real-derived corpus (or LABELS_FILE): for each site, train without it "
                   "and score it; report overall and by kind of text. Takes a few minutes.")
def evaluate(labels_file: Path | None, model_dir: Path | None, fmt: str, sites: bool) -> None:
    """Score the model on a labels.jsonl (paths relative to its folder; .eml or .txt files)."""
    if sites:
        _evaluate_sites(labels_file or REAL_LABELS_FILE, fmt)
        return
    if labels_file is None:
        raise click.UsageError("give a LABELS_FILE, or --sites for the real-derived corpus")
    try:
        model = classifier.load_or_train(model_dir)
        examples = load_corpus(labels_file)
    except classifier.ClassifierError as exc:
        raise _fail(exc) from None
    m = classifier.evaluate(model, examples)
    if fmt == "json":
        click.echo(json.dumps({"model_version": model.version, "threshold": model.threshold, **m}, indent=2))
        return
    click.echo(f"model {model.version}, {m['n']} emails, abstain threshold {model.threshold:.3f}\n")
    rows = [("LABEL", "PRECISION", "RECALL", "F1", "SUPPORT")]
    for label, r in m["per_label"].items():
        rows.append((label, f"{r['precision']:.3f}", f"{r['recall']:.3f}", f"{r['f1']:.3f}", str(r["support"])))
    click.echo(_table(rows))
    click.echo(f"\nmacro-F1 {m['macro_f1']:.3f}, accuracy {m['accuracy']:.3f}")
    click.echo(f"auto-decided: {m['auto_coverage']:.1%} of messages, {m['auto_accuracy']:.1%} of them correct")
    sg = m["safeguarding"]
    click.echo(f"safeguarding: {sg['positives']} flagged in the labels, {sg['flagged']} by the model; "
               f"recall {_ratio(sg['recall'])}, precision {_ratio(sg['precision'])}")
    labels = m["confusion"]["labels"]
    matrix = [("true \\ predicted", *labels)] + [(label, *map(str, row)) for label, row in zip(labels, m["confusion"]["matrix"])]
    click.echo("\nconfusion matrix\n" + _table(matrix))


def _ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


@cli.command()
@click.option("--as", "actor", default="cli", show_default=True, help="Who is retraining, for the event log.")
@click.option("--corpus", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="A labels.jsonl to train and test on instead of the bundled corpus.")
@click.pass_obj
def retrain(obj: _Context, actor: str, corpus: Path | None) -> None:
    """Train a candidate on the corpus plus confirmed labels; promote it only if it is not worse."""
    try:
        settings = obj.settings
        result = learning.retrain_model(settings, open_store(settings), actor, labels_file=corpus)
    except (TriageError, classifier.ClassifierError) as exc:
        raise _fail(exc) from None
    rows = [("", "model", "frozen test macro-F1", "safeguarding recall", "newest confirmed macro-F1")]
    for name, scores in (("candidate", result.candidate), ("current", result.current)):
        if scores is not None:
            rows.append((name, scores.version, _ratio(scores.frozen_test.macro_f1),
                         _ratio(scores.frozen_test.safeguarding_recall),
                         f"{_ratio(scores.holdout.macro_f1)} (n={scores.holdout.n})"))
    click.echo(f"Learned from {result.confirmed_used} confirmed label(s); tested on the newest "
               f"{result.holdout_size} and on the frozen test split.")
    click.echo(_table(rows))
    if result.promoted:
        click.echo(f"Promoted {result.candidate.version}: it is not worse on any measure.")
    else:
        click.echo(f"Kept {result.current.version if result.current else 'the current model'}: "
                   + "; ".join(result.reasons) + ".")


@cli.group()
def model() -> None:
    """The saved model versions: list them, roll back to one."""


@model.command("list")
@click.pass_obj
def model_list(obj: _Context) -> None:
    """Every saved version, newest first; * marks the current one."""
    entries = learning.registry(obj.settings).entries()
    if not entries:
        raise click.ClickException("no saved model versions: run `ehc-triage train`")
    rows = [("", "version", "trained at", "frozen test macro-F1", "safeguarding recall", "confirmed labels")]
    for e in entries:
        test = e.card.get("test_metrics", {})
        rows.append(("*" if e.current else "", e.version, e.trained_at, _ratio(test.get("macro_f1")),
                     _ratio(test.get("safeguarding", {}).get("recall")),
                     str(e.card.get("confirmed_labels", {}).get("used", 0))))
    click.echo(_table(rows))


@model.command("rollback")
@click.argument("version")
@click.option("--as", "actor", default="cli", show_default=True, help="Who is rolling back, for the event log.")
@click.pass_obj
def model_rollback(obj: _Context, version: str, actor: str) -> None:
    """Make an earlier saved VERSION current again (a running service picks it up at its next poll)."""
    try:
        settings = obj.settings
        before = learning.rollback_model(settings, open_store(settings), version, actor)
    except (TriageError, classifier.ClassifierError) as exc:
        raise _fail(exc) from None
    click.echo(f"Current model is now {version} (was {before or 'none'}).")


@cli.command()
@click.option("--serve", is_flag=True, help="Then serve the web app on the demo data, with a demo login.")
@click.option("--port", type=int, default=8000, show_default=True, help="Port for --serve (on 127.0.0.1).")
@click.pass_obj
def demo(obj: _Context, serve: bool, port: int) -> None:
    """Run one poll on the bundled sample mailbox and show what the service did (--serve: then open the web app)."""
    try:
        settings = obj.settings
        store = open_store(settings)
        results = poll_each(settings, store, build_triage(settings, store))
        failed = next((r for r in results.values() if isinstance(r, Exception)), None)
        if failed is not None:
            raise failed
        sent = send_outbox(settings, store)
    except (TriageError, classifier.ClassifierError) as exc:
        raise _fail(exc) from None
    for source, report in results.items():
        click.echo(f"Read {report.fetched} new message(s) from {source}: queued {report.queued}, "
                   f"{report.failed_parse} flagged as broken, {report.duplicates} already seen.")
    click.echo(f"Sent {sent.sent} acknowledgement(s) (as files: no mail leaves this machine in the demo).\n")
    click.echo(queue_table(store.list_queue()))
    click.echo(f"\nDatabase:        {settings.database_url}")
    click.echo(f"Mailbox:         {settings.maildir or ', '.join(results)}")
    click.echo(f"Outgoing mail:   {settings.outbox.directory} (.eml files instead of SMTP)")
    if not serve:
        click.echo("Next: `.venv/bin/ehc-triage queue list --format jsonl` shows the drafts.")
        return
    _serve_demo(settings, store, port)


def _serve_demo(settings: Settings, store: Any, port: int) -> None:
    """The web app on loopback over plain HTTP, with a `demo` supervisor account and a new password each run."""
    import secrets

    from .settings import WebSettings
    from .web import create_app
    from .web.passwords import hash_password

    password = secrets.token_urlsafe(12)
    if store.get_user("demo") is None:
        store.add_user("demo", hash_password(password), Role.SUPERVISOR, "demo")
    else:
        store.set_password("demo", hash_password(password), "demo")
    # Plain HTTP on this machine only, so the cookie cannot be marked Secure.
    web = WebSettings(host="127.0.0.1", port=port, secure_cookies=False)
    server = _web_server(create_app(settings, store, web), web.host, web.port, web.threads)
    click.echo(f"\nWeb app:         {server.url}")
    click.echo(f"Demo login:      demo / {password}   (Ctrl-C to stop)")
    _serve_until_stopped(server)


def main() -> None:
    cli(prog_name="ehc-triage")
