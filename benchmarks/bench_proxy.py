"""Target 2: the public proxy ``/i/{id}`` under load (32 keep-alive connections).

- Originals: requests/s of ``GET /i/{id}`` for a ~200 KB JPEG against a bare WSGI
  callable serving the same file on the same waitress settings. Goal ≥ 0.9×.
- ``304``: the same with a matching ``If-None-Match``, against the bare app's 304. ≥ 0.9×.
- ``variant=thumbnail`` (cached) against our own originals: within 10% (≥ 0.9×).
- An original with GPS (served without it, from the location-free copy made once) against
  one without: within 10% (≥ 0.9×); the image without GPS is the 2a figure, so 2a also
  says what the location rule costs an image that has none.

Beside each rate (issue 21), the server's CPU time per request over the same runs
(``/proc/<pid>/stat`` of the server child, the least of the rounds): a rate under 32
connections swings 2× on a shared machine from one minute to the next, the CPU a request
costs in-process barely moves. Target ≤ 1.1× the same baseline as the rate's.
"""

from __future__ import annotations

import io
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from imageshelf.app.library import Library

from .common import Result, missing, ratio_result, report
from .generate import sample_image
from .load import ChildServer, LoadResult, best_of_alternated, keepalive, load, with_cpu


def _etag(port: int, path: str) -> str:
    with keepalive(port) as conn:
        conn.request("GET", path)
        resp = conn.getresponse()
        resp.read()
        if resp.status != 200:
            raise RuntimeError(f"GET {path} answered {resp.status}")
        return resp.headers["ETag"]


def run(quick: bool = False) -> list[Result]:
    seconds = 2 if quick else 4
    image = sample_image("JPEG", 0.9)
    size_kb = len(image) / 1024
    results: list[Result] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "lib"
        with Library.open(root) as lib:
            record = lib.add(io.BytesIO(image), "photo.jpg")
            original = lib.path_of(record.folder, record.filename)
            located = lib.add(io.BytesIO(_with_gps(image)), "located.jpg")
        try:
            app = ChildServer("app", root)
        except Exception as exc:
            return [missing("2", "proxy", f"server did not start: {exc!r}")]
        with app, ChildServer("bare-file", original) as bare:
            path = f"/i/{record.id}"
            thumb = path + "?variant=thumbnail"
            etag = _etag(app.port, path)
            bare_etag = _etag(bare.port, "/")
            thumb_etag = _etag(app.port, thumb)
            gps_path = f"/i/{located.id}"
            _etag(app.port, gps_path)  # the location-free copy is made here, once
            # A short warm-up of each: first requests pay for imports and caches.
            for url in (app.url(path), bare.url("/"), app.url(thumb), app.url(gps_path)):
                load(url, seconds=1)

            def on(server: ChildServer, url: str, etag: str | None = None) -> Run:
                headers = {"If-None-Match": etag} if etag else None
                return with_cpu(server, lambda: load(url, seconds=seconds, headers=headers))

            best = best_of_alternated(
                {
                    "ours": on(app, app.url(path)),
                    "base": on(bare, bare.url("/")),
                    "thumbs": on(app, app.url(thumb)),
                    "located": on(app, app.url(gps_path)),
                    "ours304": on(app, app.url(path), etag),
                    "base304": on(bare, bare.url("/"), bare_etag),
                    "thumbs304": on(app, app.url(thumb), thumb_etag),
                },
                rounds=3,
            )
            ours, base, thumbs = best["ours"], best["base"], best["thumbs"]
            ours304, base304, thumbs304 = best["ours304"], best["base304"], best["thumbs304"]
        note = f"{ours.tool}, 32 conns"
        results.append(
            ratio_result(
                "2a",
                f"/i/{{id}} original {size_kb:.0f} KB vs bare WSGI file_wrapper",
                ours.rps,
                base.rps,
                "req/s",
                at_least=0.9,
                note=note + (f", {ours.errors} errors" if ours.errors else ""),
            )
        )
        results.append(
            ratio_result(
                "2b",
                "/i/{id} 304 (If-None-Match) vs bare WSGI 304",
                ours304.rps,
                base304.rps,
                "req/s",
                at_least=0.9,
                note=note,
            )
        )
        results.append(
            ratio_result(
                "2c",
                "/i/{id}?variant=thumbnail (cached) vs our originals",
                thumbs.rps,
                ours.rps,
                "req/s",
                at_least=0.9,
                note=f"thumbnail 304s {thumbs304.rps:,.0f} req/s",
            )
        )
        results.append(
            ratio_result(
                "2d",
                "/i/{id} original with GPS (location-free copy) vs without",
                best["located"].rps,
                ours.rps,
                "req/s",
                at_least=0.9,
                note=note,
            )
        )
    results += [
        cpu_result("2a cpu", "/i/{id} original, server CPU per request vs bare WSGI", ours, base),
        cpu_result("2b cpu", "/i/{id} 304, server CPU per request vs bare WSGI 304", ours304,
                   base304),
        cpu_result("2c cpu", "thumbnail, server CPU per request vs our originals", thumbs, ours),
        cpu_result("2d cpu", "original with GPS, server CPU per request vs without",
                   best["located"], ours),
    ]  # fmt: skip
    results.sort(key=lambda r: r.target)  # each rate beside its CPU
    return results


Run = Callable[[], LoadResult]


def cpu_result(target: str, name: str, figure: LoadResult, baseline: LoadResult) -> Result:
    """The CPU per request of ``figure``'s server against ``baseline``'s: ≤ 1.1×."""
    if figure.cpu_ms is None or baseline.cpu_ms is None:
        return missing(target, name, "no requests answered: CPU per request not measured")
    return ratio_result(
        target,
        name,
        figure.cpu_ms * 1000,
        baseline.cpu_ms * 1000,
        "µs",
        at_most=1.1,
        note=f"least of the rounds; {figure.requests:,} / {baseline.requests:,} requests",
    )


def _with_gps(jpeg: bytes) -> bytes:
    """The same picture with a GPS position in its EXIF (re-encoded: a bench image)."""
    from PIL import Image

    with Image.open(io.BytesIO(jpeg)) as img:
        exif = img.getexif()
        gps = exif.get_ifd(0x8825)
        gps[1], gps[2] = "N", (48.0, 51.0, 30.0)
        gps[3], gps[4] = "E", (2.0, 17.0, 40.0)
        out = io.BytesIO()
        img.save(out, "JPEG", quality=90, exif=exif)
        return out.getvalue()


if __name__ == "__main__":
    report(run("--quick" in sys.argv))
