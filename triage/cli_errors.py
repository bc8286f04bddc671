"""The one place the CLI turns an expected failure into `Error: <one line>` and exit code 1.

Commands call the service and let its exceptions rise; the top-level group catches them here, so no
command repeats a try/except. Anything else (a bug) keeps its traceback.
"""

from __future__ import annotations

from typing import Any

import click

from classifier import ClassifierError
from replies import FactsError

from .errors import TriageError
from .reports import visible

# The service's own (TriageError), the classifier's and the route facts' expected failures.
EXPECTED: tuple[type[Exception], ...] = (TriageError, ClassifierError, FactsError)


def one_line(exc: BaseException) -> str | None:
    """The message for an expected failure, or None for one that is a bug.

    An OSError naming a file (one the user gave or configured that cannot be read or written) is
    expected too; other OSErrors are not.
    """
    if isinstance(exc, EXPECTED) or (isinstance(exc, OSError) and exc.filename is not None):
        return visible(str(exc))
    return None


class TriageGroup(click.Group):
    """The top-level group: every subcommand runs inside it, so its failures are mapped once here."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as exc:
            message = one_line(exc)
            if message is None:
                raise
            raise click.ClickException(message) from None
