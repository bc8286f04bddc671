"""What the route model reads from a message: words with names masked, cue tokens, and the asks.

Real letters are long: background first, the ask at the end ("I am writing to request mediation").
The model should weigh what the writer asks for above what they recount, so the sentences that ask
(requests, questions, statements of intent) are read twice: once as ordinary words and once more with
their words marked `q_`, which gives the model separate weights for "appeal" asked for and "appeal"
told as background. Names of people and places are masked (`xname`) so the model cannot learn them:
a capitalised word that the training corpus never uses in lower case is taken to be a name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

import re2

from .cues import cue_tokens

# Long letters keep their opening and their ending, where the ask usually is; the middle is
# background. This also bounds the work per message.
HEAD_CHARS = 3000
TAIL_CHARS = 3000
NAME_TOKEN = "xname"

_CASELESS = re2.Options()
_CASELESS.case_sensitive = False
_WORD = re.compile(r"[A-Za-z][A-Za-z'’]*")
# A capitalised word with a small second letter: "Okafor", "McAteer", "O'Brien"; not "EHCP", "SENCo", "LA".
_TITLE = re.compile(r"\b[A-Z][a-z'’][A-Za-z'’]*")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n\s*\n|\n(?=\s*[-*•\d])")
_ASK = re2.compile(
    r"\b(i|we)('d| would| wish| want| need| intend| plan| am going| are going| will| shall| have decided| am writing| are writing"
    r"| request| ask| hereby| now wish| would now)\b"
    r"|\b(please|could you|can you|would you|will you|can i|could i|can we|how (do|can|should|would) (i|we)"
    r"|what (can|should|do|are) (i|we|my)|is it (possible|worth)|do (i|we) (need|have)|should (i|we)|any (advice|ideas|help)"
    r"|who (do|should) (i|we)|where (do|can) (i|we)|i look forward|let me know|advise me)\b",
    _CASELESS,
)


@dataclass(frozen=True)
class Lexicon:
    """Words the training corpus uses in lower case: a capitalised word outside it is a name."""

    words: frozenset[str]

    @classmethod
    def build(cls, texts: Iterable[str], min_count: int = 2) -> "Lexicon":
        counts: dict[str, int] = {}
        for text in texts:
            for word in _WORD.findall(text):
                if word.islower():
                    counts[word] = counts.get(word, 0) + 1
        return cls(frozenset(w for w, n in counts.items() if n >= min_count))

    def mask(self, text: str) -> str:
        """Text with every capitalised word unknown in lower case replaced by `xname`."""
        words = self.words

        def one(m: re.Match[str]) -> str:
            word = m.group(0)
            return word if word.lower() in words or word[:2] in ("I'", "I’") else NAME_TOKEN

        return _TITLE.sub(one, text)


def clip(text: str) -> str:
    """The opening and the ending of a long text."""
    if len(text) <= HEAD_CHARS + TAIL_CHARS:
        return text
    return f"{text[:HEAD_CHARS]}\n\n{text[-TAIL_CHARS:]}"


def sentences(text: str) -> list[str]:
    """The text cut into sentences (and list items, and paragraphs), stripped, empty ones dropped."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


def is_ask(sentence: str) -> bool:
    """A request, a question or a statement of what the writer will do."""
    return sentence.rstrip().endswith("?") or bool(_ASK.search(sentence))


def flat(text: str) -> str:
    """Lower case on one line (the text is already clean(): no entities or invisible characters)."""
    return " ".join(text.split()).lower()


def route_text(text: str, lexicon: Lexicon) -> str:
    """The route model's input for a message's new text (cased, as Document.text holds it: the subject,
    a line break, the new words). The subject names what the writer wants as often as not, so it counts
    as an ask."""
    text = clip(text)
    subject, _, body = text.partition("\n")
    asks = [subject, *(s for s in sentences(body) if is_ask(s))] if subject.strip() else \
        [s for s in sentences(body) if is_ask(s)]
    ask_text = " ".join(asks)
    marked = " ".join("q_" + w for w in flat(lexicon.mask(ask_text)).split() if len(w) > 1)
    ask_cues = " ".join("q" + c for c in cue_tokens(flat(ask_text))) if asks else ""
    return " ".join(p for p in (flat(lexicon.mask(text)), marked, *cue_tokens(flat(text)), ask_cues) if p)


def sentence_route_text(sentence: str, lexicon: Lexicon) -> str:
    """route_text(sentence, lexicon), computed once instead of twice for the common one-line sentence.

    A sentence on one line is all "subject" to route_text, so it is its own ask: its masked words and its
    cues are the same text read twice (as words and as an ask). The evidence scores every sentence of a
    message this way; a sentence with a line break (or long enough to be clipped) takes route_text itself.
    """
    if "\n" in sentence or len(sentence) > HEAD_CHARS + TAIL_CHARS or not sentence.strip():
        return route_text(sentence, lexicon)
    masked = flat(lexicon.mask(sentence))
    cues = cue_tokens(flat(sentence))
    marked = " ".join("q_" + w for w in masked.split() if len(w) > 1)
    return " ".join(p for p in (masked, marked, *cues, " ".join("q" + c for c in cues)) if p)
