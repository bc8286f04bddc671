"""The learning loop: caseworkers' final routes become confirmed labels; `retrain` promotes a candidate
only when it is not worse; `model list` and `model rollback`; every change is in the event log.

Small corpora cut from the bundled one keep training to seconds: a weak current model that a
candidate with many confirmed labels beats, and a sound one that mislabelled confirmations would
make worse.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path

import pytest
from click.testing import CliRunner

import classifier
from classifier.corpus import DATA_DIR, load_labels
from classifier.labels import Route
from triage.cli import cli
from triage.learning import CurrentModel, confirmed_labels
from triage.pipeline import Triage
from triage.service import approve_item, change_route, route_book
from triage.settings import load_settings
from triage.store import Store

from .webapp import add_item

pytestmark = pytest.mark.slow

ROUTES = tuple(Route)
# A caseworker who got every route wrong in the same way: what the gate must not learn from.
ROTATED = dict(zip(ROUTES, ROUTES[1:] + ROUTES[:1]))


def corpus_rows() -> tuple[dict[str, list[dict]], list[dict], list[dict]]:
    """The bundled corpus's training rows by label, its safeguarding training rows, and its frozen test rows."""
    by_label: dict[str, list[dict]] = defaultdict(list)
    safeguarding, test = [], []
    for row in load_labels(DATA_DIR / "labels.jsonl"):
        row = {**row, "file": str(DATA_DIR / row["file"])}
        if row["split"] == "test":
            test.append(row)
        elif row["safeguarding"]:
            safeguarding.append(row)
        else:
            by_label[row["label"]].append(row)
    return by_label, safeguarding, test


def write_corpus(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.fixture
def loop(tmp_path, filled_routes):
    """A data directory, a model directory, settings for both and a store; corpora cut to size."""
    config = tmp_path / "settings.toml"
    config.write_text(f"""
[service]
data_dir = "{tmp_path / 'data'}"
routes_file = "{filled_routes}"
[classifier]
model_dir = "{tmp_path / 'models'}"
retrain_min_confirmed = 20
retrain_holdout_share = 0.25
""")
    settings = load_settings(config, environ={})
    store = Store(settings.database_url)
    store.migrate()
    by_label, safeguarding, test = corpus_rows()

    class Loop:
        def corpus(self, per_label: int) -> Path:
            rows = [r for label in ROUTES for r in by_label[label][:per_label]] + safeguarding[:12] + test
            return write_corpus(tmp_path / f"corpus-{per_label}.jsonl", rows)

        def confirm(self, count_per_label: int, relabel: dict[str, str] | None = None) -> None:
            """Caseworkers settle the route of unseen corpus emails (approving two in three, rejecting the rest)."""
            unseen = {label: by_label[label][-count_per_label:] for label in ROUTES}
            # Interleaved, as mail arrives: the newest (held-out) labels cover every route.
            for n, (label, row) in enumerate((label, unseen[label][i]) for i in range(count_per_label)
                                             for label in ROUTES):
                raw = Path(row["file"]).read_bytes()
                item = add_item(store, raw=raw, route="other" if label != "other" else "mediation",
                                routes_file=filled_routes)
                change_route(store, route_book(settings), item, (relabel or {}).get(label, label), "cw1")
                if n % 3 == 2:
                    store.items.reject(item, "already answered by phone", "cw2")
                else:
                    draft = store.items.latest_draft(item)
                    if "[Caseworker:" in draft.text:  # an "other" draft waits for the caseworker's own words
                        store.items.save_draft(item, draft.subject, re.sub(r"\[Caseworker:[^\]]*\]", "Noted, thank you.",
                                                                     draft.text), "cw1")
                    approve_item(settings, store, item, "cw1")

        def run(self, *args: str):
            return CliRunner().invoke(cli, ["--config", str(config), *args])

    yield Loop(), settings, store
    store.close()


def events(store: Store, name: str) -> list[dict]:
    return [e for e in store.events.all() if e["name"] == name]


def test_confirmed_labels_are_the_final_routes_of_approved_and_rejected_items(loop):
    world, settings, store = loop
    world.confirm(2, relabel={"mediation": "tribunal"})
    add_item(store, route="mediation")  # still open: not confirmed
    labels = confirmed_labels(store)
    assert len(labels) == 8
    assert sorted(l.label for l in labels) == sorted(["disagreement_resolution"] * 2 + ["tribunal"] * 4 + ["other"] * 2)
    assert [l.confirmed_at for l in labels] == sorted(l.confirmed_at for l in labels)
    assert all(l.document.text for l in labels)


def test_a_retrain_that_is_better_is_promoted_and_can_be_rolled_back(loop):
    world, settings, store = loop
    weak = classifier.train(labels_file=world.corpus(per_label=8), model_dir=settings.classifier.model_dir)
    world.confirm(30)

    result = world.run("retrain", "--as", "sup1", "--corpus", str(world.corpus(per_label=8)))
    assert result.exit_code == 0, result.output
    assert "Promoted" in result.output and "Learned from 90 confirmed label(s); tested on the newest 30" in result.output

    models = classifier.Registry(settings.classifier.model_dir)
    candidate = models.current_version()
    assert candidate != weak["version"]
    trained = events(store, "model_trained")[-1]
    assert trained["actor"] == "sup1" and trained["data"]["decision"] == "promoted"
    figures = trained["data"]
    assert figures["candidate"]["frozen_test"]["macro_f1"] >= figures["current"]["frozen_test"]["macro_f1"]
    assert figures["candidate"]["holdout"]["macro_f1"] >= figures["current"]["holdout"]["macro_f1"]
    assert figures["candidate"]["holdout"]["n"] == 30 and figures["confirmed_labels"] == 90
    assert figures["current"]["version"] == weak["version"]
    assert events(store, "model_promoted")[-1]["data"] == {"version": candidate, "previous": weak["version"]}

    listing = world.run("model", "list").output
    assert re.search(rf"^\*\s+{candidate}\s", listing, re.M) and re.search(rf"^\s+{weak['version']}\s", listing, re.M)

    # A running service picks the new model up at its next poll, and a rollback likewise.
    watcher = CurrentModel(Triage(store, classifier.load(settings.classifier.model_dir), route_book(settings)), models)
    assert watcher.triage().classifier.version == candidate
    rolled = world.run("model", "rollback", weak["version"], "--as", "sup1")
    assert rolled.exit_code == 0, rolled.output
    assert models.current_version() == weak["version"] and watcher.triage().classifier.version == weak["version"]
    assert events(store, "model_rolled_back")[-1]["data"] == {"from": candidate, "to": weak["version"]}
    assert events(store, "model_rolled_back")[-1]["actor"] == "sup1"

    unknown = world.run("model", "rollback", "m-000000000000")
    assert unknown.exit_code == 1 and "no saved model version m-000000000000" in unknown.output
    assert models.current_version() == weak["version"]


def test_a_retrain_on_mislabelled_confirmations_is_refused_and_says_why(loop):
    world, settings, store = loop
    corpus = world.corpus(per_label=40)
    sound = classifier.train(labels_file=corpus, model_dir=settings.classifier.model_dir)
    world.confirm(40, relabel=ROTATED)

    result = world.run("retrain", "--corpus", str(corpus))
    assert result.exit_code == 0, result.output
    assert f"Kept {sound['version']}" in result.output
    assert "macro-F1 on the frozen test split would fall from" in result.output

    models = classifier.Registry(settings.classifier.model_dir)
    assert models.current_version() == sound["version"]
    assert len(models.entries()) == 2  # the refused candidate is kept for the record, not made current
    trained = events(store, "model_trained")[-1]["data"]
    assert trained["decision"] == "kept"
    assert trained["candidate"]["frozen_test"]["macro_f1"] < trained["current"]["frozen_test"]["macro_f1"]
    kept = events(store, "model_kept")[-1]["data"]
    assert kept["version"] == sound["version"] and kept["reasons"] == trained["reasons"]


def test_retraining_waits_for_enough_confirmed_labels(loop):
    world, settings, store = loop
    world.confirm(1)
    result = world.run("retrain")
    assert result.exit_code == 1
    assert "only 4 confirmed label(s) so far; retraining needs at least 20" in result.output
    assert "retrain_min_confirmed" in result.output
    assert events(store, "model_trained") == []
