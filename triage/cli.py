"""The `ehc-triage` command: parse options, call one function, print. A public interface: keep it stable."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any, Iterable

import click

import classifier
from classifier.corpus import read_document

from .domain import QueueEntry, Status
from .errors import TriageError
from .pipeline import poll_once
from .service import build_triage, mail_source, open_store
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
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    if not verbose:
        logging.getLogger("alembic").setLevel(logging.WARNING)
    ctx.obj = _Context(config)


@cli.command()
@click.pass_obj
def run(obj: _Context) -> None:
    """Run the service: poll the inbox every poll_interval_seconds until stopped (SIGTERM/SIGINT)."""
    from .scheduler import run_forever

    try:
        settings = obj.settings
        store = open_store(settings)
        triage = build_triage(settings, store)
    except (TriageError, classifier.ClassifierError) as exc:
        raise _fail(exc) from None
    run_forever(lambda: poll_once(mail_source(settings), triage), settings.service.poll_interval_seconds)


@cli.command()
@click.option("--once", is_flag=True, help="Poll once and exit (without it, the same as `run`).")
@click.pass_context
def poll(ctx: click.Context, once: bool) -> None:
    """Poll the inbox; with --once, exit non-zero with one line on a connection or login failure."""
    if not once:
        ctx.invoke(run)
        return
    obj: _Context = ctx.obj
    try:
        settings = obj.settings
        store = open_store(settings)
        report = poll_once(mail_source(settings), build_triage(settings, store))
    except (TriageError, classifier.ClassifierError) as exc:
        raise _fail(exc) from None
    click.echo(f"fetched {report.fetched}, queued {report.queued}, duplicates {report.duplicates}, "
               f"recorded only {report.recorded_only}, failed to parse {report.failed_parse}")


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


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["table", "jsonl"]), default="jsonl", show_default=True)
@click.option("--explain", is_flag=True, help="Also give the terms that pushed each message towards its label.")
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
                out["safeguarding_reasons"] = list(p.safeguarding_reasons)
            click.echo(json.dumps(out, ensure_ascii=False))
        else:
            rows.append((str(path), p.label, f"{p.confidence:.2f}", "yes" if p.needs_review else "no",
                         "YES" if p.safeguarding else "no"))
            if explain:
                because.append(f"{path}: {p.label} because of: {', '.join(p.explanation) or '(no strong terms)'}"
                               + (f"; safeguarding: {', '.join(p.safeguarding_reasons)}" if p.safeguarding else ""))
    if fmt == "table":
        click.echo(_table(rows))
        if because:
            click.echo("\n" + "\n".join(because))


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
@click.pass_obj
def demo(obj: _Context) -> None:
    """Run one poll on the bundled sample mailbox and show what the service did."""
    try:
        settings = obj.settings
        store = open_store(settings)
        report = poll_once(mail_source(settings), build_triage(settings, store))
    except (TriageError, classifier.ClassifierError) as exc:
        raise _fail(exc) from None
    click.echo(f"Read {report.fetched} new message(s) from {settings.source_name}: queued {report.queued}, "
               f"{report.failed_parse} flagged as broken, {report.duplicates} already seen.\n")
    click.echo(queue_table(store.list_queue()))
    click.echo(f"\nDatabase:        {settings.database_url}")
    click.echo(f"Mailbox:         {settings.maildir or settings.source_name}")
    click.echo("Next: `.venv/bin/ehc-triage queue list --format jsonl` shows the drafts.")


def main() -> None:
    cli(prog_name="ehc-triage")
