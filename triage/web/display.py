"""Untrusted mail made safe to show: sanitised HTML, safe attachment names and download types.

Everything in an incoming message is the sender's: its HTML may carry scripts, event handlers,
`javascript:` links, tracking images or CSS that hides or overlays parts of our page. The text
version is always shown escaped; the HTML version only after nh3 keeps a small set of plain tags
with no style, class or id, and drops every image that is not inline data (remote images would
tell the sender when and where the message was read). The Content-Security-Policy is a second
line: even a sanitiser bug could not run script or load from another site.
"""

from __future__ import annotations

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
