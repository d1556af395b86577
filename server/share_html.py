"""The HTML of ``/s/{token}``: the share page, its password form and its error page.

Plain, accessible HTML with no script: each image an ``<img>`` whose ``alt`` is its alt
text (``""`` for a decorative one; an image not described yet gets its file name, so a
screen reader says something), the long description in a ``<details>`` the image points
at with ``aria-describedby``, every image a link to its full size (the tab order walks
the images), a visible focus ring, a grid that becomes one column on a phone, and a
``srcset`` of the proxy's transform widths so a phone fetches small files."""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from typing import Final

from imageshelf.app.library import ImageRecord, rfc3339, rules
from imageshelf.app.library.records import us_to_datetime

_STYLE: Final = """
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,sans-serif;color:#1b1b1b;background:#fafafa}
header,main,footer{max-width:72rem;margin:0 auto;padding:1rem}
h1{font-size:1.5rem;margin:0 0 .25rem}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;background:#fff;padding:.5rem}
ul.grid{list-style:none;margin:0;padding:0;display:grid;gap:1rem;
grid-template-columns:repeat(auto-fill,minmax(16rem,1fr))}
figure{margin:0;background:#fff;border:1px solid #ddd;border-radius:.5rem;overflow:hidden}
figure a{display:block}
img{display:block;width:100%;height:auto}
figcaption{padding:.5rem .75rem;overflow-wrap:anywhere}
details{padding:0 .75rem .75rem}
a:focus-visible,summary:focus-visible,button:focus-visible,input:focus-visible{
outline:3px solid #0b57d0;outline-offset:2px}
nav ul{list-style:none;display:flex;gap:1rem;padding:0}
.qr{width:10rem;height:auto}
form{display:grid;gap:.5rem;max-width:20rem}
input,button{font:inherit;padding:.5rem}
.error{color:#a00000}
@media (max-width:40rem){ul.grid{grid-template-columns:1fr}}
"""
# The image's width on the page, for the browser to pick from the srcset.
_SIZES: Final = "(max-width: 40rem) 100vw, (max-width: 72rem) 50vw, 24rem"


def _document(title: str, body: str) -> str:
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="robots" content="noindex">\n'
        f"<title>{escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n"
        f"<body>\n{body}\n</body>\n</html>\n"
    )


def _srcset(link: str, record: ImageRecord) -> tuple[str, str]:
    """``src`` and ``srcset``: the proxy's widths below the image's own, then the
    original (never enlarged). An animation is shown as it is (a transform would keep
    only its first frame)."""
    if record.content_type == "image/gif":
        return link, f"{link} {record.width}w"
    widths = [w for w in rules.SHARE_SRCSET_WIDTHS if w < record.width]
    entries = [f"{link}?w={w} {w}w" for w in widths] + [f"{link} {record.width}w"]
    src = f"{link}?w={widths[-1]}" if widths else link
    return src, ", ".join(entries)


def _figure(prefix: str, record: ImageRecord) -> str:
    link = f"{prefix}/i/{record.id}"
    src, srcset = _srcset(link, record)
    alt = record.alt_text if record.alt_text is not None else record.original_filename
    described = ""
    details = ""
    if record.long_description:
        described = f' aria-describedby="d-{record.id}"'
        details = (
            f'<details><summary>Long description</summary><p id="d-{record.id}">'
            f"{escape(record.long_description)}</p></details>"
        )
    return (
        f'<li><figure><a href="{escape(link)}">'
        f'<img src="{escape(src)}" srcset="{escape(srcset)}" sizes="{_SIZES}" '
        f'alt="{escape(alt)}" width="{record.width}" height="{record.height}" '
        f'loading="lazy" decoding="async"{described}></a>'
        f"<figcaption>{escape(record.original_filename)}</figcaption>{details}</figure></li>"
    )


def share_page(
    prefix: str,
    what: str,
    images: Iterable[ImageRecord],
    *,
    total: int,
    page: int,
    pages: int,
    expires_at_us: int | None,
) -> str:
    """``prefix``: the share's path (``/s/{token}``)."""
    count = f"{total} image" + ("" if total == 1 else "s")
    expiry = (
        f'; this link expires <time datetime="{rfc3339(expires_at_us)}">'
        f"{us_to_datetime(expires_at_us).strftime('%Y-%m-%d %H:%M UTC')}</time>"
        if expires_at_us is not None
        else ""
    )
    items = "\n".join(_figure(prefix, r) for r in images)
    listing = f'<ul class="grid">\n{items}\n</ul>' if items else "<p>Nothing is shared here.</p>"
    nav = ""
    if pages > 1:
        links = []
        if page > 1:
            links.append(
                f'<li><a href="{prefix}?page={page - 1}" rel="prev">Previous page</a></li>'
            )
        links.append(f'<li aria-current="page">Page {page} of {pages}</li>')
        if page < pages:
            links.append(f'<li><a href="{prefix}?page={page + 1}" rel="next">Next page</a></li>')
        nav = f'<nav aria-label="Pages"><ul>{"".join(links)}</ul></nav>'
    body = (
        '<a class="skip" href="#images">Skip to the images</a>\n'
        f"<header><h1>Shared images</h1><p>{escape(what.capitalize())}: {count}{expiry}.</p>"
        "</header>\n"
        f'<main id="images" tabindex="-1">\n{listing}\n{nav}\n</main>\n'
        f'<footer><p>This page on another device:</p><img class="qr" src="{prefix}/qr.svg" '
        'alt="QR code of this page\'s address" width="160" height="160"></footer>'
    )
    return _document("Shared images", body)


def password_form(prefix: str, wrong: bool) -> str:
    error = (
        '<p class="error" id="pw-error" role="alert">That password is not right; try again.</p>'
        if wrong
        else ""
    )
    described = ' aria-describedby="pw-error" aria-invalid="true"' if wrong else ""
    body = (
        "<main><h1>Shared images</h1>"
        "<p>Whoever shared these images asked for a password.</p>"
        f"{error}"
        f'<form method="post" action="{prefix}">'
        '<label for="password">Password</label>'
        '<input id="password" name="password" type="password" required autofocus '
        f'autocomplete="current-password"{described}>'
        '<button type="submit">Show the images</button></form></main>'
    )
    return _document("Password needed", body)


def error_page(status: int, message: str) -> str:
    body = f"<main><h1>{status}</h1><p>{escape(message)}</p></main>"
    return _document(f"{status}: {message}", body)
