"""Each settings key is declared once; the example file and README's table are printed from it and kept current."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from triage import settings_types
from triage.errors import ConfigError
from triage.settings import load_settings
from triage.settings_docs import default_cell, example_file, readme_table
from triage.settings_keys import SECTION, SECTIONS, keys_of

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "config" / "settings.example.toml"
CONFIGURATION = (ROOT / "README.md").read_text().split("## Configuration\n", 1)[1].split("\n## ", 1)[0]
DECLARED = {(section.name, key.name): key for section in SECTIONS for key in section.keys}


def test_the_committed_example_file_is_the_generated_one():
    assert EXAMPLE.read_text() == example_file(), "run: python -m triage.settings example > config/settings.example.toml"


def test_the_command_prints_the_example_and_the_readme_table():
    run = [sys.executable, "-m", "triage.settings"]
    assert subprocess.run([*run, "example"], capture_output=True, text=True, check=True).stdout == example_file()
    assert subprocess.run([*run, "readme"], capture_output=True, text=True, check=True).stdout == readme_table()
    assert subprocess.run([*run, "nonsense"], capture_output=True, text=True).returncode == 2


def test_the_example_file_loads_and_shows_every_key(tmp_path):
    settings = load_settings(EXAMPLE, environ={"EHC_IMAP_PASSWORD": "pw", "EHC_SMTP_PASSWORD": "pw"})
    assert settings.mailboxes[0].host == "outlook.office365.com" and settings.web is not None
    text = EXAMPLE.read_text()
    for (section, name), key in DECLARED.items():
        shown = f"# {name} = " if key.commented or SECTION[section].commented else f"{name} = "
        assert shown in text, f"[{section}] {name}"


def test_the_readme_table_is_the_generated_one():
    assert readme_table() in CONFIGURATION, "run: python -m triage.settings readme, and paste it into README.md"


def test_every_declared_key_is_in_the_readme_with_its_default_and_nothing_else_is():
    rows = [line for line in CONFIGURATION.splitlines() if line.startswith("| `[")]
    documented = {}
    for row in rows:
        names, default = row.split(" | ")[:2]
        for section, name in re.findall(r"`\[(\w+)\] (\w+)`", names):
            documented[(section, name)] = default
    for (section, name), key in DECLARED.items():
        shared = section == "smtp" and any(key is k for k in SECTION["imap"].keys)
        assert documented.get((section, name)) == ("as in `[imap]`" if shared else default_cell(key)), (section, name)
    assert set(documented) <= set(DECLARED), set(documented) - set(DECLARED)
    assert "| `[[mailbox]]` |" in CONFIGURATION


def test_the_declared_defaults_are_the_settings_defaults():
    """The dataclasses take their defaults from the declarations; the loader fills the same ones."""
    loaded = load_settings(None, environ={})
    assert loaded.web is None
    assert loaded.outbox.max_attempts == settings_types.OutboxSettings().max_attempts == 5
    assert settings_types.WebSettings().page_size == DECLARED[("web", "page_size")].default


def test_mailbox_tables_take_every_imap_key():
    assert [k.name for k in keys_of(SECTION["mailbox"])] == [k.name for k in SECTION["imap"].keys] + ["name"]


@pytest.mark.parametrize("text, message", [
    ('[imap]\nhost = "h"\ntimeout_seconds = "slow"\n', "[imap] timeout_seconds must be a number"),
    ('[imap]\nhost = "h"\nfolder = 5\n', "[imap] folder must be a string"),
    ('[classifier]\nretrain_holdout_share = 1\n', "between 0 and 1"),
    ('[service]\nmode = 5\n', '[service] mode must be "live" or "shadow", got 5'),
])
def test_declared_kinds_are_checked(tmp_path, text, message):
    path = tmp_path / "settings.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_settings(path, environ={})
    assert message in str(info.value)


def test_example_toml_parses_as_the_generator_means():
    raw = tomllib.loads(example_file())
    assert "mailbox" not in raw and "maildir" not in raw  # shown commented out
    assert raw["service"]["since"].isoformat() == "2026-09-01"
