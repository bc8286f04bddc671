"""Route classifier for EHC team mail: a library that knows nothing of the triage service.

    from classifier import load_or_train
    prediction = load_or_train().predict(subject, body)
"""

from pathlib import Path

from .errors import ClassifierError, CorpusError, ModelCardMismatch, ModelMissing
from .labels import LABELS, Route
from .model import Classifier, Prediction
from .persistence import DEFAULT_MODEL_DIR
from .registry import ModelEntry, Registry, UnknownVersion
from .text import Document, prepare, prepare_document
from .training import evaluate, train

__all__ = [
    "Classifier", "ClassifierError", "Document", "CorpusError", "DEFAULT_MODEL_DIR", "LABELS", "ModelCardMismatch",
    "ModelEntry", "ModelMissing", "Prediction", "Registry", "Route", "UnknownVersion", "evaluate", "load", "load_or_train",
    "prepare", "prepare_document", "train",
]


def load(model_dir: Path | None = None) -> Classifier:
    """The current model version in model_dir (default: the one built beside this package)."""
    return Registry(model_dir).load_current()


def load_or_train(model_dir: Path | None = None) -> Classifier:
    """The built model in model_dir; trains it from the bundled corpus first when none is built."""
    try:
        return load(model_dir)
    except ModelMissing:
        train(model_dir=model_dir)
        return load(model_dir)
