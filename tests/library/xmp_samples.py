"""Images made for the XMP tests: each format and variant, carrying EXIF, an ICC profile
and XMP properties of their own, so a test can check they survive a rewrite."""

from __future__ import annotations

import io
import json
import random
import shutil
import subprocess
from typing import Any

from PIL import Image, ImageCms
from PIL.PngImagePlugin import PngInfo

CAMERA = "Imageshelf Test Camera"


def icc_profile() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def xmp_packet(*properties: str, about: str = "") -> bytes:
    """An XMP packet whose one rdf:Description holds ``properties`` (XML snippets)."""
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        f'<rdf:Description rdf:about="{about}" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/" '
        'xmlns:Iptc4xmpCore="http://iptc.org/std/Iptc4xmpCore/1.0/xmlns/" '
        'xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/" '
        'xmlns:xmp="http://ns.adobe.com/xap/1.0/">' + "".join(properties) + "</rdf:Description>"
        '</rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
    ).encode()


def lang_alt(tag: str, *items: tuple[str, str]) -> str:
    lis = "".join(f'<rdf:li xml:lang="{lang}">{text}</rdf:li>' for lang, text in items)
    return f"<{tag}><rdf:Alt>{lis}</rdf:Alt></{tag}>"


def caption(text: str) -> str:
    return lang_alt("dc:description", ("x-default", text))


def alt_text(text: str, ns: str = "Iptc4xmpCore") -> str:
    return lang_alt(f"{ns}:AltTextAccessibility", ("x-default", text))


CREATOR_TOOL = "<xmp:CreatorTool>Imageshelf tests</xmp:CreatorTool>"


def noise(mode: str = "RGB", size: tuple[int, int] = (64, 48), seed: int = 1) -> Image.Image:
    rng = random.Random(seed)
    bands = len(mode)
    return Image.frombytes(mode, size, rng.randbytes(size[0] * size[1] * bands))


def make(kind: str, xmp: bytes | None = None, *, seed: int = 1) -> bytes:
    """``kind``: jpeg, png, webp-lossy, webp-lossless (simple containers: no EXIF, ICC or
    XMP, whatever ``xmp`` says), webp-extended (VP8X with EXIF and ICC), webp-alpha
    (lossless with transparency). jpeg and png carry EXIF and ICC."""
    out = io.BytesIO()
    exif = Image.Exif()
    exif[0x0110] = CAMERA  # Model
    extra: dict[str, Any] = {}
    if xmp is not None:
        extra["xmp"] = xmp
    if kind == "jpeg":
        noise(seed=seed).save(
            out, "JPEG", quality=90, exif=exif, icc_profile=icc_profile(), **extra
        )
    elif kind == "png":
        info = PngInfo()
        if xmp is not None:  # Pillow's PNG writer takes XMP as an iTXt chunk only
            info.add_itxt("XML:com.adobe.xmp", xmp.decode())
        noise(seed=seed).save(out, "PNG", exif=exif, icc_profile=icc_profile(), pnginfo=info)
    elif kind == "webp-lossy":  # simple: a VP8 chunk only, so no XMP either
        noise(seed=seed).save(out, "WEBP", quality=80)
    elif kind == "webp-lossless":  # simple: a VP8L chunk only
        noise(seed=seed).save(out, "WEBP", lossless=True)
    elif kind == "webp-extended":
        noise(seed=seed).save(
            out, "WEBP", quality=80, exif=exif, icc_profile=icc_profile(), **extra
        )
    elif kind == "webp-alpha":
        noise("RGBA", seed=seed).save(out, "WEBP", lossless=True, **extra)
    elif kind == "gif":
        noise(seed=seed).convert("P").save(out, "GIF")
    else:
        raise ValueError(kind)
    return out.getvalue()


KINDS = ["jpeg", "png", "webp-lossy", "webp-lossless", "webp-extended", "webp-alpha"]
SIMPLE = {"webp-lossy", "webp-lossless"}


def pixels(data: bytes) -> tuple[str, tuple[int, int], bytes]:
    with Image.open(io.BytesIO(data)) as img:
        img.load()
        return img.mode, img.size, img.tobytes()


def exiftool(path: str, *tags: str) -> dict[str, Any]:
    """The independent reader: exiftool's JSON for ``tags`` of the file at ``path``."""
    exe = shutil.which("exiftool")
    assert exe is not None, "exiftool is installed by scripts/bootstrap.sh"
    out = subprocess.run(
        [exe, "-json", "-charset", "utf8", *tags, path],
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout
    return json.loads(out)[0]
