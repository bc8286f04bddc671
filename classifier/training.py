"""Train the route and safeguarding models, choose their thresholds, evaluate, and write the model card."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support
from sklearn.model_selection import StratifiedKFold, cross_val_predict

import sklearn

from .corpus import LABELS_FILE, Example, corpus_hash, load_corpus
from .errors import CorpusError
from .labels import LABELS
from .model import DEFAULT_PARAMS, Classifier, Prediction, build_route_pipeline, slim
from .registry import Registry
from .safeguarding import build_safeguarding_pipeline

AUTO_ACCURACY_TARGET = 0.98
SAFEGUARDING_MODEL_RECALL = 0.85


def choose_threshold(correct: np.ndarray, confidence: np.ndarray, target: float = AUTO_ACCURACY_TARGET) -> float:
    """The lowest confidence above which predictions are at least `target` accurate."""
    order = np.argsort(-confidence)
    hits = np.cumsum(correct[order])
    accuracy = hits / np.arange(1, len(order) + 1)
    ok = np.where(accuracy >= target)[0]
    if len(ok) == 0:
        return 1.0
    # The largest prefix (most coverage) whose accuracy still meets the target.
    return float(confidence[order][ok[-1]])


def choose_safeguarding_threshold(y: np.ndarray, risk: np.ndarray, target: float = SAFEGUARDING_MODEL_RECALL) -> float:
    """The highest model threshold at which the model alone reaches `target` cross-validated recall.

    The model is held to recall on its own, not to recall on top of the phrase rules: the rules were
    written from this corpus, so in-sample they look better than they will on new writers, and a
    threshold set behind them would leave the model too timid for mail nobody here imitated.
    """
    scores = np.sort(risk[y.astype(bool)])[::-1]
    if len(scores) == 0:
        return 0.5
    return float(scores[int(np.ceil(target * len(scores))) - 1])


def _cv(n: int, labels: Sequence[Any]) -> StratifiedKFold:
    smallest = min(np.unique(labels, return_counts=True)[1])
    return StratifiedKFold(n_splits=max(2, min(5, smallest)), shuffle=True, random_state=7)


def fit(train: list[Example], params: dict[str, Any] | None = None,
        route_only: Sequence[Example] = ()) -> tuple[Any, Any, dict[str, Any]]:
    """Fit both models on `train`; thresholds come from cross-validated predictions on it.

    `route_only` examples (caseworkers' confirmed labels) teach the route model only: they say
    nothing about safeguarding, and counting them as "no concern" would teach the detector to miss.
    """
    params = {**DEFAULT_PARAMS, **(params or {})}
    routed = [*train, *route_only]
    texts = [e.document.text for e in routed]
    full_texts = [e.document.full_text for e in train]
    y = np.array([e.label for e in routed])
    sg = np.array([e.safeguarding for e in train])
    if len(set(y)) < len(LABELS):
        raise CorpusError(f"the training corpus needs every label; it has only {sorted(set(y))}")

    route_model = build_route_pipeline(params)
    cv_proba = cross_val_predict(route_model, texts, y, cv=_cv(5, y), method="predict_proba")
    classes = np.array(sorted(set(y)))
    cv_pred = classes[cv_proba.argmax(axis=1)]
    threshold = choose_threshold((cv_pred == y).astype(float), cv_proba.max(axis=1))

    sg_model = build_safeguarding_pipeline()
    if sg.sum() >= 2:
        cv_risk = cross_val_predict(sg_model, full_texts, sg, cv=_cv(5, sg), method="predict_proba")[:, 1]
        sg_threshold = choose_safeguarding_threshold(sg, cv_risk)
    else:
        sg_threshold = 0.5

    slim(route_model.fit(texts, y))
    slim(sg_model.fit(full_texts, sg))
    cv_metrics = {
        "macro_f1": round(float(f1_score(y, cv_pred, average="macro")), 4),
        "auto_coverage": round(float((cv_proba.max(axis=1) >= threshold).mean()), 4),
    }
    return route_model, sg_model, {"threshold": threshold, "safeguarding_threshold": sg_threshold,
                                   "params": params, "cross_validation": cv_metrics}


def evaluate(classifier: Classifier, examples: list[Example]) -> dict[str, Any]:
    """Per-label precision/recall/F1, macro-F1, confusion matrix, auto-decided coverage and accuracy,
    safeguarding recall and precision."""
    predictions = classifier.predict_documents([e.document for e in examples], explain=False)
    return metrics([e.label for e in examples], [e.safeguarding for e in examples], predictions)


def metrics(truth: Sequence[str], truth_sg: Sequence[bool], predictions: Sequence[Prediction]) -> dict[str, Any]:
    y = list(truth)
    pred = [p.label for p in predictions]
    precision, recall, f1, support = precision_recall_fscore_support(y, pred, labels=list(LABELS), zero_division=0)
    auto = [p for p in predictions if not p.needs_review]
    auto_correct = sum(p.label == t for p, t in zip(predictions, y) if not p.needs_review)
    sg_true = np.array(truth_sg, dtype=bool)
    sg_pred = np.array([p.safeguarding for p in predictions], dtype=bool)
    return {
        "n": len(y),
        # Over the labels that occur, so a small file without, say, `other` is not marked down for it.
        "macro_f1": round(float(f1_score(y, pred, labels=[l for l in LABELS if l in set(y) | set(pred)],
                                         average="macro", zero_division=0)), 4),
        "accuracy": round(float(np.mean(np.array(y) == np.array(pred))), 4) if y else 0.0,
        "per_label": {
            label: {"precision": round(float(precision[i]), 4), "recall": round(float(recall[i]), 4),
                    "f1": round(float(f1[i]), 4), "support": int(support[i])}
            for i, label in enumerate(LABELS)
        },
        "confusion": {"labels": list(LABELS), "matrix": confusion_matrix(y, pred, labels=list(LABELS)).tolist()},
        "auto_coverage": round(len(auto) / len(y), 4) if y else 0.0,
        "auto_accuracy": round(auto_correct / len(auto), 4) if auto else 0.0,
        "safeguarding": {
            "positives": int(sg_true.sum()),
            "flagged": int(sg_pred.sum()),
            "recall": round(float((sg_true & sg_pred).sum() / sg_true.sum()), 4) if sg_true.any() else None,
            "precision": round(float((sg_true & sg_pred).sum() / sg_pred.sum()), 4) if sg_pred.any() else None,
        },
    }


def model_version(labels_file: Path, params: dict[str, Any], extra: str = "") -> str:
    """'m-' and a hash of the corpus (and `extra`: the confirmed labels' hash), every setting of both
    pipelines, the code that prepares text and flags risk, and the scikit-learn version: any of them
    changing makes a new version."""
    code = "".join((Path(__file__).parent / name).read_text()
                   for name in ("text.py", "cues.py", "safeguarding.py", "model.py"))
    settings = {
        "route": build_route_pipeline(params).get_params(deep=True),
        "safeguarding": build_safeguarding_pipeline().get_params(deep=True),
    }
    blob = corpus_hash(labels_file) + extra + json.dumps(settings, sort_keys=True, default=repr) + code + sklearn.__version__
    return "m-" + hashlib.sha256(blob.encode()).hexdigest()[:12]


def split_corpus(labels_file: Path) -> tuple[list[Example], list[Example]]:
    """(train, frozen test) examples of a labels file."""
    examples = load_corpus(labels_file)
    return [e for e in examples if e.split != "test"], [e for e in examples if e.split == "test"]


def build_card(version: str, fitted: dict[str, Any], labels_file: Path, train_size: int, test_size: int,
               **extra: Any) -> dict[str, Any]:
    """The model card: what was trained on what, with which thresholds and why."""
    return {
        "version": version,
        "trained_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "labels": list(LABELS),
        "threshold": round(fitted["threshold"], 6),
        "threshold_rule": f"lowest top-probability at which cross-validated predictions were >= {AUTO_ACCURACY_TARGET:.0%} correct",
        "safeguarding_threshold": round(fitted["safeguarding_threshold"], 6),
        "safeguarding_rule": f"phrase rules OR model score >= threshold; threshold set so the model alone has "
                             f">= {SAFEGUARDING_MODEL_RECALL:.0%} cross-validated recall",
        "params": fitted["params"],
        "corpus": {"file": labels_file.name, "train": train_size, "test": test_size},
        "cross_validation": fitted["cross_validation"],
        "sklearn_version": sklearn.__version__,
        **extra,
    }


def train(labels_file: Path = LABELS_FILE, model_dir: Path | None = None,
          params: dict[str, Any] | None = None) -> dict[str, Any]:
    """Build the model from the corpus, evaluate it on the frozen test split, save it and make it current.

    This is the bootstrap (and a person's explicit rebuild); `retraining.retrain` is the gated path
    that learns from confirmed labels and promotes only a model that is not worse.
    """
    registry = Registry(model_dir)
    train_set, test_set = split_corpus(labels_file)
    route_model, sg_model, fitted = fit(train_set, params)
    card = build_card(model_version(labels_file, fitted["params"]), fitted, labels_file, len(train_set),
                      len(test_set))
    if test_set:
        card["test_metrics"] = evaluate(Classifier(route_model, sg_model, card), test_set)
    registry.save({"route": route_model, "safeguarding": sg_model}, card)
    registry.promote(card["version"])
    return card
