"""werkzeug's multipart parsing, with the end of a part found by a substring search.

werkzeug finds the boundary that ends a part with a regular expression that begins with
a line break (``\\r\\n``, ``\\n`` or ``\\r``): an expression without a literal prefix, so
the search tries it at every byte of the chunk that holds the boundary. That is the last
chunk of every file part, up to 64 KiB, searched byte by byte, ≈ 0.15 ms of each 2 MP
upload's CPU (``benchmarks/bench_upload.py``, target 3a). Here the boundary's own bytes
(``--`` and the boundary) are found first with ``bytes.find``, and the expression is
tried only from the line break before them. What it accepts and what it answers are
werkzeug's: the same expression decides, from the first place where it can match, and
anything unusual (the boundary's bytes without a line break before them, a delimiter
cut off at the end of a chunk) is left to werkzeug's own code.

``StreamingMultiPartParser.parse`` is werkzeug 3.1's ``MultiPartParser.parse`` (pinned
below 4 in pyproject.toml) with this decoder in place of werkzeug's."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import IO, Any

from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.formparser import MultiPartParser
from werkzeug.sansio.multipart import (
    LINE_BREAK_RE,
    Data,
    Epilogue,
    Field,
    File,
    MultipartDecoder,
    NeedData,
    State,
)


class BoundaryDecoder(MultipartDecoder):
    """``MultipartDecoder`` whose ``_parse_data`` looks for the boundary's bytes first."""

    def __init__(
        self,
        boundary: bytes,
        max_form_memory_size: int | None = None,
        *,
        max_parts: int | None = None,
    ) -> None:
        super().__init__(boundary, max_form_memory_size, max_parts=max_parts)
        self._dashed = b"--" + boundary
        # What the end of a chunk may hold of the next delimiter (a line break of up to
        # two bytes, then the dashed boundary): kept back until more data shows.
        self._held_back = len(self._dashed) + 2

    def _parse_data(self, data: bytes | bytearray, *, start: bool) -> tuple[bytes, int, bool]:
        data_start = 0
        if start:  # a part's data begins after the line break that ends its headers
            match = LINE_BREAK_RE.match(data)
            data_start = match.end() if match is not None else 0
        at = data.find(self._dashed)
        if at == -1:
            # No boundary here: all of it is the part's but the tail that may begin one.
            end = max(data_start, len(data) - self._held_back)
            return bytes(data[data_start:end]), end, True
        # Every match holds the dashed boundary after a line break of one or two bytes,
        # and ``at`` is its first occurrence: no match begins before ``at - 2``, so the
        # search from there finds the match werkzeug's search from 0 would.
        found = self.boundary_re.search(data, max(0, at - 2))
        if found is None:
            return super()._parse_data(data, start=start)
        self.state = State.EPILOGUE if found.group(1).startswith(b"--") else State.PART
        return bytes(data[data_start : found.start()]), found.end(), False


class StreamingMultiPartParser(MultiPartParser):
    """``MultiPartParser`` decoding with ``BoundaryDecoder``."""

    def parse(
        self, stream: IO[bytes], boundary: bytes, content_length: int | None
    ) -> tuple[MultiDict[str, str], MultiDict[str, FileStorage]]:
        # werkzeug 3.1's loop, unchanged but for the decoder it makes.
        current_part: Field | File | None = None
        field_size: int | None = None
        container: Any = None
        write: Callable[[bytes], Any]
        parser = BoundaryDecoder(
            boundary, max_form_memory_size=self.max_form_memory_size, max_parts=self.max_form_parts
        )
        fields: list[tuple[str, str]] = []
        files: list[tuple[str, FileStorage]] = []
        for data in _chunks(stream, self.buffer_size):
            parser.receive_data(data)
            event = parser.next_event()
            while not isinstance(event, (Epilogue, NeedData)):
                if isinstance(event, Field):
                    current_part = event
                    field_size = 0
                    container = []
                    write = container.append
                elif isinstance(event, File):
                    current_part = event
                    field_size = None
                    container = self.start_file_streaming(event, content_length)
                    write = container.write
                elif isinstance(event, Data):
                    if self.max_form_memory_size is not None and field_size is not None:
                        # Data events of a field must not add up beyond the limit.
                        field_size += len(event.data)
                        if field_size > self.max_form_memory_size:
                            raise RequestEntityTooLarge()
                    write(event.data)
                    if not event.more_data:
                        if isinstance(current_part, Field):
                            value = b"".join(container).decode(
                                self.get_part_charset(current_part.headers), "replace"
                            )
                            fields.append((current_part.name, value))
                        elif isinstance(current_part, File):
                            container.seek(0)
                            files.append(
                                (
                                    current_part.name,
                                    FileStorage(
                                        container,
                                        current_part.filename,
                                        current_part.name,
                                        headers=current_part.headers,
                                    ),
                                )
                            )
                event = parser.next_event()
        return self.cls(fields), self.cls(files)


def _chunks(stream: IO[bytes], size: int) -> Iterator[bytes | None]:
    """The stream in chunks of ``size``, then ``None`` (the decoder's end of input)."""
    while data := stream.read(size):
        yield data
    yield None
