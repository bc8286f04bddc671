"""The README and the example settings file keep up with the code."""

from __future__ import annotations

import tomllib
from pathlib import Path

import click

from triage.cli import cli
from triage.settings import _KNOWN

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def _commands(group: click.Group, prefix: str = "") -> list[str]:
    names = []
    for name, command in group.commands.items():
        names.append(f"{prefix}{name}")
        if isinstance(command, click.Group):
            names.extend(_commands(command, f"{prefix}{name} "))
    return names


def test_every_command_is_in_the_readme():
    missing = [name for name in _commands(cli) if name not in README]
    assert not missing


def _own_keys(section: str) -> set[str]:
    """A section's keys, less [imap]'s for [[mailbox]] (whose tables take every [imap] key too)."""
    return _KNOWN[section] - (_KNOWN["imap"] if section == "mailbox" else {"password"})


def test_every_config_key_is_in_the_readme_table():
    missing = [f"[{s}] {k}" for s in _KNOWN for k in _own_keys(s) if f"`[{s}] {k}`" not in README]
    assert not missing
    assert "`[[mailbox]]`" in README


def test_every_config_key_is_in_the_example_settings_file():
    text = (ROOT / "config" / "settings.example.toml").read_text()
    uncommented = tomllib.loads(text)
    for section in _KNOWN:
        for key in _own_keys(section):
            assert f"[{section}]" in text.replace("# [", "["), section
            assert (key in uncommented.get(section, {})) or f"# {key} =" in text, f"[{section}] {key}"


def test_quick_start_is_the_two_commands():
    quick = README.split("## Quick start", 1)[1].split("##", 1)[0]
    commands = [line.split("#")[0].strip() for line in quick.splitlines() if line.startswith("make ")]
    assert commands == ["make demo", "make test"]
