"""HTML -> plain text in one left-to-right pass, linear in the markup whatever its shape.

html.parser.HTMLParser rescans an unclosed tag from its start again and again, so its cost grows with
the square of the input on some markup (a 100 KB body of unclosed "<div " tags took 87 s, and 300 KB
of hostile HTML stalled intake for over a minute). This reader looks at each character a bounded
number of times: text runs and tag ends are found with str.find and with regexes that never look
back, and a construct still open at the end (a tag, a comment, a script) ends the text, as it does in
a browser. Only the first MAX_HTML_CHARS characters of markup are read: the text is kept to
parsing.MAX_TEXT_CHARS anyway, and even verbose Outlook HTML gives that much text in far less markup.

What it keeps is what the HTMLParser-based reader kept: scripts, styles and the head dropped; block
elements on their own lines; character references decoded; text inside <blockquote> prefixed "> " so
quote detection (text.strip_quoted) treats it as quoted.
"""

from __future__ import annotations

import re
from html import unescape

MAX_HTML_CHARS = 1_000_000

BLOCK_TAGS = frozenset({
    "p", "div", "br", "li", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6",
    "blockquote", "section", "article", "header", "footer", "ul", "ol", "hr", "pre",
})
SKIP_TAGS = frozenset({"script", "style", "head", "title", "noscript", "template"})
_RAW_TEXT_END = {"script": re.compile(r"</script", re.I), "style": re.compile(r"</style", re.I)}

# Where markup starts: a tag, an end tag, a comment, a declaration; any other '<' is text.
_MARKUP = re.compile(r"<([a-zA-Z!?/])")
_TAG_NAME = re.compile(r"[a-zA-Z][^\s/>\x00]*")
# Inside a tag: its end, or an attribute value in quotes (which may hold a '>').
_IN_TAG = re.compile(r"""=[ \t\r\n\f]*(["'])|>""")
_SPACES = re.compile(r"[ \t\u00a0]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


class _Text:
    """The text found so far, and which skipped or quoted elements the reader is inside."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.skip = 0
        self.quote = 0

    def start(self, tag: str) -> None:
        if tag in SKIP_TAGS:
            self.skip += 1
        elif tag == "blockquote":
            self.quote += 1
        if tag in BLOCK_TAGS:
            self.parts.append("\n")

    def end(self, tag: str) -> None:
        if tag in SKIP_TAGS and self.skip:
            self.skip -= 1
        elif tag == "blockquote" and self.quote:
            self.quote -= 1
        if tag in BLOCK_TAGS:
            self.parts.append("\n")

    def data(self, data: str) -> None:
        if self.skip or not data:
            return
        if "&" in data:
            data = unescape(data)
        if self.quote:  # keep quoted HTML recognisable as a quote for strip_quoted()
            data = "\n".join("> " + line for line in data.splitlines() if line.strip())
        self.parts.append(data)


def _tag_end(html: str, at: int) -> int:
    """The index just after the '>' that closes the start tag whose name ends at `at`; -1 if none does."""
    while True:
        m = _IN_TAG.search(html, at)
        if m is None:
            return -1
        if m.group(1) is None:
            return m.end()
        close = html.find(m.group(1), m.end())
        if close < 0:
            return -1
        at = close + 1


def _skip_to(html: str, marker: str, at: int) -> int:
    """The index just after the next `marker` from `at`, or the end of html if there is none."""
    found = html.find(marker, at)
    return len(html) if found < 0 else found + len(marker)


def html_to_text(html: str) -> str:
    """Plain text of an HTML body (its first MAX_HTML_CHARS characters): scripts and styles dropped,
    blocks on their own lines."""
    html = html[:MAX_HTML_CHARS]
    out = _Text()
    i, n = 0, len(html)
    while i < n:
        m = _MARKUP.search(html, i)
        if m is None:
            out.data(html[i:])
            break
        out.data(html[i:m.start()])
        i = m.start()
        if html.startswith("<!--", i):
            i = _skip_to(html, "-->", i + 4)
        elif m.group(1) in ("!", "?"):  # a doctype, CDATA or processing instruction
            i = _skip_to(html, ">", i + 2)
        elif m.group(1) == "/":
            name = _TAG_NAME.match(html, i + 2)
            close = html.find(">", i + 2)
            if close < 0:
                break  # an end tag still open at the end
            if name is not None:  # "</>" and "</ x>" are dropped whole, as a browser does
                out.end(name.group(0).lower())
            i = close + 1
        else:
            name = _TAG_NAME.match(html, i + 1)
            end = _tag_end(html, name.end())
            if end < 0:
                break  # a tag still open at the end: the rest is inside it
            tag = name.group(0).lower()
            out.start(tag)
            i = end
            if html[end - 2: end] == "/>":  # "<br/>": a start and an end, as HTMLParser reads it
                out.end(tag)
            elif tag in _RAW_TEXT_END:  # script or style: no markup inside, up to its end tag
                close = _RAW_TEXT_END[tag].search(html, i)
                i = n if close is None else close.start()
    text = _SPACES.sub(" ", "".join(out.parts))
    return _BLANK_LINES.sub("\n\n", text).strip()
