"""The route model (calibrated linear text classifier) and the Classifier that answers for one email."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.naive_bayes import ComplementNB
from sklearn.svm import LinearSVC

from .labels import LABELS
from .safeguarding import rule_hits
from .text import Document, prepare_document

DEFAULT_PARAMS: dict[str, Any] = {
    "model": "svm", "C": 0.5, "features": "words+chars", "word_ngrams": 2, "char_ngrams": [2, 5],
}


def build_route_pipeline(params: dict[str, Any] | None = None) -> Pipeline:
    """Word and character n-gram TF-IDF into a linear model with sigmoid-calibrated probabilities."""
    p = {**DEFAULT_PARAMS, **(params or {})}
    parts = [("words", TfidfVectorizer(ngram_range=(1, p["word_ngrams"]), sublinear_tf=True, min_df=1, max_df=0.95))]
    if p["features"] == "words+chars":
        parts.append(
            ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=tuple(p["char_ngrams"]), sublinear_tf=True, min_df=2))
        )
    features = FeatureUnion(parts)
    if p["model"] == "svm":
        base: Any = LinearSVC(C=p["C"], class_weight="balanced")
    elif p["model"] == "nb":
        base = ComplementNB(alpha=p["C"])
    else:
        base = LogisticRegression(C=p["C"], class_weight="balanced", max_iter=3000)
    # ensemble=False: one model fitted on all the data, calibrated on cross-validated scores;
    # a fifth of the size of five averaged copies, and as well calibrated on data this small.
    calibrated = CalibratedClassifierCV(base, method="sigmoid", cv=5, ensemble=False)
    return Pipeline([("features", features), ("clf", calibrated)])


def slim(pipeline: Pipeline) -> Pipeline:
    """Drop what a fitted pipeline keeps only for introspection (TF-IDF's pruned-term lists)."""
    for step in pipeline.named_steps.values():
        for _, transformer in getattr(step, "transformer_list", []):
            if hasattr(transformer, "stop_words_"):
                del transformer.stop_words_
    return pipeline


@dataclass(frozen=True)
class Prediction:
    """What the classifier says about one email."""

    label: str
    confidence: float
    needs_review: bool
    safeguarding: bool
    scores: dict[str, float]
    model_version: str
    explanation: tuple[str, ...] = ()
    safeguarding_reasons: tuple[str, ...] = field(default=())


class Classifier:
    """A fitted route model, a fitted safeguarding model and the card that describes them."""

    def __init__(self, route_model: Pipeline, safeguarding_model: Pipeline, card: dict[str, Any]) -> None:
        self.route_model = route_model
        self.safeguarding_model = safeguarding_model
        self.card = card
        self.version: str = card["version"]
        self.threshold: float = float(card["threshold"])
        self.safeguarding_threshold: float = float(card["safeguarding_threshold"])
        self._classes = [str(c) for c in route_model.classes_]
        self._explainer = _Explainer(route_model)

    def predict(self, subject: str, body: str, html: bool = False, explain: bool = True) -> Prediction:
        """Classify one email from its subject and body (quoted text and signatures are ignored)."""
        return self.predict_documents([prepare_document(subject, body, html=html)], explain=explain)[0]

    def predict_documents(self, documents: Sequence[Document], explain: bool = True) -> list[Prediction]:
        """Classify prepared documents (see classifier.text.prepare_document) in one batch."""
        if not documents:
            return []
        texts = [d.text for d in documents]
        full_texts = [d.full_text for d in documents]
        features = self.route_model[:-1].transform(texts)
        probabilities = self.route_model[-1].predict_proba(features)
        risk = self.safeguarding_model.predict_proba(full_texts)[:, 1]
        predictions = []
        for index, text in enumerate(texts):
            scores = {label: 0.0 for label in LABELS}
            scores.update({c: float(p) for c, p in zip(self._classes, probabilities[index])})
            label = max(scores, key=scores.__getitem__)
            confidence = scores[label]
            if not text.strip():  # nothing to read: say so rather than guess
                label, confidence = "other", 0.0
            reasons = rule_hits(full_texts[index])
            if risk[index] >= self.safeguarding_threshold:
                reasons.append(f"model score {risk[index]:.2f}")
            predictions.append(Prediction(
                label=label,
                confidence=confidence,
                needs_review=confidence < self.threshold,
                safeguarding=bool(reasons),
                scores=scores,
                model_version=self.version,
                explanation=self._explainer.top_terms(features[index], label) if explain else (),
                safeguarding_reasons=tuple(reasons),
            ))
        return predictions


class _Explainer:
    """The word n-grams that pushed a text towards a label: TF-IDF weight times the averaged coefficients."""

    def __init__(self, pipeline: Pipeline, how_many: int = 8) -> None:
        union: FeatureUnion = pipeline.named_steps["features"]
        calibrated: CalibratedClassifierCV = pipeline.named_steps["clf"]
        names = union.get_feature_names_out()
        self._word_mask = np.array([n.startswith("words__") for n in names])
        self._names = np.array([n.removeprefix("words__") for n in names])
        coefs = [getattr(c.estimator, "coef_", None) for c in calibrated.calibrated_classifiers_]
        if any(c is None for c in coefs):  # naive Bayes: its per-class log probabilities play the part
            coefs = [c.estimator.feature_log_prob_ for c in calibrated.calibrated_classifiers_]
        self._coef = np.mean(coefs, axis=0)
        self._classes = [str(c) for c in calibrated.classes_]
        self._how_many = how_many

    def top_terms(self, row: Any, label: str) -> tuple[str, ...]:
        if label not in self._classes:
            return ()
        coef = self._coef[self._classes.index(label)] if self._coef.shape[0] > 1 else self._coef[0]
        row = row.tocsr()
        contributions = [
            (float(value * coef[col]), col)
            for col, value in zip(row.indices, row.data)
            if self._word_mask[col] and value * coef[col] > 0
        ]
        contributions.sort(reverse=True)
        return tuple(_readable(str(self._names[col])) for _, col in contributions[: self._how_many])


def _readable(term: str) -> str:
    """'cue_certificate_held' -> '[certificate held]': cue tokens shown as what they stand for."""
    return f"[{term.removeprefix('cue_').replace('_', ' ')}]" if term.startswith("cue_") else term
