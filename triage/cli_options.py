"""The CLI's shared parsing: the settings read when a command first needs them, the options several
commands take, and a password read from a prompt or standard input."""

from __future__ import annotations

import sys
from functools import cached_property
from pathlib import Path
from typing import Any, Callable

import click

from . import logs
from .settings import Settings, load_settings

Decorator = Callable[[Any], Any]


class Context:
    """The object every command is passed: `--config`, and the settings read from it at first use
    (so `classify`, `train` and `evaluate` need none)."""

    def __init__(self, config: str | None) -> None:
        self.config = config

    @cached_property
    def settings(self) -> Settings:
        settings = load_settings(self.config)
        logs.use_format(settings.service.log_format)
        return settings


def actor_option(doing: str) -> Decorator:
    """`--as NAME`: who is acting, for the event log (default "cli")."""
    return click.option("--as", "actor", default="cli", show_default=True, help=f"Who is {doing}, for the event log.")


def format_option(*choices: str, default: str) -> Decorator:
    return click.option("--format", "fmt", type=click.Choice(list(choices)), default=default, show_default=True)


def model_dir_option(about: str = "Model folder (default: the one built beside the classifier package).") -> Decorator:
    return click.option("--model-dir", type=click.Path(file_okay=False, path_type=Path), default=None, help=about)


def password_stdin_option(which: str = "the password") -> Decorator:
    return click.option("--password-stdin", is_flag=True, help=f"Read {which} from the first line of standard input.")


def read_password(from_stdin: bool) -> str:
    """The first line of standard input, or a password typed twice at a hidden prompt."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise click.ClickException("no password on standard input")
        return password
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))
