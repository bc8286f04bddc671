"""README's "## Commands" reference and the CLI's --help agree: every command is documented with
each of its options, and every documented command exists."""

from __future__ import annotations

import re
from pathlib import Path

import click
from click.testing import CliRunner

from triage.cli import cli

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()
PROGRAM = "ehc-triage"


def _reference() -> list[str]:
    """The lines of the Commands section's code block."""
    section = README.split("\n## Commands\n", 1)[1].split("\n## ", 1)[0]
    return section.split("```", 2)[1].strip("\n").splitlines()


def documented() -> dict[str, str]:
    """Each documented command path ("queue list") and its entry: synopsis plus description lines.

    An entry starts at a line indented two spaces; its command is the leading lower-case words of the
    synopsis (up to the first argument, option or the two spaces before the description).
    """
    entries: dict[str, str] = {}
    current = None
    for line in _reference()[1:]:
        if line.startswith("  ") and not line.startswith("   "):
            words = []
            for word in line.strip().split("  ")[0].split():
                if not re.fullmatch(r"[a-z][a-z-]*", word):
                    break
                words.append(word)
            current = " ".join(words)
            entries[current] = entries.get(current, "") + "\n" + line
        elif current is not None:
            entries[current] += "\n" + line
    return entries


def commands(group: click.Group = cli, prefix: str = "") -> dict[str, click.Command]:
    """Every command that runs something (subgroups are listed through their commands)."""
    found: dict[str, click.Command] = {}
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found.update(commands(command, f"{prefix}{name} "))
        else:
            found[f"{prefix}{name}"] = command
    return found


def _mentions(text: str, flag: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", text) is not None


def _options(command: click.Command) -> list[click.Option]:
    return [p for p in command.params if isinstance(p, click.Option) and "--help" not in p.opts]


def test_every_command_is_documented_and_every_documented_command_exists():
    docs, cli_commands = set(documented()), set(commands())
    assert not cli_commands - docs, "commands missing from README's Commands section"
    assert not docs - cli_commands, "README documents commands the CLI does not have"


def test_every_option_appears_in_its_commands_entry():
    entries = documented()
    missing = [f"{path} {option.opts[-1]}" for path, command in commands().items() for option in _options(command)
               if not any(_mentions(entries[path], flag) for flag in option.opts)]
    assert not missing, "options missing from their README entries"


def test_the_global_options_are_on_the_first_line():
    first = _reference()[0]
    assert first.startswith(PROGRAM)
    missing = [o.opts[-1] for o in _options(cli) if not any(_mentions(first, flag) for flag in o.opts)]
    assert not missing


def test_the_reference_matches_help():
    """--help lists the same commands, so the reference is checked against what a user actually sees."""
    listed = CliRunner().invoke(cli, ["--help"]).output.split("Commands:\n", 1)[1]
    top = {line.split()[0] for line in listed.splitlines() if line.strip()}
    assert top == {path.split()[0] for path in documented()}
