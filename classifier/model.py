"""The route model (hashed words, a linear model and a calibrator) and the Classifier that answers for an email.

Everything here is chosen to be quick to load and quick to run: words are hashed (no vocabulary to
store or rebuild), the models are linear, and the files hold little more than coefficient arrays.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.svm import LinearSVC
from sklearn.utils import murmurhash3_32

from .features import Lexicon, is_ask, route_text, sentence_route_text, sentences
from .labels import LABELS
from .safeguarding import rule_evidence
from .text import Document, normalise, prepare_document

DEFAULT_PARAMS: dict[str, Any] = {
    "model": "svm", "C": 0.5, "word_ngrams": 2, "hash_bits": 18, "real_weight": 3.0,
}
# A call this close to the runner-up is shown with the runner-up beside it.
CLOSE_MARGIN = 0.25
EVIDENCE_SENTENCES = 3
_TOKENS = r"(?u)\b\w\w+\b"


def hashing(bits: int, ngrams: int) -> HashingVectorizer:
    """Words and word pairs hashed into 2**bits columns: nothing to learn, nothing to store."""
    return HashingVectorizer(ngram_range=(1, ngrams), n_features=2 ** bits, alternate_sign=False, norm=None,
                             lowercase=False, token_pattern=_TOKENS, dtype=np.float32)


def build_route_pipeline(params: dict[str, Any] | None = None) -> Pipeline:
    """Hashed word n-grams, TF-IDF weighted, into a class-balanced linear model (uncalibrated: the
    Calibrator turns its scores into probabilities)."""
    p = {**DEFAULT_PARAMS, **(params or {})}
    if p["model"] == "svm":
        clf: Any = LinearSVC(C=p["C"], class_weight="balanced")
    else:
        clf = LogisticRegression(C=p["C"], class_weight="balanced", max_iter=3000)
    return Pipeline([("hash", hashing(p["hash_bits"], p["word_ngrams"])),
                     ("tfidf", TfidfTransformer(sublinear_tf=True)), ("clf", clf)])


def build_safeguarding_pipeline(C: float = 16.0) -> Pipeline:
    """Hashed words and word pairs of the whole message into a class-balanced logistic regression."""
    return Pipeline([("hash", hashing(18, 2)), ("tfidf", TfidfTransformer(sublinear_tf=True)),
                     ("clf", LogisticRegression(C=C, class_weight="balanced", max_iter=3000))])


def build_calibrator() -> LogisticRegression:
    """Maps the route model's four scores to probabilities; fitted on held-out (other sites') scores."""
    return LogisticRegression(C=1.0, max_iter=2000)


@dataclass(frozen=True)
class Prediction:
    """What the classifier says about one email."""

    label: str
    confidence: float
    needs_review: bool
    safeguarding: bool
    scores: dict[str, float]
    model_version: str
    # The sentences of the message that most support the label (evidence a caseworker can read).
    explanation: tuple[str, ...] = ()
    # Names of what raised the flag ("suicidal talk", "model score 0.71"): no words of the message.
    safeguarding_reasons: tuple[str, ...] = field(default=())
    # The sentences that raised the flag, in the writer's words: for the caseworker, never for alerts.
    safeguarding_evidence: tuple[str, ...] = field(default=())
    # The second route and its probability, when the call is close.
    runner_up: tuple[str, float] | None = None


# From this many texts on, scores come from the fitted pipeline itself (measured: 3,000 sentences in
# 0.09 s against 0.23 s one by one); below it, the per-text path avoids scikit-learn's per-call checks.
BATCHED_FROM = 16


class LinearScorer:
    """A fitted hashing -> TF-IDF -> linear pipeline's decision scores, computed without scikit-learn's
    per-call checks: the same numbers (a test holds them equal), at a fraction of the cost for one message.
    """

    def __init__(self, pipeline: Pipeline) -> None:
        hasher: HashingVectorizer = pipeline.named_steps["hash"]
        tfidf: TfidfTransformer = pipeline.named_steps["tfidf"]
        clf = pipeline.named_steps["clf"]
        if hasher.alternate_sign or hasher.norm is not None or not tfidf.sublinear_tf or tfidf.norm != "l2":
            raise ValueError("LinearScorer needs unsigned, unnormalised hashing and sublinear, l2 TF-IDF")
        self._analyze = hasher.build_analyzer()
        self._features = int(hasher.n_features)
        self._idf = np.asarray(tfidf.idf_, dtype=np.float64)
        self._weights = np.ascontiguousarray(np.asarray(clf.coef_, dtype=np.float64).T)  # features x classes
        self._intercept = np.asarray(clf.intercept_, dtype=np.float64)
        self._pipeline = pipeline

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        """Decision scores, one row per text (one column for a two-class model)."""
        if len(texts) >= BATCHED_FROM:  # scikit-learn's sparse path wins once its per-call checks are shared
            batched = np.asarray(self._pipeline.decision_function(list(texts)), dtype=np.float64)
            return batched.reshape(len(texts), -1)
        out = np.empty((len(texts), self._weights.shape[1]))
        for row, text in enumerate(texts):
            grams = self._analyze(text)
            if not grams:
                out[row] = self._intercept
                continue
            hashed = np.fromiter((murmurhash3_32(g, 0) for g in grams), dtype=np.int64, count=len(grams))
            columns, counts = np.unique(np.abs(hashed) % self._features, return_counts=True)
            weights = (1.0 + np.log(counts)) * self._idf[columns]
            weights /= np.linalg.norm(weights)
            out[row] = weights @ self._weights[columns] + self._intercept
        return out


def _softmax(scores: np.ndarray) -> np.ndarray:
    shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


class Classifier:
    """A fitted route model, its calibrator, a safeguarding model, the name lexicon and the card."""

    def __init__(self, parts: dict[str, Any], card: dict[str, Any]) -> None:
        self.route_model: Pipeline = parts["route"]
        self.calibrator: LogisticRegression = parts["calibrator"]
        self.safeguarding_model: Pipeline = parts["safeguarding"]
        self.lexicon = parts["lexicon"] if isinstance(parts["lexicon"], Lexicon) else Lexicon(frozenset(parts["lexicon"]))
        self.card = card
        self.version: str = card["version"]
        self.threshold: float = float(card["threshold"])
        self.safeguarding_threshold: float = float(card["safeguarding_threshold"])
        self._classes = [str(c) for c in self.calibrator.classes_]
        self._route = LinearScorer(self.route_model)
        self._risk = LinearScorer(self.safeguarding_model)
        self._calibration = (np.asarray(self.calibrator.coef_, dtype=np.float64).T,
                             np.asarray(self.calibrator.intercept_, dtype=np.float64))

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled as its fitted parts and card (for the backlog worker), rebuilt by __init__."""
        return (Classifier, (self.parts(), self.card))

    def parts(self) -> dict[str, Any]:
        return {"route": self.route_model, "calibrator": self.calibrator, "safeguarding": self.safeguarding_model,
                "lexicon": self.lexicon}

    def predict(self, subject: str, body: str, html: bool = False, explain: bool = True) -> Prediction:
        """Classify one email from its subject and body (quoted text and signatures are ignored)."""
        return self.predict_documents([prepare_document(subject, body, html=html)], explain=explain)[0]

    def route_probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """Calibrated probabilities (rows in self._classes order) for route-model inputs."""
        weights, intercept = self._calibration
        return _softmax(self._route.scores(texts) @ weights + intercept)

    def risk(self, texts: Sequence[str]) -> np.ndarray:
        """The safeguarding model's probability of risk for normalised whole-message texts."""
        return 1.0 / (1.0 + np.exp(-self._risk.scores(texts)[:, 0]))

    def predict_documents(self, documents: Sequence[Document], explain: bool = True) -> list[Prediction]:
        """Classify prepared documents (see classifier.text.prepare_document) in one batch."""
        if not documents:
            return []
        inputs = [route_text(d.text, self.lexicon) for d in documents]
        probabilities = self.route_probabilities(inputs)
        full_texts = [normalise(d.full_text) for d in documents]
        risk = self.risk(full_texts)
        evidence = self._evidence(documents, probabilities) if explain else [()] * len(documents)
        predictions = []
        for index, document in enumerate(documents):
            scores = {label: 0.0 for label in LABELS}
            scores.update({c: float(p) for c, p in zip(self._classes, probabilities[index])})
            ranked = sorted(scores, key=scores.__getitem__, reverse=True)
            label, confidence = ranked[0], scores[ranked[0]]
            runner_up = (ranked[1], scores[ranked[1]]) if confidence - scores[ranked[1]] < CLOSE_MARGIN else None
            if not normalise(document.text):  # nothing to read: say so rather than guess
                label, confidence, runner_up = "other", 0.0, None
            hits = rule_evidence(document.full_text)
            reasons = list(dict.fromkeys(name for name, _ in hits))
            shown = [sentence for _, sentence in hits]
            if risk[index] >= self.safeguarding_threshold:
                reasons.append(f"model score {risk[index]:.2f}")
                if not shown and explain:
                    shown = [self._riskiest_sentence(document.full_text)]
            predictions.append(Prediction(
                label=label, confidence=confidence, needs_review=confidence < self.threshold,
                safeguarding=bool(reasons), scores=scores, model_version=self.version,
                explanation=evidence[index], safeguarding_reasons=tuple(reasons),
                safeguarding_evidence=tuple(dict.fromkeys(s for s in shown if s))[:3], runner_up=runner_up,
            ))
        return predictions

    def _evidence(self, documents: Sequence[Document], probabilities: np.ndarray) -> list[tuple[str, ...]]:
        """For each message, the one to three sentences whose words most favour its label over the others."""
        cut = [[s for s in _sentences_of(d.text) if len(s) > 3][:60] for d in documents]
        flat = [s for group in cut for s in group]
        if not flat:
            return [()] * len(documents)
        scores = self._route.scores([sentence_route_text(s, self.lexicon) for s in flat])
        result, at = [], 0
        for group, probs in zip(cut, probabilities):
            rows = scores[at: at + len(group)]
            at += len(group)
            label = int(np.argmax(probs))
            if not group:
                result.append(())
                continue
            others = np.delete(rows, label, axis=1).max(axis=1)
            margin = rows[:, label] - others + np.array([0.25 if is_ask(s) else 0.0 for s in group])
            best = [i for i in np.argsort(-margin)[:EVIDENCE_SENTENCES] if margin[i] > 0] or [int(np.argmax(margin))]
            result.append(tuple(_shown(group[i]) for i in sorted(best)))
        return result

    def _riskiest_sentence(self, text: str) -> str:
        group = [s for s in sentences(text) if len(s) > 3][:200]
        if not group:
            return ""
        risk = self.risk([normalise(s) for s in group])
        return _shown(group[int(np.argmax(risk))])


def _sentences_of(text: str) -> list[str]:
    """A document's sentences, its first line (the subject) on its own."""
    subject, _, body = text.partition("\n")
    return [subject.strip(), *sentences(body)] if subject.strip() else sentences(body)


def _shown(sentence: str, limit: int = 300) -> str:
    """A sentence on one line, cut to a length a page can show."""
    one = " ".join(sentence.split())
    return one if len(one) <= limit else one[: limit - 1].rstrip() + "…"
