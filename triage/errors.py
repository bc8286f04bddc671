"""The service's exceptions; the CLI turns each into one clear line and a non-zero exit (triage.cli_errors)."""


class TriageError(Exception):
    """Base class for errors the service expects and can explain."""


class ConfigError(TriageError):
    """Raised when the settings file or a named environment variable is missing or wrong."""


class MailboxError(TriageError):
    """Raised when the mailbox cannot be reached, logged in to, or read."""


class LoginError(MailboxError):
    """Raised when the mail server refuses the configured username and password."""


class TokenError(TriageError):
    """Raised when no OAuth2 access token can be had: the provider refused, or the token command failed."""


class SendError(TriageError):
    """Raised when an outgoing message cannot be handed to the SMTP server."""


class NotFound(TriageError):
    """Raised when a queue item, message or outbox row does not exist."""


class InvalidAction(TriageError):
    """Raised when an action does not fit an item's state (approving a sent item, an unfilled placeholder)."""


class SafeguardingActionMissing(InvalidAction):
    """Raised when a safeguarding-flagged item is approved before any action on the flag is recorded."""


class Conflict(InvalidAction):
    """Raised when an item changed since the form was loaded (someone else acted on it first)."""


class ListenError(TriageError):
    """Raised when the web app cannot listen on its address (the port is taken, the host is not this machine's)."""


def event_error_text(exc: BaseException) -> str:
    """An exception as the event log keeps it: its type and message, cut to 500 characters."""
    return f"{type(exc).__name__}: {exc}"[:500]
