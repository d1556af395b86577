"""*Write alt text into image files*: off by default; when on, saving alt text rewrites the
file's XMP through the core's write path (new hash, size and mtime committed with the
text), pixels untouched, no echo from the watcher; GIF said so and left alone; a kill -9
mid-write leaves the old file or the new one, never a broken one."""

from __future__ import annotations

import io
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from imageshelf.app.library import EventKind, Library, settings, write_back, xmp_read
from tests.library.helpers import sha256, tmp_leftovers
from tests.library.test_watcher import barrier
from tests.library.test_watcher_support import EventLog
from tests.library.xmp_samples import CREATOR_TOOL, exiftool, make, pixels, xmp_packet

WORKER = Path(__file__).with_name("describe_worker.py")
REPO = Path(__file__).resolve().parents[2]


def _file_alt(lib: Library, image_id: str) -> str | None:
    record = lib.get(image_id)
    path = lib.path_of(record.folder, record.filename)
    return xmp_read.describe_file(path, record.content_type).alt_text


def test_off_by_default_the_file_is_never_touched(library: Library) -> None:
    data = make("jpeg")
    record = library.add(io.BytesIO(data), "a.jpg")
    assert settings.write_alt_text_to_files(library) is False
    after, outcome = library.update_with_outcome(record.id, alt_text="In the database")
    assert outcome == write_back.FileWrite(write_back.OFF)
    assert library.path_of(None, after.filename).read_bytes() == data
    assert after.sha256 == record.sha256


@pytest.mark.parametrize("kind", ["jpeg", "png", "webp-lossy", "webp-lossless"])
def test_when_on_the_file_carries_the_text(library: Library, kind: str) -> None:
    data = make(kind, xmp_packet(CREATOR_TOOL))
    record = library.add(io.BytesIO(data), "photo.img")
    settings.put(library, settings.WRITE_ALT_TEXT_TO_FILES, True)
    after, outcome = library.update_with_outcome(
        record.id, alt_text="Written", long_description="And the long one"
    )
    assert outcome is not None and outcome.status == write_back.WRITTEN
    path = library.path_of(after.folder, after.filename)
    on_disk = path.read_bytes()
    assert pixels(on_disk) == pixels(data)
    assert (after.sha256, after.size) == (sha256(on_disk), len(on_disk))
    assert after.sha256 != record.sha256
    assert exiftool(str(path), "-XMP-iptcCore:AltTextAccessibility")["AltTextAccessibility"] == (
        "Written"
    )
    assert tmp_leftovers(library) == []
    # The row matches the file: a full reconciliation finds nothing to do.
    log = EventLog(library)
    library.reconcile()
    assert log.events == []
    # The thumbnail came along under the new hash, without a decode.
    assert library.thumbnails.lookup(after.sha256) is not None
    assert library.thumbnails.lookup(record.sha256) is None


def test_gif_is_said_so_and_left_alone(library: Library) -> None:
    data = make("gif")
    record = library.add(io.BytesIO(data), "anim.gif")
    settings.put(library, settings.WRITE_ALT_TEXT_TO_FILES, True)
    after, outcome = library.update_with_outcome(record.id, alt_text="A spinner")
    assert outcome is not None and outcome.status == write_back.NOT_WRITABLE
    assert "GIF" in outcome.message
    assert after.alt_text == "A spinner"  # kept in the library
    assert library.path_of(None, after.filename).read_bytes() == data


def test_too_large_for_a_jpeg_segment_is_refused_cleanly(library: Library) -> None:
    bulky = "<xmp:Label>" + "x" * 60_000 + "</xmp:Label>"
    data = make("jpeg", xmp_packet(bulky))
    record = library.add(io.BytesIO(data), "big.jpg")
    settings.put(library, settings.WRITE_ALT_TEXT_TO_FILES, True)
    after, outcome = library.update_with_outcome(record.id, long_description="y" * 9_000)
    assert outcome is not None and outcome.status == write_back.NOT_WRITABLE
    assert library.path_of(None, after.filename).read_bytes() == data
    assert after.long_description == "y" * 9_000
    assert tmp_leftovers(library) == []


def test_the_watcher_does_not_take_the_rewrite_for_an_outside_edit(
    watched: Library,
) -> None:
    log = EventLog(watched)
    settings.put(watched, settings.WRITE_ALT_TEXT_TO_FILES, True)
    records = [watched.add(io.BytesIO(make("png", seed=s)), f"p{s}.png") for s in range(4)]
    for n in range(3):
        for r in records:
            watched.update(r.id, alt_text=f"round {n}")
    barrier(watched, log)
    from_disk = [e for e in log.events if e.source == "disk"]
    assert [e.kind for e in from_disk] == [EventKind.ADDED]  # the barrier only
    for r in records:
        assert _file_alt(watched, r.id) == "round 2"


def test_settings_refuse_unknown_keys_and_wrong_types(library: Library) -> None:
    with pytest.raises(Exception, match="no library setting"):
        settings.put(library, "nope", True)
    with pytest.raises(Exception, match="takes a bool"):
        settings.put(library, settings.WRITE_ALT_TEXT_TO_FILES, "yes")
    settings.put(library, settings.WRITE_ALT_TEXT_TO_FILES, True)
    assert settings.write_alt_text_to_files(library) is True


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
@pytest.mark.parametrize("seed", range(4))
def test_kill_during_write_back_leaves_old_or_new(library_path: Path, seed: int) -> None:
    originals: dict[str, bytes] = {}
    with Library.open(library_path) as lib:
        settings.put(lib, settings.WRITE_ALT_TEXT_TO_FILES, True)
        for i, kind in enumerate(["jpeg", "png", "webp-lossy"]):
            data = make(kind, seed=seed * 10 + i)
            originals[lib.add(io.BytesIO(data), f"f{i}.img").id] = data
    proc = subprocess.Popen(
        [sys.executable, str(WORKER), str(library_path)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    saved: list[int] = []
    in_flight = 0
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        wanted = random.Random(seed).randrange(3, 12)
        while len(saved) < wanted:
            words = proc.stdout.readline().split()
            if words and words[0] == "saving":
                in_flight = int(words[1])
            elif words and words[0] == "saved":
                saved.append(int(words[1]))
        # Somewhere inside the next write, not at a tidy boundary.
        time.sleep(random.Random(seed).uniform(0, 0.02))
    finally:
        proc.send_signal(signal.SIGKILL)
        rest = proc.stdout.read() if proc.stdout else ""
        proc.wait(timeout=30)
        if proc.stdout:
            proc.stdout.close()
    for line in rest.splitlines():
        words = line.split()
        if words and words[0] == "saving":
            in_flight = int(words[1])
        elif words and words[0] == "saved":
            saved.append(int(words[1]))
    possible = {f"text {n}" for n in (*saved, in_flight)}
    with Library.open(library_path) as lib:
        assert tmp_leftovers(lib) == []
        for image_id, original in originals.items():
            record = lib.get(image_id)
            data = lib.path_of(record.folder, record.filename).read_bytes()
            assert pixels(data) == pixels(original)  # a complete, valid image
            assert (record.sha256, record.size) == (sha256(data), len(data))
            file_alt = _file_alt(lib, image_id)
            assert file_alt is None or file_alt in possible
            assert record.alt_text is None or record.alt_text in possible


def test_a_copy_for_export_carries_the_text_whatever_the_setting(library: Library) -> None:
    data = make("webp-lossless", seed=21)
    record = library.add(io.BytesIO(data), "out.webp", alt_text="Exported kite")
    library.update(record.id, long_description="With its long description")
    copy = library.copy_with_alt_text(record.id)
    described = xmp_read.describe_packet(xmp_read.packet_from_bytes(copy, "image/webp"))
    assert (described.alt_text, described.long_description) == (
        "Exported kite",
        "With its long description",
    )
    assert pixels(copy) == pixels(data)
    assert library.path_of(None, record.filename).read_bytes() == data  # stored file as is


def test_the_trash_keeps_the_long_description(library: Library) -> None:
    record = library.add(io.BytesIO(make("png", seed=22)), "kept.png", alt_text="Kept")
    library.update(record.id, long_description="Still here after a trip to the trash")
    library.delete(record.id)
    restored = library.trash.restore(record.id)
    assert restored.long_description == "Still here after a trip to the trash"
    assert library.get(record.id).long_description == "Still here after a trip to the trash"
