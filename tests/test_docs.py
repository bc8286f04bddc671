"""The README's quick start stays the two commands of the brief.

(The command reference is held to --help by test_cli_readme.py; the settings table and the example
file to the key declarations by test_settings_docs.py.)
"""

from __future__ import annotations

from pathlib import Path

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_quick_start_is_the_two_commands():
    quick = README.split("## Quick start", 1)[1].split("##", 1)[0]
    commands = [line.split("#")[0].strip() for line in quick.splitlines() if line.startswith("make ")]
    assert commands == ["make demo", "make test"]
