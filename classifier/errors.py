"""The classifier's exceptions."""


class ClassifierError(Exception):
    """Base class for classifier errors."""


class ModelMissing(ClassifierError):
    """Raised when no built model is found; run `ehc-triage train`."""


class ModelCardMismatch(ClassifierError):
    """Raised when a model file does not match its model card (changed, swapped or corrupt)."""


class CorpusError(ClassifierError):
    """Raised when the labelled corpus or a labels file is missing, unreadable or inconsistent."""
