"""The learning loop, service side: confirmed labels from the store into the classifier's gated retrain,
rollbacks, and every model change written to the event log."""

from __future__ import annotations

import dataclasses
import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import classifier
from classifier.corpus import LABELS_FILE

from .parsing import classifiable_document, parse_message
from .pipeline import Triage
from .settings import Settings
from .events import ModelKept, ModelPromoted, ModelRolledBack, ModelTrained
from .store import Store

if TYPE_CHECKING:  # scikit-learn is imported only when a model is retrained
    from classifier.retraining import ConfirmedLabel, RetrainResult, Scores

log = logging.getLogger("triage.learning")


def registry(settings: Settings) -> classifier.Registry:
    return classifier.Registry(settings.classifier.model_dir)


def confirmed_labels(store: Store) -> list[ConfirmedLabel]:
    """Each approved or rejected item's final route, on the same text the classifier read when it arrived."""
    from classifier.retraining import ConfirmedLabel

    labels = []
    for confirmed in store.learning.confirmed_messages():
        document = classifiable_document(parse_message(confirmed.raw))
        labels.append(ConfirmedLabel(document, confirmed.route, confirmed.confirmed_at))
    return labels


def retrain_model(settings: Settings, store: Store, actor: str = "system",
                  labels_file: Path | None = None) -> RetrainResult:
    """Train a candidate on the corpus (the bundled one, or `labels_file`) plus confirmed labels; promote
    it only if it is not worse.

    Raises classifier.retraining.NotEnoughLabels while there are fewer than retrain_min_confirmed.
    """
    from classifier.retraining import retrain

    result = retrain(registry(settings), confirmed_labels(store),
                     holdout_share=settings.classifier.retrain_holdout_share,
                     minimum=settings.classifier.retrain_min_confirmed, labels_file=labels_file or LABELS_FILE)
    store.events.record(ModelTrained(**trained_event(result)), actor)
    if result.promoted:
        store.events.record(ModelPromoted(result.candidate.version,
                                          result.current.version if result.current else None), actor)
    else:
        store.events.record(ModelKept(result.current.version if result.current else None,
                                      result.candidate.version, list(result.reasons)), actor)
    log.info("retrained: candidate %s %s", result.candidate.version, "promoted" if result.promoted else "kept back")
    return result


def rollback_model(settings: Settings, store: Store, version: str, actor: str) -> str:
    """Make an earlier saved version current again; returns the version it replaced."""
    models = registry(settings)
    before = models.current_version() or ""
    models.promote(version)
    store.events.record(ModelRolledBack(before, version), actor)
    return before


def trained_event(result: RetrainResult) -> dict[str, Any]:
    """A retrain's figures as the event log (and the dashboard) keep them."""
    return {
        "candidate": _scores(result.candidate),
        "current": _scores(result.current) if result.current else None,
        "decision": "promoted" if result.promoted else "kept",
        "reasons": list(result.reasons),
        "confirmed_labels": result.confirmed_used,
        "holdout": result.holdout_size,
    }


def _scores(scores: Scores) -> dict[str, Any]:
    return {"version": scores.version, "frozen_test": dataclasses.asdict(scores.frozen_test),
            "holdout": dataclasses.asdict(scores.holdout)}


class CurrentModel:
    """Gives the poll job a Triage whose classifier is the registry's current version, reloading it
    when a retrain or rollback (in this process or another) has moved the pointer."""

    def __init__(self, triage: Triage, models: classifier.Registry) -> None:
        self._triage = triage
        self._models = models
        self._reloading = threading.Lock()  # several mailboxes' polls may ask at once: load the model once

    def triage(self) -> Triage:
        with self._reloading:
            current = self._models.current_version()
            if current is not None and current != self._triage.classifier.version:
                model = self._models.load_current()
                log.info("model changed from %s to %s: reloaded", self._triage.classifier.version, model.version)
                self._triage = dataclasses.replace(self._triage, classifier=model)
            return self._triage
