"""Compare candidate route pipelines on the training split; write the table.

    python -m classifier.selection > docs/model-selection.md

Each candidate is scored two ways, never looking at the frozen test split:
- stratified 5-fold cross-validation: macro-F1 and the share decided automatically at the
  threshold that keeps cross-validated auto-decisions at least 98% correct;
- leave-one-batch-out: train on every writing batch but one, test on that one. Batches were
  written by different writers for different voices, so this is the nearest thing here to the
  held-out mail written by people the corpus never imitated.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from sklearn.metrics import f1_score
from sklearn.model_selection import LeaveOneGroupOut, cross_val_predict

from .corpus import LABELS_FILE, load_corpus
from .model import DEFAULT_PARAMS, build_route_pipeline
from .training import _cv, choose_threshold

CANDIDATES: list[dict[str, Any]] = [
    {"model": "svm", "C": 0.3, "features": "words+chars"},
    {"model": "svm", "C": 0.5, "features": "words+chars"},
    {"model": "svm", "C": 1.0, "features": "words+chars"},
    {"model": "svm", "C": 0.5, "features": "words"},
    {"model": "logreg", "C": 10.0, "features": "words+chars"},
    {"model": "logreg", "C": 30.0, "features": "words+chars"},
    {"model": "nb", "C": 0.3, "features": "words"},
]


def score(params: dict[str, Any], texts: list[str], y: np.ndarray, groups: np.ndarray | None = None) -> dict[str, float]:
    started = time.perf_counter()
    splitter: Any = _cv(5, y) if groups is None else LeaveOneGroupOut()
    proba = cross_val_predict(build_route_pipeline(params), texts, y, cv=splitter, groups=groups,
                              method="predict_proba")
    classes = np.array(sorted(set(y)))
    pred = classes[proba.argmax(axis=1)]
    confidence = proba.max(axis=1)
    threshold = choose_threshold((pred == y).astype(float), confidence)
    return {
        "macro_f1": float(f1_score(y, pred, average="macro")),
        "coverage": float((confidence >= threshold).mean()),
        "threshold": threshold,
        "seconds": time.perf_counter() - started,
    }


def main() -> None:
    examples = [e for e in load_corpus(LABELS_FILE) if e.split != "test"]
    texts = [e.document.text for e in examples]
    y = np.array([e.label for e in examples])
    batches = np.array([e.file.split("/")[1] for e in examples])
    print(f"# Route model selection\n\n{len(examples)} training emails from {len(set(batches))} batches.\n")
    print("| model | C | features | char n-grams | CV macro-F1 | CV auto coverage at 98% | leave-one-batch-out macro-F1 "
          "| its auto coverage at 98% | seconds |")
    print("|---|---|---|---|---|---|---|---|---|")
    for candidate in CANDIDATES:
        p = {**DEFAULT_PARAMS, **candidate}
        r = score(p, texts, y)
        b = score(p, texts, y, groups=batches)
        chars = "-" if p["features"] == "words" else f"{p['char_ngrams'][0]}-{p['char_ngrams'][1]}"
        print(f"| {p['model']} | {p['C']} | {p['features']} | {chars} | {r['macro_f1']:.3f} | {r['coverage']:.1%} "
              f"| {b['macro_f1']:.3f} | {b['coverage']:.1%} | {r['seconds'] + b['seconds']:.0f} |", flush=True)


if __name__ == "__main__":
    main()
