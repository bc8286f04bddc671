"""Many named patterns searched in one pass over a text, in time linear in its length.

The cue groups and the safeguarding rules are dozens of large alternations. Python's `re` tries each
one separately and can backtrack; RE2 (google-re2) runs them all as one automaton, so a long letter
costs one scan and a hostile text cannot make it slow. RE2 has no look-arounds: a pattern with them
is searched in RE2 with its look-arounds left out (which can only find more), and only when that
finds something is the exact pattern tried with `re`, so the answer is always the exact one.
"""

from __future__ import annotations

import re
from typing import Iterable, Iterator

import re2

_OPTIONS = re2.Options()
_OPTIONS.max_mem = 64 << 20
_LOOKAROUND = re.compile(r"\(\?<?[=!]")


def pieces(pattern: str, start: int = 0) -> Iterator[tuple[int, int, str]]:
    """(start, end, piece) for each piece of a pattern: an escape, a whole character class, or one character."""
    i = start
    while i < len(pattern):
        if pattern[i] == "\\":
            end = i + 2
        elif pattern[i] == "[":
            first = i + 2 if pattern[i + 1: i + 2] == "^" else i + 1
            end = pattern.index("]", first + 1) + 1  # a "]" first in the class is a literal
        else:
            end = i + 1
        yield i, end, pattern[i:end]
        i = end


def group_end(pattern: str, start: int) -> int:
    """Index of the ")" closing the group that opens at `start`."""
    depth = 0
    for i, _, piece in pieces(pattern, start):
        depth += piece == "("
        depth -= piece == ")"
        if depth == 0:
            return i
    raise ValueError(f"unbalanced group in {pattern[:60]!r}")


def alternatives(pattern: str) -> list[str]:
    """The pattern cut at its top-level "|"."""
    parts, depth, begin = [], 0, 0
    for i, end, piece in pieces(pattern):
        depth += piece == "("
        depth -= piece == ")"
        if piece == "|" and depth == 0:
            parts.append(pattern[begin:i])
            begin = end
    return [*parts, pattern[begin:]]


def without_lookarounds(pattern: str) -> str:
    """The pattern with every (?=...), (?!...), (?<=...) and (?<!...) group removed."""
    out, skip_to = [], 0
    for i, _, piece in pieces(pattern):
        if i < skip_to:
            continue
        if piece == "(" and _LOOKAROUND.match(pattern, i):
            skip_to = group_end(pattern, i) + 1
            continue
        out.append(piece)
    return "".join(out)


class PatternSet:
    """Named regular expressions; `names(text)` says which of them occur in the text."""

    def __init__(self, named: Iterable[tuple[str, str]], exact: dict[str, re.Pattern[str]] | None = None,
                 combined: bool = True) -> None:
        """`combined`: one automaton for all (fastest for many small patterns); else one per pattern
        (for a few very large ones, whose product would outgrow RE2's memory and fall back to slow matching)."""
        self.named = tuple(named)
        self._exact = {name: (exact or {}).get(name) or re.compile(pattern) for name, pattern in self.named}
        self._set = re2.Set.SearchSet(_OPTIONS) if combined else None
        self._gates: list[tuple[str, bool, object]] = []  # (name, the RE2 answer needs checking with `re`, gate)
        self._python: list[str] = []
        for name, pattern in self.named:
            gate = without_lookarounds(pattern)
            try:
                compiled = re2.compile(gate, _OPTIONS)
            except re2.error:
                self._python.append(name)
                continue
            if self._set is not None:
                self._set.Add(gate)
            self._gates.append((name, gate != pattern, compiled))
        if self._set is not None:
            self._set.Compile()

    def _gate_hits(self, text: str) -> list[tuple[str, bool, object]]:
        if not self._gates:
            return []
        if self._set is not None:
            return [self._gates[i] for i in (self._set.Match(text) or ())]
        return [g for g in self._gates if g[2].search(text)]

    def names(self, text: str) -> list[str]:
        """The names of the patterns found in text, in declaration order."""
        found = set()
        for name, check, _ in self._gate_hits(text):
            if not check or self._exact[name].search(text):
                found.add(name)
        found.update(name for name in self._python if self._exact[name].search(text))
        return [name for name, _ in self.named if name in found]

    def search(self, name: str, text: str) -> re.Match[str] | None:
        """Where one named pattern first matches (for showing the words that matched)."""
        return self._exact[name].search(text)
