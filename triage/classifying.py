"""The classifying step of intake: each message's route and safeguarding flag, in one call per batch.

A failure of the classifier must never lose a message: the batch is retried one message at a time, and
only the message that breaks it goes to a person with no route ("needs review").
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from classifier.labels import Route

from .domain import Classification, ParsedMessage
from .errors import event_error_text
from .events import ClassificationFailed, Event, SafeguardingFlagged
from .parsing import classifiable_document

if TYPE_CHECKING:  # the model's module imports scikit-learn (about 1 s): only where a model runs
    from classifier import Classifier, Prediction

log = logging.getLogger("triage.pipeline")


Verdict = tuple[Classification, tuple[Event, ...]]  # a classification and the events it adds (a safeguarding flag)


def classify_all(messages: list[ParsedMessage], classifier: Classifier) -> list[Verdict]:
    """Each message's classification and its events, in one batch; should the batch fail, one at a time,
    so only the message that breaks the classifier goes to a person unclassified."""
    try:
        return classify_batch(messages, classifier)
    except Exception as exc:
        if len(messages) == 1:  # a classifier bug must not lose the message: it is queued for a person
            log.exception("classification failed")
            return [(for_review(classifier), (ClassificationFailed(error=event_error_text(exc)),))]
        log.exception("classifying a batch failed: classifying its messages one at a time")
        return [classify_all([m], classifier)[0] for m in messages]


def classify_batch(messages: list[ParsedMessage], classifier: Classifier) -> list[Verdict]:
    """Each message's classification and its events, in one call (raises what the classifier raises)."""
    documents = [classifiable_document(p) for p in messages]  # the attached letter's text too
    return [_classification(p, classifier) for p in classifier.predict_documents(documents)]


def for_review(classifier: Classifier) -> Classification:
    """No route at all: what a message gets when classifying or triaging it failed."""
    return Classification(Route.OTHER.value, 0.0, True, False, {}, classifier.version)


def _classification(p: Prediction, classifier: Classifier) -> Verdict:
    events: tuple[Event, ...] = ()
    if p.safeguarding:
        events = (SafeguardingFlagged(reasons=list(p.safeguarding_reasons)),)
    return (
        Classification(p.label, p.confidence, p.needs_review, p.safeguarding, dict(p.scores), p.model_version,
                       p.explanation, p.safeguarding_reasons, threshold=classifier.threshold,
                       safeguarding_evidence=p.safeguarding_evidence, runner_up=p.runner_up),
        events,
    )
