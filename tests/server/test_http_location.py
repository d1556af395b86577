"""Contract Part 2, "EXIF and location", the /i rule, through the real server: an original
with GPS in its EXIF and XMP is served without it (read back by exiftool), with the same
pixels and every other tag; the stored file is unchanged; ETag, Content-Length, Range
and HEAD describe the bytes served; the location-free bytes are made once; *Share
location in links* on serves the original bytes."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import warnings
from typing import Any

import pytest
from PIL import Image, TiffImagePlugin
from PIL.PngImagePlugin import PngInfo

from imageshelf.app.library import Library, settings
from imageshelf.app.library import codecs as _codecs
from tests.server.http_helpers import Api
from tests.server.library_files import name_of, stored_bytes, transform_files

assert _codecs  # HEIF registered for the images the tests make

# The contract on both libraries: a folder, and a team library (tests/server/conftest.py).
BOTH_BACKENDS = True

XMP = (
    b'<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>'
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF'
    b' xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"'
    b' xmlns:ex="http://ns.adobe.com/exif/1.0/" ex:GPSLatitude="48,51.504N"'
    b' ex:GPSAltitude="35/1">'
    b"<ex:GPSLongitude>2,17.67E</ex:GPSLongitude>"
    b"<ex:GPSVersionID>2.3.0.0</ex:GPSVersionID>"
    b"<ex:PixelXDimension>64</ex:PixelXDimension>"
    b'<dc:title><rdf:Alt><rdf:li xml:lang="x-default">Tower</rdf:li></rdf:Alt></dc:title>'
    b"</rdf:Description></rdf:RDF></x:xmpmeta>"
    b'<?xpacket end="w"?>'
)
# (Pillow's name, content type)
FORMATS = [
    ("JPEG", "image/jpeg"),
    ("PNG", "image/png"),
    ("WEBP", "image/webp"),
    ("TIFF", "image/tiff"),
    ("HEIF", "image/heic"),
    ("AVIF", "image/avif"),
]
GPS_KEYS = ("GPS",)  # exiftool's GPS group, and every tag it names GPS…


def exif_with_gps() -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "Imageshelf"  # Make
    exif[0x0110] = "Test Camera"  # Model
    exif[0x0131] = "Imageshelf tests"  # Software
    sub = exif.get_ifd(0x8769)  # the EXIF IFD
    sub[0x9003] = "2026:04:23 10:00:00"  # DateTimeOriginal
    sub[0x829A] = TiffImagePlugin.IFDRational(1, 250)  # ExposureTime
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (
        TiffImagePlugin.IFDRational(48),
        TiffImagePlugin.IFDRational(51),
        TiffImagePlugin.IFDRational(3024, 100),
    )
    gps[3] = "E"
    gps[4] = (
        TiffImagePlugin.IFDRational(2),
        TiffImagePlugin.IFDRational(17),
        TiffImagePlugin.IFDRational(4020, 100),
    )
    return exif


def located(fmt: str, *, gps: bool = True) -> bytes:
    img = Image.effect_noise((64, 48), 60).convert("RGB")
    exif = exif_with_gps() if gps else Image.Exif()
    if not gps:
        exif[0x0110] = "Test Camera"
    out = io.BytesIO()
    xmp = XMP if gps else XMP.replace(b"GPS", b"Zzz")
    if fmt == "PNG":
        info = PngInfo()
        info.add_itxt("XML:com.adobe.xmp", xmp.decode())
        img.save(out, "PNG", exif=exif, pnginfo=info)
    elif fmt == "TIFF":
        # Pillow's TIFF writer keeps IFD0's tags but no GPS IFD: exiftool writes that.
        img.save(out, "TIFF", exif=exif, tiffinfo={700: xmp})
        if gps:
            return run_exiftool(
                "-GPSLatitude=48.8584",
                "-GPSLatitudeRef=N",
                "-GPSLongitude=2.2945",
                "-GPSLongitudeRef=E",
                "-",
                data=out.getvalue(),
            )
    else:
        img.save(out, fmt, exif=exif, xmp=xmp)
    return out.getvalue()


def run_exiftool(*args: str, data: bytes) -> bytes:
    exe = shutil.which("exiftool")
    assert exe is not None, "exiftool is installed by scripts/bootstrap.sh"
    done = subprocess.run([exe, *args], input=data, capture_output=True, check=True, timeout=60)
    return done.stdout


def exiftool(data: bytes) -> dict[str, Any]:
    """Every tag exiftool reads in ``data``, by group:name, file facts left out."""
    out = run_exiftool("-json", "-a", "-G1", "-n", "-", data=data)
    tags: dict[str, Any] = json.loads(out)[0]
    return {
        k: v
        for k, v in tags.items()
        if not k.startswith(("System:", "File:", "ExifTool:", "Composite:")) and k != "SourceFile"
    }


def gps_tags(tags: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in tags.items() if k.startswith("GPS:") or ":GPS" in k}


def pixels(data: bytes) -> bytes:
    # Pillow warns about the damaged EXIF of the last test; the pixels are the point.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with Image.open(io.BytesIO(data)) as img:
            return img.convert("RGB").tobytes()


@pytest.mark.parametrize(("fmt", "content_type"), FORMATS, ids=[f for f, _ in FORMATS])
def test_gps_is_removed_from_served_originals_and_nothing_else(
    api: Api, library: Library, fmt: str, content_type: str
) -> None:
    data = located(fmt)
    before = exiftool(data)
    assert gps_tags(before).keys() >= {"GPS:GPSLatitude", "GPS:GPSLongitude"}, before
    assert "XMP-exif:GPSLongitude" in before and "XMP-exif:GPSLatitude" in before
    body = api.upload_ok(data, f"tower.{fmt.lower()}")
    assert body["content_type"] == content_type
    image_id = body["id"]

    reply = api.get(f"/i/{image_id}")
    assert reply.status == 200
    served = reply.body
    assert served != data
    assert len(served) == len(data)  # edited in place: no offset moved
    assert reply.headers["Content-Length"] == str(len(served))
    assert reply.headers["Content-Type"] == content_type
    assert reply.headers["ETag"] != f'"{body["id"]}"' and reply.headers["ETag"].strip('"') != (
        library.get(image_id).sha256
    )
    after = exiftool(served)
    assert gps_tags(after) == {}, after
    assert after == {k: v for k, v in before.items() if k not in gps_tags(before)}
    assert pixels(served) == pixels(data)
    assert stored_bytes(library, image_id) == data  # the stored file as sent

    head = api.request("HEAD", f"/i/{image_id}")
    assert head.status == 200 and head.body == b""
    assert head.headers["ETag"] == reply.headers["ETag"]
    assert head.headers["Content-Length"] == str(len(served))
    part = api.get(f"/i/{image_id}", headers={"Range": "bytes=10-209"})
    assert part.status == 206
    assert part.body == served[10:210]
    assert part.headers["Content-Range"] == f"bytes 10-209/{len(served)}"
    assert part.headers["ETag"] == reply.headers["ETag"]
    again = api.get(f"/i/{image_id}", headers={"If-None-Match": reply.headers["ETag"]})
    assert again.status == 304
    own = api.get(f"/i/{image_id}.{ {'JPEG': 'jpg', 'HEIF': 'heic'}.get(fmt, fmt.lower()) }")
    assert own.status == 200 and own.body == served
    assert library.core.location.builds == 1  # made once, then sent from the cache


def test_share_location_in_links_serves_the_original_bytes(api: Api, library: Library) -> None:
    data = located("JPEG")
    body = api.upload_ok(data, "tower.jpg")
    stripped = api.get(f"/i/{body['id']}")
    assert gps_tags(exiftool(stripped.body)) == {}

    settings.put(library, settings.SHARE_LOCATION_IN_LINKS, True)
    shared = api.get(f"/i/{body['id']}")
    assert shared.body == data
    assert shared.headers["ETag"] == f'"{library.get(body["id"]).etag}"'
    assert shared.headers["Content-Length"] == str(len(data))
    assert gps_tags(exiftool(shared.body))  # the location is there

    settings.put(library, settings.SHARE_LOCATION_IN_LINKS, False)
    back = api.get(f"/i/{body['id']}")
    assert back.body == stripped.body and back.headers["ETag"] == stripped.headers["ETag"]


def test_an_original_without_gps_is_sent_as_stored(api: Api, library: Library) -> None:
    data = located("JPEG", gps=False)
    body = api.upload_ok(data, "plain.jpg")
    reply = api.get(f"/i/{body['id']}")
    assert reply.body == data
    assert reply.headers["ETag"] == f'"{library.get(body["id"]).etag}"'
    assert library.core.location.builds == 0
    assert library.core.transforms.cache.total_bytes == 0  # nothing derived was kept


def test_thumbnails_and_transforms_carry_no_location(api: Api) -> None:
    body = api.upload_ok(located("JPEG"), "tower.jpg")
    for query in ({"variant": "thumbnail"}, {"w": "32"}):
        reply = api.get(f"/i/{body['id']}", query=query)
        assert reply.status == 200
        assert gps_tags(exiftool(reply.body)) == {}


def test_exif_that_cannot_be_walked_is_removed_whole_never_a_500(api: Api) -> None:
    """An APP1 EXIF whose first IFD points past its end: no GPS can be found in it, so
    none of it is served; the picture still is."""
    data = bytearray(located("JPEG"))
    at = data.find(b"Exif\x00\x00") + 6
    order = "<" if data[at : at + 2] == b"II" else ">"
    data[at + 4 : at + 8] = (60_000).to_bytes(4, "little" if order == "<" else "big")
    body = api.upload_ok(bytes(data), "broken-exif.jpg")
    reply = api.get(f"/i/{body['id']}")
    assert reply.status == 200
    assert len(reply.body) == len(data)
    assert pixels(reply.body) == pixels(bytes(data))
    assert not any(k.startswith(("IFD0:", "GPS:", "ExifIFD:")) for k in exiftool(reply.body))


def test_gps_only_in_xmp_or_only_in_exif_is_removed_too(api: Api) -> None:
    """Either place alone is a location (a has-location shortcut must look at both)."""
    img = Image.effect_noise((64, 48), 60).convert("RGB")
    only_xmp, only_exif = io.BytesIO(), io.BytesIO()
    img.save(only_xmp, "JPEG", xmp=XMP)
    img.save(only_exif, "JPEG", exif=exif_with_gps())
    for data in (only_xmp.getvalue(), only_exif.getvalue()):
        assert gps_tags(exiftool(data))
        body = api.upload_ok(data, "one-place.jpg")
        served = api.get(f"/i/{body['id']}").body
        assert gps_tags(exiftool(served)) == {}
        assert pixels(served) == pixels(data)


def test_with_a_transform_cache_that_keeps_nothing_the_copy_is_still_served(
    api: Api, library: Library
) -> None:
    settings.put(library, settings.TRANSFORM_CACHE_BYTES, 0)
    data = located("JPEG")
    body = api.upload_ok(data, "tower.jpg")
    whole = api.get(f"/i/{body['id']}")
    assert whole.status == 200 and gps_tags(exiftool(whole.body)) == {}
    part = api.get(f"/i/{body['id']}", headers={"Range": "bytes=0-99"})
    assert part.status == 206 and part.body == whole.body[:100]
    assert library.core.transforms.cache.total_bytes == 0


def test_links_pinned_and_transforms_of_an_original_sent_without_its_location(
    api: Api, library: Library
) -> None:
    """``?v=`` pins the link by the stored file's hash (what the window and docs use) or by
    the ETag of the bytes sent; transforms stay keyed by the stored file's hash, so they
    leave with it."""
    body = api.upload_ok(located("JPEG"), "tower.jpg")
    sha256 = library.get(body["id"]).sha256
    etag = api.get(f"/i/{body['id']}").headers["ETag"].strip('"')
    assert etag != sha256
    for version in (sha256[:16], etag[:16]):
        pinned = api.get(f"/i/{body['id']}", query={"v": version})
        assert pinned.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    other = api.get(f"/i/{body['id']}", query={"v": "0" * 16})
    assert other.headers["Cache-Control"] == "public, no-cache"
    resized = api.get(f"/i/{body['id']}.png", query={"w": "20", "v": sha256[:16]})
    assert resized.status == 200
    assert resized.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    kept = [name_of(e).rsplit(".", 1)[-1] for e in transform_files(library, sha256)]
    assert sorted(kept) == ["jpg", "png"]  # the location-free copy, the resize


def test_a_cache_that_cannot_be_written_still_sends_the_copy(
    api: Api, library: Library, backend: str
) -> None:
    """A full or read-only disk, a store that refuses the write: the location-free bytes
    are sent, not kept, never a 5xx."""
    data = located("JPEG")
    body = api.upload_ok(data, "tower.jpg")
    if backend == "folder":
        cache_dir = library.core.transforms.cache.directory
        assert cache_dir is not None
        shutil.rmtree(cache_dir, ignore_errors=True)
        cache_dir.write_bytes(b"")  # where the cache's folders would go, a file: no write works
    else:
        # The derived files' bucket is not there: the real server answers every write
        # with an error (NoSuchBucket), while the originals are read as before.
        library.core.derived.bucket = "imageshelf-no-such-bucket"  # type: ignore[attr-defined]
    whole = api.get(f"/i/{body['id']}")
    assert whole.status == 200 and gps_tags(exiftool(whole.body)) == {}
    assert len(whole.body) == len(data)
    part = api.get(f"/i/{body['id']}", headers={"Range": "bytes=5-54"})
    assert part.status == 206 and part.body == whole.body[5:55]
