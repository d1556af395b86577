"""``server/multipart_decoder.py`` finds the end of a part with a substring search instead
of werkzeug's byte-by-byte expression search: whatever the body and wherever the chunks
split it, it must parse exactly what werkzeug's own parser parses (fields, file names and
every byte of every file), and refuse exactly what werkzeug refuses."""

from __future__ import annotations

import io
import os

import pytest
from werkzeug.formparser import MultiPartParser

from imageshelf.server.multipart_decoder import StreamingMultiPartParser

BOUNDARY = b"imageshelf-7d1f0e"


def _body(parts: list[tuple[str, str | None, bytes]], line: bytes = b"\r\n") -> bytes:
    out = b""
    for name, filename, data in parts:
        disposition = f'form-data; name="{name}"' + (
            f'; filename="{filename}"' if filename is not None else ""
        )
        out += b"--" + BOUNDARY + line
        out += b"Content-Disposition: " + disposition.encode() + line
        if filename is not None:
            out += b"Content-Type: application/octet-stream" + line
        out += line + data + line
    return out + b"--" + BOUNDARY + b"--" + line


def _in_memory(**_: object) -> io.BytesIO:
    return io.BytesIO()


def _parsed(parser_class: type[MultiPartParser], body: bytes, buffer_size: int) -> object:
    parser = parser_class(
        stream_factory=_in_memory, buffer_size=buffer_size, max_form_memory_size=500_000
    )
    try:
        form, files = parser.parse(io.BytesIO(body), BOUNDARY, len(body))
    except Exception as exc:  # what werkzeug refuses, ours must refuse alike
        return ("refused", type(exc).__name__)
    return (
        sorted(form.items(multi=True)),
        sorted((k, f.filename, f.stream.read()) for k, f in files.items(multi=True)),
    )


# Data that looks like the delimiter's pieces: line breaks of every kind, dashes, the
# boundary without a line break before it, a boundary of another length.
TRICKY = [
    b"",
    b"\r",
    b"\n\r\n\r",
    b"--" + BOUNDARY,
    b"x--" + BOUNDARY + b"y",
    b"\r\n--" + BOUNDARY[:-1],
    b"--\r\n--",
    b"\r\n--" + BOUNDARY + b"x",
    os.urandom(3000),
    bytes(range(256)) * 40,
]


@pytest.mark.parametrize("line", [b"\r\n", b"\n"], ids=["crlf", "lf"])
@pytest.mark.parametrize("data", TRICKY, ids=range(len(TRICKY)))
def test_every_split_of_a_body_parses_as_werkzeug_parses_it(line: bytes, data: bytes) -> None:
    body = _body(
        [("alt_text", None, b"A kite"), ("file", "k.bin", data), ("folder", None, b"sky")],
        line,
    )
    for size in [*range(1, 80), 97, 1000, 4096, 64 * 1024]:
        ours = _parsed(StreamingMultiPartParser, body, size)
        assert ours == _parsed(MultiPartParser, body, size), size
    # (A body whose data holds its own boundary, or a bare-LF body whose data ends with a
    # CR, is ambiguous: both parsers read it alike, above, but not as it was meant.)
    if line == b"\r\n" and BOUNDARY not in data:
        assert ours[1] == [("file", "k.bin", data)]  # type: ignore[index]


def test_a_large_file_part_comes_through_whole() -> None:
    data = os.urandom(300_000) + b"\r\n--" + BOUNDARY[:5] + os.urandom(70_000)
    body = _body([("file", "big.jpg", data), ("alt_text", None, "ñ".encode())])
    for size in (64 * 1024, 65_537, 1 << 20):
        ours = _parsed(StreamingMultiPartParser, body, size)
        assert ours == _parsed(MultiPartParser, body, size)
        assert ours[1][0][2] == data  # type: ignore[index]


@pytest.mark.parametrize(
    "body",
    [
        _body([("file", "k.bin", b"abc")])[:-10],  # cut off before its last boundary
        _body([("file", "k.bin", b"abc")]).replace(b"--\r\n", b"\r\n"),  # no closing one
        b"--" + BOUNDARY + b"\r\n\r\nno disposition\r\n--" + BOUNDARY + b"--\r\n",
        b"",
    ],
    ids=["cut off", "not closed", "no disposition", "empty"],
)
def test_what_werkzeug_refuses_is_refused(body: bytes) -> None:
    for size in (1, 7, 64 * 1024):
        assert _parsed(StreamingMultiPartParser, body, size) == _parsed(MultiPartParser, body, size)
