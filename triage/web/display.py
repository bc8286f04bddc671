"""Untrusted mail made safe to show: sanitised HTML, safe attachment names and download types.

Everything in an incoming message is the sender's: its HTML may carry scripts, event handlers,
`javascript:` links, tracking images or CSS that hides or overlays parts of our page. The text
version is always shown escaped; the HTML version only after nh3 keeps a small set of plain tags
with no style, class or id, and drops every image that is not inline data (remote images would
tell the sender when and where the message was read). The Content-Security-Policy is a second
line: even a sanitiser bug could not run script or load from another site.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

import nh3

_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "dd", "del", "div", "dl", "dt", "em",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "li", "ol", "p", "pre", "q", "s", "small",
    "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
}
_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
}
_DATA_IMAGE = re.compile(r"^data:image/(png|gif|jpeg|webp);base64,[a-z0-9+/=\s]*$", re.I)
_LINK = re.compile(r"^(https?:|mailto:)", re.I)


def _attribute(tag: str, name: str, value: str) -> str | None:
    if tag == "img" and name == "src":
        return value if _DATA_IMAGE.match(value.strip()) else None  # remote and cid: images are blocked
    if tag == "a" and name == "href":
        return value if _LINK.match(value.strip()) else None
    if name in ("width", "height"):
        return value if value.isdigit() and int(value) <= 2000 else None
    return value


_CLEANER = nh3.Cleaner(
    tags=_TAGS,
    clean_content_tags={"script", "style", "title", "head", "noscript", "template", "textarea", "select",
                        "object", "embed", "iframe", "svg", "math"},
    attributes=_ATTRIBUTES,
    attribute_filter=_attribute,
    url_schemes={"http", "https", "mailto", "data"},
    url_relative="deny",
    link_rel="noopener noreferrer nofollow",
    strip_comments=True,
)


def sanitise_html(html: str) -> str:
    """The sender's HTML reduced to inert markup: no script, style, forms, frames or remote images."""
    return _CLEANER.clean(html) if html else ""


_UNSAFE_NAME = re.compile(r"[^\w.()+ -]+")

# Types a browser may be handed as they are; anything else is downloaded as application/octet-stream.
_SAFE_TYPES = {
    "application/pdf": (".pdf",),
    "image/png": (".png",),
    "image/jpeg": (".jpg", ".jpeg"),
    "image/gif": (".gif",),
}


def safe_filename(name: str, index: int) -> str:
    """A download name with no path, quotes, markup, control characters or hidden-file dot.

    '../../evil.html' becomes 'evil.html'; 'a.pdf.exe' keeps its true (last) extension so the
    person saving it sees what it is.
    """
    name = unicodedata.normalize("NFKC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE_NAME.sub("_", " ".join(name.split())).strip(" ._")
    name = re.sub(r"_+", "_", name)[:120]
    return name or f"attachment-{index + 1}"


def ascii_filename(name: str) -> str:
    """The plain-ASCII form of a safe name, for the old filename= parameter (filename*= carries UTF-8)."""
    ascii_name = re.sub(r"_+", "_", name.encode("ascii", "replace").decode().replace("?", "_")).strip(" ._")
    return ascii_name or "attachment"


def download_type(declared: str, filename: str) -> str:
    """The declared content type when it is harmless and matches the name's extension, else octet-stream."""
    extensions = _SAFE_TYPES.get((declared or "").lower().strip())
    if extensions and filename.lower().endswith(extensions):
        return declared.lower().strip()
    return "application/octet-stream"


# -- making a long message quick to read -------------------------------------------------------------

_QUOTE_START = re.compile(
    r"^(>|-{2,}\s*original message\s*-{2,}|on .{3,200}wrote:\s*$|from:\s.+@|_{10,}\s*$)", re.I | re.M)
_COUNCIL_CASE = re.compile(r"\bEHC\s*/\s*\d{4}\s*/\s*[A-Z0-9-]{2,20}\b", re.I)


def split_quoted(text: str) -> tuple[str, str]:
    """The sender's new words and the quoted history below them ('> ...', 'On ... wrote:', an
    'Original Message' line), so the page can show the first and fold the second away. A message
    that starts with a quote is kept whole: folding everything would hide what they wrote."""
    found = _QUOTE_START.search(text or "")
    if found is None or not text[:found.start()].strip():
        return text or "", ""
    return text[:found.start()].rstrip(), text[found.start():]


def council_case_number(subject: str) -> str:
    """The council's own case number ('EHC/2026/0412') when the subject carries one, else ''.

    Parents and schools quote it; our internal reference means nothing to them, so the queue and
    the item page show it beside ours."""
    found = _COUNCIL_CASE.search(subject or "")
    return re.sub(r"\s+", "", found.group(0)).upper() if found else ""


def days_from(today: dt.date, day: dt.date) -> str:
    """'today', 'in 1 day', 'in 5 days', '1 day ago', '3 days ago': how near a date is, in words."""
    left = (day - today).days
    if left == 0:
        return "today"
    if left > 0:
        return f"in {left} day{'' if left == 1 else 's'}"
    return f"{-left} day{'' if left == -1 else 's'} ago"


def iso_day(value: object) -> str:
    """'2026-11-16' (as the draft's deadline notes keep dates) as 'Mon 16 Nov 2026'; anything else as it is."""
    try:
        day = dt.date.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return f"{day:%a} {day.day} {day:%b %Y}"
