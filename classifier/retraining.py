"""The learning loop's gate: train a candidate on the corpus plus confirmed labels, compare it with the
current model, and promote it only when it is not worse.

Both models are scored on two sets nobody trained on: the corpus's frozen test split (fixed, so
figures stay comparable across retrains) and the newest confirmed labels (the mail arriving now,
held out by time). The candidate must not lose macro-F1 on either, nor safeguarding recall on the
frozen test (confirmed labels carry a route, not a safeguarding judgement, so the holdout has none).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from .corpus import LABELS_FILE, Example
from .errors import ClassifierError, ModelMissing
from .model import Classifier
from .registry import Registry
from .text import Document
from .training import build_card, evaluate, fit, model_version, split_corpus


class NotEnoughLabels(ClassifierError):
    """Raised when there are too few confirmed labels to learn from and test on."""


@dataclass(frozen=True)
class ConfirmedLabel:
    """A caseworker's final route for one message, and when they settled it."""

    document: Document
    label: str
    confirmed_at: dt.datetime


@dataclass(frozen=True)
class Score:
    """One model's figures on one evaluation set (safeguarding recall is None where the set has no truth)."""

    n: int
    macro_f1: float | None
    safeguarding_recall: float | None = None


@dataclass(frozen=True)
class Scores:
    version: str
    frozen_test: Score
    holdout: Score


@dataclass(frozen=True)
class RetrainResult:
    candidate: Scores
    current: Scores | None
    promoted: bool
    reasons: tuple[str, ...]
    confirmed_used: int
    holdout_size: int
    card: dict[str, Any] = field(default_factory=dict)


def split_by_time(confirmed: Sequence[ConfirmedLabel], holdout_share: float) -> tuple[list[ConfirmedLabel],
                                                                                         list[ConfirmedLabel]]:
    """(older labels to learn from, newest labels to test on): the newest `holdout_share`, at least one."""
    ordered = sorted(confirmed, key=lambda c: c.confirmed_at)
    if not ordered:
        return [], []
    size = max(1, round(len(ordered) * holdout_share))
    return ordered[:-size], ordered[-size:]


def retrain(registry: Registry, confirmed: Sequence[ConfirmedLabel], holdout_share: float = 0.2,
            minimum: int = 1, labels_file: Path = LABELS_FILE, params: dict[str, Any] | None = None) -> RetrainResult:
    """Train, compare and (when not worse) promote; the candidate is saved either way, for the record."""
    if len(confirmed) < minimum:
        raise NotEnoughLabels(f"only {len(confirmed)} confirmed label(s) so far; retraining needs at least {minimum} "
                              f"([classifier] retrain_min_confirmed)")
    learn, holdout = split_by_time(confirmed, holdout_share)
    train_set, test_set = split_corpus(labels_file)
    extra = [_example(c, i) for i, c in enumerate(learn)]
    held = [_example(c, i) for i, c in enumerate(holdout)]
    parts, fitted = fit(train_set, params, route_only=extra)
    version = model_version(labels_file, fitted["params"], extra=_labels_hash(learn))
    card = build_card(version, fitted, labels_file, len(train_set), len(test_set),
                      confirmed_labels={"used": len(learn), "held_out": len(holdout)},
                      parent=registry.current_version())
    candidate_model = Classifier(parts, card)
    card["test_metrics"] = evaluate(candidate_model, test_set)
    candidate = _scores(candidate_model, test_set, held, card["test_metrics"])
    current_model = _current(registry)
    current = _scores(current_model, test_set, held) if current_model is not None else None
    reasons = _regressions(candidate, current)
    registry.save(parts, card)
    promoted = not reasons
    if promoted:
        registry.promote(version)
    return RetrainResult(candidate, current, promoted, tuple(reasons), len(learn), len(holdout), card)


def _current(registry: Registry) -> Classifier | None:
    try:
        return registry.load_current()
    except ModelMissing:
        return None


def _example(c: ConfirmedLabel, index: int) -> Example:
    # Caseworkers' confirmed labels are real mail: weighed, and counted for calibration, as real texts.
    return Example(file=f"confirmed:{index}", document=c.document, label=c.label, safeguarding=False,
                   origin="real", site="confirmed")


def _labels_hash(labels: Sequence[ConfirmedLabel]) -> str:
    digest = hashlib.sha256()
    for c in labels:
        digest.update(f"{c.label}\0{c.document.full_text}\0".encode())
    return digest.hexdigest()


def _scores(model: Classifier, test_set: list[Example], holdout: list[Example],
            test_metrics: dict[str, Any] | None = None) -> Scores:
    frozen = test_metrics or evaluate(model, test_set)
    held = evaluate(model, holdout) if holdout else None
    return Scores(
        version=model.version,
        frozen_test=Score(frozen["n"], frozen["macro_f1"], frozen["safeguarding"]["recall"]),
        holdout=Score(held["n"], held["macro_f1"]) if held else Score(0, None),
    )


def _regressions(candidate: Scores, current: Scores | None) -> list[str]:
    """Why the candidate is worse than the current model; empty when it is not."""
    if current is None:
        return []
    reasons = []
    checks = (
        ("macro-F1 on the frozen test split", candidate.frozen_test.macro_f1, current.frozen_test.macro_f1),
        ("safeguarding recall on the frozen test split", candidate.frozen_test.safeguarding_recall,
         current.frozen_test.safeguarding_recall),
        ("macro-F1 on the newest confirmed labels", candidate.holdout.macro_f1, current.holdout.macro_f1),
    )
    for what, new, old in checks:
        if new is not None and old is not None and new < old:
            reasons.append(f"{what} would fall from {old:.3f} to {new:.3f}")
    return reasons
