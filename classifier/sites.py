"""Leave-one-site-out evaluation on the real-derived corpus: how the model does on writers it never read.

For each site (mumsnet.com, ipsea.org.uk, a council page ...), a model is trained on the fictional
corpus and every other site, and scores that site's texts. The calibrator and the abstain threshold
for the held-out site are set, as in training, on the other sites' held-out scores only. So every
figure here is for texts whose site, style and writers the model never saw.

    python -m classifier.sites            # compare the candidate settings (docs/model-selection.md)
"""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any, Sequence

import numpy as np
from sklearn.metrics import f1_score

from .corpus import LABELS_FILE, REAL_LABELS_FILE, Example, load_corpus
from .features import Lexicon, route_text
from .labels import LABELS
from .model import DEFAULT_PARAMS, build_calibrator, build_route_pipeline
from .training import AUTO_ACCURACY_TARGET, choose_threshold, weights_for


def site_scores(fiction: Sequence[Example], real: Sequence[Example], params: dict[str, Any]) -> np.ndarray:
    """Decision scores for each real text from a model trained on the fiction and all other sites."""
    params = {**DEFAULT_PARAMS, **params}
    sites = np.array([e.site for e in real])
    scores = np.zeros((len(real), len(LABELS)))
    for site in sorted(set(sites)):
        held = np.where(sites == site)[0]
        train = [*fiction, *(e for e, s in zip(real, sites) if s != site)]
        lexicon = Lexicon.build(e.document.text for e in train)
        model = build_route_pipeline(params).fit([route_text(e.document.text, lexicon) for e in train],
                                                 [e.label for e in train],
                                                 clf__sample_weight=weights_for(train, params))
        scores[held] = model.decision_function([route_text(real[i].document.text, lexicon) for i in held])
    return scores


def judged(real: Sequence[Example], scores: np.ndarray, target: float = AUTO_ACCURACY_TARGET) -> list[dict[str, Any]]:
    """Each real text's label, calibrated confidence and whether it would be decided without review,
    with the calibrator and threshold fitted on the other sites only."""
    y = np.array([e.label for e in real])
    sites = np.array([e.site for e in real])
    rows: list[dict[str, Any]] = [{} for _ in real]
    for site in sorted(set(sites)):
        held, rest = sites == site, sites != site
        calibrator = build_calibrator().fit(scores[rest], y[rest])
        rest_proba = calibrator.predict_proba(scores[rest])
        rest_pred = calibrator.classes_[rest_proba.argmax(axis=1)]
        threshold = choose_threshold((rest_pred == y[rest]).astype(float), rest_proba.max(axis=1), target)
        proba = calibrator.predict_proba(scores[held])
        for i, p in zip(np.where(held)[0], proba):
            order = np.argsort(-p)
            rows[i] = {"file": real[i].file, "site": site, "kind": real[i].kind, "truth": real[i].label,
                       "label": str(calibrator.classes_[order[0]]), "confidence": float(p[order[0]]),
                       "runner_up": str(calibrator.classes_[order[1]]), "decided": bool(p[order[0]] >= threshold)}
    return rows


def summary(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Macro-F1, accuracy and auto-decided coverage/accuracy for some judged rows."""
    if not rows:
        return {"n": 0}
    truth = [r["truth"] for r in rows]
    pred = [r["label"] for r in rows]
    decided = [r for r in rows if r["decided"]]
    present = [label for label in LABELS if label in set(truth) | set(pred)]
    return {
        "n": len(rows),
        "macro_f1": round(float(f1_score(truth, pred, labels=present, average="macro", zero_division=0)), 4),
        "accuracy": round(float(np.mean(np.array(truth) == np.array(pred))), 4),
        "auto_coverage": round(len(decided) / len(rows), 4),
        "auto_accuracy": round(float(np.mean([r["truth"] == r["label"] for r in decided])), 4) if decided else None,
    }


def report(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The whole-corpus summary, one per kind of text, and the per-label recall."""
    by_kind: dict[str, list] = defaultdict(list)
    for r in rows:
        by_kind[r["kind"] or "unknown"].append(r)
    recall = {label: round(float(np.mean([r["label"] == label for r in rows if r["truth"] == label])), 4)
              for label in LABELS if any(r["truth"] == label for r in rows)}
    return {"overall": summary(rows), "by_kind": {k: summary(v) for k, v in sorted(by_kind.items())},
            "recall_by_label": recall, "sites": len({r["site"] for r in rows})}


def evaluate_sites(params: dict[str, Any] | None = None, real_file=REAL_LABELS_FILE,
                   fiction_file=LABELS_FILE) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Leave-one-site-out figures on the real-derived corpus (fiction's train split always in training)."""
    fiction = [e for e in load_corpus(fiction_file) if e.split != "test"]
    real = load_corpus(real_file)
    rows = judged(real, site_scores(fiction, real, params or {}))
    return report(rows), rows


CANDIDATES: tuple[dict[str, Any], ...] = (
    {},
    {"C": 2.0}, {"C": 32.0},
    {"real_weight": 1.0}, {"real_weight": 6.0},
    {"word_ngrams": 1},
    {"model": "svm", "C": 0.5},
)


def main() -> None:
    fiction = [e for e in load_corpus(LABELS_FILE) if e.split != "test"]
    real = load_corpus(REAL_LABELS_FILE)
    print(f"# Leave-one-site-out on {len(real)} real-derived texts from {len({e.site for e in real})} sites\n")
    print("| settings | macro-F1 | accuracy | decided without review | their accuracy | seconds |")
    print("|---|---|---|---|---|---|")
    for candidate in CANDIDATES:
        started = time.perf_counter()
        r = report(judged(real, site_scores(fiction, real, candidate)))["overall"]
        shown = ", ".join(f"{k}={v}" for k, v in candidate.items()) or "default " + str(DEFAULT_PARAMS)
        print(f"| {shown} | {r['macro_f1']:.3f} | {r['accuracy']:.3f} | {r['auto_coverage']:.1%} "
              f"| {r['auto_accuracy'] if r['auto_accuracy'] is None else format(r['auto_accuracy'], '.1%')} "
              f"| {time.perf_counter() - started:.0f} |", flush=True)


if __name__ == "__main__":
    main()
