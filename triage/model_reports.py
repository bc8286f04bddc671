"""What the CLI prints about the model: classify, evaluate (and --sites), train, retrain and model list.

Kept apart from triage.reports (the service's queue, outbox and health) because these read the
classifier's figures, not the store's records. Sentences quoted from a message pass through `visible`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import classifier

from .reports import ratio, table, visible

if TYPE_CHECKING:  # scikit-learn is imported only by the commands that run a model
    from classifier.registry import ModelEntry
    from classifier.retraining import RetrainResult


def prediction_json(path: Path, p: classifier.Prediction, explain: bool) -> dict[str, Any]:
    """One `classify --format jsonl` line (the README lists the keys)."""
    out: dict[str, Any] = {
        "path": str(path), "label": p.label, "confidence": round(p.confidence, 4),
        "needs_review": p.needs_review, "safeguarding": p.safeguarding,
        "scores": {k: round(v, 4) for k, v in p.scores.items()},
    }
    if explain:
        out["explanation"] = list(p.explanation)
        out["runner_up"] = {"label": p.runner_up[0], "score": round(p.runner_up[1], 4)} if p.runner_up else None
        out["safeguarding_reasons"] = list(p.safeguarding_reasons)
        out["safeguarding_evidence"] = list(p.safeguarding_evidence)
    return out


def predictions_table(paths: tuple[Path, ...], predictions: list[classifier.Prediction], explain: bool) -> str:
    """`classify --format table`: one row per file, then (with --explain) each file's evidence."""
    rows = [("PATH", "LABEL", "CONF", "REVIEW", "SAFEGUARDING")]
    for path, p in zip(paths, predictions):
        rows.append((str(path), p.label, f"{p.confidence:.2f}", "yes" if p.needs_review else "no",
                     "YES" if p.safeguarding else "no"))
    text = table(rows)
    if explain and predictions:
        text += "\n\n" + "\n".join(explained(path, p) for path, p in zip(paths, predictions))
    return text


def explained(path: Path, p: classifier.Prediction) -> str:
    """A prediction's evidence as lines a person reads: the sentences, the runner-up, the risk."""
    lines = [f"{path}: {p.label} ({p.confidence:.0%})"
             + (f", close to {p.runner_up[0]} ({p.runner_up[1]:.0%})" if p.runner_up else "")]
    lines += [f"  because: \"{sentence}\"" for sentence in p.explanation] or ["  (no sentence stands out)"]
    if p.safeguarding:
        lines.append(f"  safeguarding: {', '.join(p.safeguarding_reasons)}")
        lines += [f"    \"{sentence}\"" for sentence in p.safeguarding_evidence]
    return "\n".join(visible(line) for line in lines)


def evaluation_text(version: str, threshold: float, m: dict[str, Any]) -> str:
    """`evaluate`'s table: per-route scores, the totals, safeguarding, and the confusion matrix."""
    rows = [("LABEL", "PRECISION", "RECALL", "F1", "SUPPORT")]
    for label, r in m["per_label"].items():
        rows.append((label, f"{r['precision']:.3f}", f"{r['recall']:.3f}", f"{r['f1']:.3f}", str(r["support"])))
    sg = m["safeguarding"]
    labels = m["confusion"]["labels"]
    matrix = [("true \\ predicted", *labels)] + [(label, *map(str, row))
                                                 for label, row in zip(labels, m["confusion"]["matrix"])]
    return "\n".join([
        f"model {version}, {m['n']} emails, abstain threshold {threshold:.3f}\n",
        table(rows),
        f"\nmacro-F1 {m['macro_f1']:.3f}, accuracy {m['accuracy']:.3f}",
        f"auto-decided: {m['auto_coverage']:.1%} of messages, {m['auto_accuracy']:.1%} of them correct",
        f"safeguarding: {sg['positives']} flagged in the labels, {sg['flagged']} by the model; "
        f"recall {ratio(sg['recall'])}, precision {ratio(sg['precision'])}",
        "\nconfusion matrix\n" + table(matrix),
    ])


def sites_text(figures: dict[str, Any]) -> str:
    """`evaluate --sites`: leave-one-site-out overall and by kind of text, then recall by route."""
    o = figures["overall"]
    rows = [("KIND", "N", "MACRO-F1", "ACCURACY", "DECIDED", "OF THOSE CORRECT")]
    for kind, r in [*figures["by_kind"].items(), ("all", o)]:
        rows.append((kind, str(r["n"]), f"{r['macro_f1']:.3f}", f"{r['accuracy']:.3f}", f"{r['auto_coverage']:.1%}",
                     "-" if r["auto_accuracy"] is None else f"{r['auto_accuracy']:.1%}"))
    return "\n".join([
        f"leave-one-site-out: {o['n']} texts from {figures['sites']} sites\n",
        table(rows),
        "\nrecall by route: " + ", ".join(f"{k} {v:.3f}" for k, v in figures["recall_by_label"].items()),
    ])


def trained_text(card: dict[str, Any], model_dir: Path) -> str:
    lines = [f"model {card['version']} trained on {card['corpus']['train']} emails "
             f"(threshold {card['threshold']:.3f}); card in {model_dir}"]
    if "test_metrics" in card:
        m = card["test_metrics"]
        lines.append(f"frozen test split ({m['n']}): macro-F1 {m['macro_f1']:.3f}, auto-decided "
                     f"{m['auto_coverage']:.0%} at {m['auto_accuracy']:.1%} accuracy, safeguarding recall "
                     f"{m['safeguarding']['recall']}")
    return "\n".join(lines)


def retrain_text(result: RetrainResult) -> str:
    """The candidate against the current model on both test sets, and the decision with its reasons."""
    rows = [("", "model", "frozen test macro-F1", "safeguarding recall", "newest confirmed macro-F1")]
    for name, scores in (("candidate", result.candidate), ("current", result.current)):
        if scores is not None:
            rows.append((name, scores.version, ratio(scores.frozen_test.macro_f1),
                         ratio(scores.frozen_test.safeguarding_recall),
                         f"{ratio(scores.holdout.macro_f1)} (n={scores.holdout.n})"))
    if result.promoted:
        decision = f"Promoted {result.candidate.version}: it is not worse on any measure."
    else:
        decision = (f"Kept {result.current.version if result.current else 'the current model'}: "
                    + "; ".join(result.reasons) + ".")
    return "\n".join([f"Learned from {result.confirmed_used} confirmed label(s); tested on the newest "
                      f"{result.holdout_size} and on the frozen test split.", table(rows), decision])


def models_table(entries: list[ModelEntry]) -> str:
    rows = [("", "version", "trained at", "frozen test macro-F1", "safeguarding recall", "confirmed labels")]
    for e in entries:
        test = e.card.get("test_metrics", {})
        rows.append(("*" if e.current else "", e.version, e.trained_at, ratio(test.get("macro_f1")),
                     ratio(test.get("safeguarding", {}).get("recall")),
                     str(e.card.get("confirmed_labels", {}).get("used", 0))))
    return table(rows)
