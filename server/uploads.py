"""Uploads streamed straight into the library: the multipart file part is written into a
new file in the library's ``tmp/`` as werkzeug parses it, hashed and counted on the way,
and refused at the byte past the 10 MiB limit. The default (spool the part to a
temporary file or memory, then let the core copy it into ``tmp/`` while hashing) paid for
every byte twice."""

from __future__ import annotations

import codecs
from email.message import Message
from typing import IO, TYPE_CHECKING, Any, Final

from flask import Request, current_app
from werkzeug.datastructures import Headers
from werkzeug.formparser import FormDataParser

from imageshelf.app.library import Incoming, InvalidAltText, InvalidFolder, InvalidInput, Library

from .multipart_decoder import StreamingMultiPartParser

if TYPE_CHECKING:
    from typing_extensions import Buffer  # collections.abc.Buffer from Python 3.12

# werkzeug decodes form fields with errors="replace": a folder sent in Latin-1 became a
# folder named with U+FFFD. This codec ignores the error handler it is given.
_STRICT_UTF8: Final = "imageshelf_strict_utf_8"


def _strict_utf8_decode(data: Buffer, errors: str = "strict", /) -> tuple[str, int]:
    try:
        return codecs.utf_8_decode(data, "strict", True)
    except UnicodeDecodeError as exc:  # named so a field's error is told from a header's
        raise UnicodeDecodeError(_STRICT_UTF8, exc.object, exc.start, exc.end, exc.reason) from None


def _find_codec(name: str) -> codecs.CodecInfo | None:
    if name != _STRICT_UTF8:
        return None
    utf8 = codecs.lookup("utf-8")
    return codecs.CodecInfo(utf8.encode, _strict_utf8_decode, name=_STRICT_UTF8)


codecs.register(_find_codec)


class InvalidEncoding(InvalidInput):
    """A form field or a part header that is not valid UTF-8."""

    code = "invalid_encoding"


class InvalidFilename(InvalidInput):
    code = "invalid_filename"


# The error for text that is not UTF-8, by field: each field's own code.
_FIELD_ERRORS: Final = {"folder": InvalidFolder, "alt_text": InvalidAltText}


class _StrictMultiPartParser(StreamingMultiPartParser):
    """Field values and part headers must be UTF-8 (or the part's declared charset);
    the end of each part found by a substring search (``multipart_decoder.py``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.decoding: Headers | None = None  # the part whose value is being decoded

    def get_part_charset(self, headers: Headers) -> str:
        self.decoding = headers
        charset = super().get_part_charset(headers)
        return _STRICT_UTF8 if charset.lower().replace("_", "-") == "utf-8" else charset

    def field_name(self) -> str:
        if self.decoding is None:
            return ""
        message = Message()
        message["content-disposition"] = self.decoding.get("Content-Disposition", "")
        return str(message.get_param("name", "", "content-disposition"))


class _StrictFormDataParser(FormDataParser):
    def _parse_multipart(
        self,
        stream: IO[bytes],
        mimetype: str,
        content_length: int | None,
        options: dict[str, str],
    ) -> Any:
        parser = _StrictMultiPartParser(
            stream_factory=self.stream_factory,
            max_form_memory_size=self.max_form_memory_size,
            max_form_parts=self.max_form_parts,
            cls=self.cls,
        )
        boundary = options.get("boundary", "").encode("ascii")
        if not boundary:
            raise ValueError("Missing boundary")
        try:
            form, files = parser.parse(stream, boundary, content_length)
        except UnicodeDecodeError as exc:
            # Not a ValueError to werkzeug (which would drop the whole form silently).
            if exc.encoding != _STRICT_UTF8 or parser.decoding is None:
                raise InvalidFilename(
                    "A part's headers (its name or filename) are not valid UTF-8; send "
                    "names as UTF-8."
                ) from None
            field = parser.field_name()
            error = _FIELD_ERRORS.get(field, InvalidEncoding)
            raise error(f"The form field {field!r} is not valid UTF-8 text.") from None
        return stream, form, files


class UploadRequest(Request):
    """Flask's request whose file parts are ``Incoming`` sinks in the library's ``tmp/``.

    Every sink it made and that was not finished (a refused or broken upload, a second
    file part, a request that failed half way) is removed when the request closes, which
    Flask does at the end of every request, whatever happened."""

    form_data_parser_class = _StrictFormDataParser

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._incoming: list[Incoming] = []

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> IO[bytes]:
        library: Library = current_app.extensions["imageshelf"]
        incoming = library.receive()
        self._incoming.append(incoming)
        return incoming  # type: ignore[return-value]  # write/seek/close: all werkzeug uses

    def close(self) -> None:
        try:
            super().close()
        finally:
            for incoming in self._incoming:
                incoming.close()
            self._incoming.clear()
