"""Images as HTML and Markdown, with their alt text, for the clipboard and for drags into
a text editor or a browser: ``<img src="…/i/{id}" alt="…">`` and ``![alt](…/i/{id})``.

Decorative images (alt text ``""``) get ``alt=""``, which tells a screen reader to skip
them. An image not described yet gets no ``alt`` at all in HTML (an empty one would
claim it is decorative) and ``![](…)`` in Markdown, which cannot tell the two apart;
``undescribed`` counts them so the window can say so."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import quote

from PySide6.QtCore import QMimeData

from imageshelf.app.library import ImageRecord

# Characters that would end the image description or turn part of it into emphasis,
# code, HTML or an autolink (CommonMark): escaped with a backslash.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>])")


@dataclass(frozen=True)
class Snippet:
    html: str
    markdown: str
    links: str  # one URL a line, for targets that take plain text
    undescribed: int


def _safe_url(url: str) -> str:
    # Our links are plain ASCII; quote anything else so neither format can be broken.
    return quote(url, safe=":/?&=#%@+,;~")


def img_html(url: str, alt: str | None) -> str:
    src = html.escape(_safe_url(url), quote=True)
    if alt is None:
        return f'<img src="{src}">'
    return f'<img src="{src}" alt="{html.escape(_one_line(alt), quote=True)}">'


def img_markdown(url: str, alt: str | None) -> str:
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", _one_line(alt or ""))
    return f"![{text}]({_safe_url(url).replace('(', '%28').replace(')', '%29')})"


def _one_line(text: str) -> str:
    """Alt text may hold line breaks; both formats want one line (a screen reader reads
    a break as a space anyway)."""
    return " ".join(text.split())


def snippet(records: Sequence[ImageRecord], link: Callable[[str], str]) -> Snippet:
    urls = [link(r.id) for r in records]
    return Snippet(
        html="\n".join(img_html(u, r.alt_text) for u, r in zip(urls, records, strict=True)),
        markdown="\n".join(img_markdown(u, r.alt_text) for u, r in zip(urls, records, strict=True)),
        links="\n".join(urls),
        undescribed=sum(1 for r in records if r.alt_text is None),
    )


def add_to_mime(mime: QMimeData, snip: Snippet) -> QMimeData:
    """``text/html`` (rich editors and browsers take the images with their alt text) and
    ``text/plain`` (the HTML source, for plain editors), besides what ``mime`` holds."""
    mime.setHtml(snip.html)
    mime.setText(snip.html)
    return mime


def undescribed_notice(count: int) -> str:
    if not count:
        return ""
    if count == 1:
        return " One image has no alt text yet: describe it before publishing."
    return f" {count} images have no alt text yet: describe them before publishing."
