"""What a transform request asks for, checked and made canonical, and the geometry it
gives: the rules of the contract's "Transforms on the proxy", with no I/O.

``parse_request`` reads the extension and query parameters of ``/i/{id}.{ext}?...``;
``resolve`` decides, against the original's format, whether the answer is the original
itself or a ``TransformSpec``; ``plan`` turns a spec and a source size into the region of
the source to take and the output size."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Final

from PIL import __version__ as PILLOW_VERSION

from . import rules
from .errors import InvalidTransform

# Part of every result's key (and so of its ETag): a change of the pipeline's output, or
# of the Pillow that encodes it, makes new keys instead of serving old bytes under them.
PIPELINE_VERSION: Final = "1"
_DIGITS: Final = re.compile(r"[0-9]{1,6}")


@dataclass(frozen=True, slots=True)
class TransformRequest:
    """The syntax of a request, checked; nothing yet known about the original."""

    ext: str | None  # lower-case, without the dot
    width: int | None
    height: int | None
    fit: str | None  # None: not given
    quality: int | None
    variant: str | None
    version: str | None = None  # ``v``: pins the answer (immutable); not part of the spec

    @property
    def has_parameters(self) -> bool:
        return (
            self.width is not None
            or self.height is not None
            or self.fit is not None
            or self.quality is not None
        )


@dataclass(frozen=True, slots=True)
class TransformSpec:
    """A transform in canonical form: equal specs give identical bytes."""

    output: rules.OutputFormat
    width: int | None
    height: int | None
    fit: str
    quality: int | None

    @property
    def name(self) -> str:
        """A readable, unique file name for the result of this spec of one source."""
        w = self.width if self.width is not None else ""
        h = self.height if self.height is not None else ""
        q = f"-q{self.quality}" if self.quality is not None else ""
        return f"{w}x{h}-{self.fit}{q}.{self.output.extension}"

    def etag(self, source_sha256: str) -> str:
        """Strong, unquoted; the same for the same source bytes and spec in any process."""
        key = f"{source_sha256}/{self.name}/{PIPELINE_VERSION}/{PILLOW_VERSION}"
        return hashlib.sha256(key.encode()).hexdigest()


def _bad(message: str) -> InvalidTransform:
    return InvalidTransform(message)


def _number(name: str, value: str, low: int, high: int) -> int:
    if not _DIGITS.fullmatch(value) or not low <= int(value) <= high:
        raise _bad(f"{name} must be a whole number from {low} to {high}; got {value!r}.")
    return int(value)


def parse_request(ext: str | None, pairs: list[tuple[str, str]]) -> TransformRequest:
    """Checks the parameters' syntax and the combinations that need no original.
    Raises ``InvalidTransform``."""
    seen: dict[str, str] = {}
    for key, value in pairs:
        if key not in rules.TRANSFORM_PARAMETERS and key not in rules.LINK_PARAMETERS:
            known = ", ".join(rules.TRANSFORM_PARAMETERS + rules.LINK_PARAMETERS)
            raise _bad(f"Unknown parameter {key!r}: an image link takes {known}.")
        if key in seen:
            raise _bad(f"The parameter {key!r} is given twice.")
        seen[key] = value
    if ext is not None:
        ext = ext.lower()
        if not ext or not re.fullmatch(r"[a-z0-9]{1,8}", ext):
            raise _bad(f"{ext!r} is not a format: ask for one of {_ext_list()}.")
    variant = seen.get("variant")
    if variant is not None and (ext is not None or len(set(seen) - {"variant", "v"}) > 0):
        raise _bad("variant=thumbnail cannot be combined with a size, format or quality.")
    top = rules.TRANSFORM_MAX_SIDE
    width = _number("w", seen["w"], 1, top) if "w" in seen else None
    height = _number("h", seen["h"], 1, top) if "h" in seen else None
    quality = _number("q", seen["q"], 1, 100) if "q" in seen else None
    fit = seen.get("fit")
    if fit is not None and fit not in (rules.FIT_INSIDE, rules.FIT_COVER):
        raise _bad(f"fit must be 'inside' or 'cover'; got {fit!r}.")
    crop = seen.get("crop")
    if crop is not None:
        if crop not in ("true", "false"):
            raise _bad(f"crop must be 'true' or 'false'; got {crop!r}.")
        if crop == "true":
            if fit == rules.FIT_INSIDE:
                raise _bad("crop=true means fit=cover; it cannot be combined with fit=inside.")
            fit = rules.FIT_COVER
    if fit == rules.FIT_COVER and (width is None or height is None):
        raise _bad("Cropping to cover (fit=cover or crop=true) needs both w and h.")
    return TransformRequest(ext, width, height, fit, quality, variant, seen.get("v"))


def _ext_list() -> str:
    return " ".join(rules.OUTPUT_FORMATS)


def resolve(request: TransformRequest, original: rules.ImageFormat) -> TransformSpec | None:
    """The transform to make of an original in format ``original``, or ``None`` when the
    answer is the original itself (no extension, or the original's own, and no size or
    quality). Raises ``InvalidTransform`` for an extension that is neither offered nor
    the original's own, and for ``q`` with a lossless output."""
    own = request.ext is None or f".{request.ext}" in original.extensions
    asks_size = request.width is not None or request.height is not None
    if own and not asks_size and request.quality is None:
        return None  # fit=inside or crop=false alone change nothing
    if request.ext is None:
        ext = original.extension.lstrip(".")
        output = rules.OUTPUT_FORMATS.get(ext) or rules.OUTPUT_FORMATS[rules.FALLBACK_OUTPUT]
    else:
        found = rules.OUTPUT_FORMATS.get(request.ext)
        if found is None:
            raise _bad(
                f"Images can be converted to {_ext_list()}; {request.ext!r} is not one of "
                "them (an original's own extension gives the original)."
            )
        output = found
    if request.quality is not None and output.default_quality is None:
        raise _bad(f"q applies to JPEG, WebP and AVIF output, not to {output.pillow_name}.")
    quality = request.quality if request.quality is not None else output.default_quality
    return TransformSpec(output, request.width, request.height, request.fit or "inside", quality)


@dataclass(frozen=True, slots=True)
class Plan:
    """Take ``box`` (left, top, right, bottom, in source pixels, fractions allowed) of the
    oriented source and scale it to ``size``."""

    box: tuple[float, float, float, float]
    size: tuple[int, int]


def plan(source: tuple[int, int], spec: TransformSpec) -> Plan:
    """The geometry of the contract: ``inside`` fits within w×h keeping the aspect ratio,
    never enlarging; ``cover`` takes the largest centred region with the w:h ratio and
    scales it down to exactly w×h, or keeps it as it is where it is smaller than w×h."""
    sw, sh = source
    whole = (0.0, 0.0, float(sw), float(sh))
    if spec.fit == rules.FIT_COVER:
        assert spec.width is not None and spec.height is not None
        w, h = spec.width, spec.height
        if sw * h >= sh * w:  # the source is wider than w:h: full height, centred width
            rw, rh = sh * w / h, float(sh)
        else:
            rw, rh = float(sw), sw * h / w
        if rw >= w and rh >= h:
            left, top = (sw - rw) / 2, (sh - rh) / 2
            return Plan((left, top, left + rw, top + rh), (w, h))
        # Smaller than asked: the centred region at whole pixels, not enlarged.
        iw, ih = max(1, min(sw, round(rw))), max(1, min(sh, round(rh)))
        left, top = (sw - iw) // 2, (sh - ih) // 2
        return Plan((float(left), float(top), float(left + iw), float(top + ih)), (iw, ih))
    scale = 1.0
    if spec.width is not None:
        scale = min(scale, spec.width / sw)
    if spec.height is not None:
        scale = min(scale, spec.height / sh)
    if scale >= 1.0:
        return Plan(whole, (sw, sh))
    size = (max(1, min(sw, round(sw * scale))), max(1, min(sh, round(sh * scale))))
    if spec.width is not None:
        size = (min(size[0], spec.width), size[1])
    if spec.height is not None:
        size = (size[0], min(size[1], spec.height))
    return Plan(whole, size)


def sized_link(base: str, *, box: int | None = None, ext: str | None = None) -> str:
    """The link ``base`` (``…/i/{id}``) to the image at most ``box`` pixels on its longest
    side (never enlarged) and in the output format ``ext``; ``None`` keeps the original's
    size or format. Both ``None``: ``base`` itself, the original."""
    if ext is not None and ext not in rules.OUTPUT_FORMATS:
        raise ValueError(f"{ext!r} is not an output format")
    if box is not None and not 1 <= box <= rules.TRANSFORM_MAX_SIDE:
        raise ValueError(f"{box} is not a size from 1 to {rules.TRANSFORM_MAX_SIDE}")
    link = f"{base}.{ext}" if ext else base
    return f"{link}?w={box}&h={box}" if box else link
