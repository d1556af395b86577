"""``import | ls | alt | mv | rm | export``, each run twice: on a library no process holds
(the command opens it) and on one a serving process holds (the command goes through its
HTTP API, found in .imageshelf/server.json). Same output, same exit codes."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from imageshelf.app.cli.common import NOT_FOUND, OK, PARTIAL, UNREACHABLE
from imageshelf.app.library import Library
from imageshelf.server import BackgroundServer
from tests.cli.conftest import Cli
from tests.conftest import image_bytes
from tests.library.xmp_samples import exiftool, pixels


@pytest.fixture(params=["direct", "through the API"])
def mode(request: pytest.FixtureRequest, library_path: Path) -> Iterator[str]:
    if request.param == "direct":
        yield "direct"
        return
    held = request.getfixturevalue("held")
    assert (library_path / ".imageshelf" / "server.json").is_file()
    assert json.loads((library_path / ".imageshelf" / "server.json").read_text())["url"] == (
        held.base_url
    )
    yield "api"


def ls_json(cli: Cli, *args: str) -> list[dict[str, object]]:
    run = cli("ls", "--json", *args)
    assert run.code == OK, run.err
    return json.loads(run.out)  # type: ignore[no-any-return]


def test_import_ls_alt_mv_rm(cli: Cli, mode: str, pictures: Path) -> None:
    run = cli("import", str(pictures), "--folder", "brand", "--alt", "Test picture")
    assert run.code == OK, run.err
    assert "Imported 3 of 3" in run.err
    where = "running Imageshelf" if mode == "api" else "the library at"
    assert where in run.err
    added = [line.split("\t") for line in run.out.splitlines()]  # what a script reads
    assert len(added) == 3 and all(i.startswith("img_") and "/" in w for i, w in added)
    images = ls_json(cli)
    assert sorted(f"{i['folder']}/{i['filename']}" for i in images) == [
        "brand/pictures/blue.jpg",
        "brand/pictures/red.png",
        "brand/pictures/trip/green.webp",
    ]
    assert {i["alt_text"] for i in images} == {"Test picture"}

    # A file given by name is always tried: the text file is refused, and said.
    refused = cli("import", str(pictures / "notes.txt"))
    assert refused.code == PARTIAL
    assert "notes.txt" in refused.err and "not an image" in refused.err

    red = next(i for i in images if i["filename"] == "red.png")
    assert cli("alt", str(red["id"]), "A red square").code == OK
    assert cli("mv", str(red["id"]), "archive/2026").code == OK
    [moved] = ls_json(cli, "--folder", "archive/2026")
    assert (moved["id"], moved["alt_text"]) == (red["id"], "A red square")
    assert cli("alt", str(red["id"]), "--decorative").code == OK
    assert ls_json(cli, "--search", "red")[0]["alt_text"] == ""
    assert cli("mv", str(red["id"]), "/").code == OK
    assert [i["id"] for i in ls_json(cli, "--folder", "/")] == [red["id"]]

    plain = cli("ls")
    lines = plain.out.splitlines()
    assert len(lines) == 3 and f"{red['id']}\tred.png\t(decorative)" in lines

    assert cli("rm", str(red["id"])).code == OK
    again = cli("rm", str(red["id"]))
    assert again.code == NOT_FOUND and "deleted" in again.err
    assert red["id"] not in {i["id"] for i in ls_json(cli)}


def test_undescribed_and_search(cli: Cli, mode: str, pictures: Path) -> None:
    assert cli("import", str(pictures / "red.png")).code == OK
    assert cli("import", str(pictures / "blue.jpg"), "--alt", "Blue sky").code == OK
    assert [i["filename"] for i in ls_json(cli, "--undescribed")] == ["red.png"]
    assert [i["filename"] for i in ls_json(cli, "--search", "SKY")] == ["blue.jpg"]


def test_export_copies_originals_and_never_overwrites(
    cli: Cli, mode: str, pictures: Path, tmp_path: Path
) -> None:
    assert cli("import", str(pictures)).code == OK
    out = tmp_path / "export"
    assert cli("export", str(out)).code == OK
    exported = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert exported == ["pictures/blue.jpg", "pictures/red.png", "pictures/trip/green.webp"]
    original = (pictures / "red.png").read_bytes()
    assert (out / "pictures" / "red.png").read_bytes() == original
    # Again: the same bytes are already there, nothing to do.
    assert cli("export", str(out)).code == OK
    # A different file where one would go is kept, and said.
    (out / "pictures" / "blue.jpg").write_bytes(b"mine")
    clash = cli("export", str(out), "--folder", "pictures")
    assert clash.code == PARTIAL and "blue.jpg" in clash.err
    assert (out / "pictures" / "blue.jpg").read_bytes() == b"mine"
    assert not [p for p in out.rglob(".imageshelf-export-*")]


def test_export_can_embed_alt_text_in_the_copies(
    cli: Cli, mode: str, pictures: Path, tmp_path: Path
) -> None:
    (pictures / "anim.gif").write_bytes(image_bytes("GIF"))
    assert cli("import", str(pictures / "blue.jpg"), "--alt", "Blue sky «over» the sea").code == OK
    assert cli("import", str(pictures / "red.png"), "--alt", "").code == OK  # decorative
    assert cli("import", str(pictures / "anim.gif"), "--alt", "A GIF").code == OK
    out = tmp_path / "export"
    run = cli("export", str(out), "--embed-alt-text")
    # The GIF cannot carry alt text: copied as it is, and said.
    assert run.code == PARTIAL and "anim.gif" in run.err and "cannot carry" in run.err
    assert (out / "anim.gif").read_bytes() == (pictures / "anim.gif").read_bytes()
    seen = exiftool(str(out / "blue.jpg"), "-XMP-iptcCore:AltTextAccessibility")
    assert seen["AltTextAccessibility"] == "Blue sky «over» the sea"
    # Pixels untouched; the library's own files unchanged.
    assert pixels((out / "blue.jpg").read_bytes()) == pixels((pictures / "blue.jpg").read_bytes())
    assert pixels((out / "red.png").read_bytes()) == pixels((pictures / "red.png").read_bytes())
    listed = {i["filename"]: i for i in ls_json(cli)}
    assert listed["blue.jpg"]["size"] == (pictures / "blue.jpg").stat().st_size
    # Again: what is there is what the export writes, so nothing to do but the GIF's note.
    again = cli("export", str(out), "--embed-alt-text")
    assert again.code == PARTIAL and "different file" not in again.err


def test_unknown_id_and_missing_library(
    cli: Cli, mode: str, tmp_path: Path, pictures: Path
) -> None:
    assert cli("import", str(pictures / "red.png")).code == OK
    unknown = cli("alt", "img_01M836850G58FB4Q09DY9XJK81", "text")
    assert unknown.code == NOT_FOUND and "no image" in unknown.err
    missing = cli("ls", library=tmp_path / "nothing-here")
    assert missing.code == NOT_FOUND and "no Imageshelf library" in missing.err
    assert not (tmp_path / "nothing-here").exists()


def test_direct_import_refuses_a_duplicate(cli: Cli, pictures: Path) -> None:
    assert cli("import", str(pictures / "red.png")).code == OK
    dup = cli("import", str(pictures / "red.png"))
    assert dup.code == PARTIAL and "already in the library" in dup.err


def test_held_library_without_an_api_is_exit_4(cli: Cli, library_path: Path) -> None:
    library = Library.open(library_path)  # holds the lock, serves nothing
    try:
        run = cli("ls")
        assert run.code == UNREACHABLE
        assert "already open" in run.err and "API is not running" in run.err
    finally:
        library.close()


def test_server_json_names_only_a_running_server(library_path: Path) -> None:
    library = Library.open(library_path)
    first = BackgroundServer(library, host="127.0.0.1", port=0, token="t").start()
    second = BackgroundServer(library, host="0.0.0.0", port=0, token="t").start()
    address = library.meta / "server.json"
    # The newest start wins; an unspecified address is reached on loopback.
    assert json.loads(address.read_text())["url"] == f"http://127.0.0.1:{second.port}"
    first.stop()  # not its file any more: left alone
    assert address.is_file()
    second.stop()
    assert not address.exists()
    library.close()


def test_upload_through_the_api_keeps_the_bytes(
    cli: Cli, held: BackgroundServer, tmp_path: Path
) -> None:
    photo = tmp_path / 'a "quoted" name.png'
    photo.write_bytes(image_bytes("PNG", size=(300, 200)))
    assert cli("import", str(photo), "--alt", "Ünïcödé alt").code == OK
    [image] = ls_json(cli)
    assert image["original_filename"] == photo.name
    assert image["alt_text"] == "Ünïcödé alt"
    stored = held.library.original_path(str(image["id"]))[1].read_bytes()
    assert hashlib.sha256(stored).digest() == hashlib.sha256(photo.read_bytes()).digest()


def test_export_to_a_zip_with_the_alt_text_csv(
    cli: Cli, mode: str, pictures: Path, tmp_path: Path, library_path: Path
) -> None:
    import csv
    import io
    import subprocess
    import zipfile

    assert cli("import", str(pictures / "blue.jpg"), "--alt", "Blue, «sky»").code == OK
    assert cli("import", str(pictures / "trip"), "--folder", "trip").code == OK
    out = tmp_path / "all.zip"
    run = cli("export", str(out), "--alt-text-csv", "path,alt_status,alt_text")
    assert run.code == OK, run.err
    with zipfile.ZipFile(out) as z:
        assert sorted(z.namelist()) == ["alt-text.csv", "blue.jpg", "trip/trip/green.webp"]
        assert z.read("blue.jpg") == (pictures / "blue.jpg").read_bytes()
        rows = list(csv.reader(io.StringIO(z.read("alt-text.csv").decode())))
    assert rows[0] == ["path", "alt_status", "alt_text"]
    assert ["blue.jpg", "described", "Blue, «sky»"] in rows
    assert subprocess.run(["unzip", "-tq", str(out)], capture_output=True).returncode == 0
    # Once there, a zip is replaced only when asked.
    again = cli("export", str(out))
    assert again.code != OK and "already exists" in again.err
    assert cli("export", str(out), "--replace").code == OK
    # Inside the library: refused, nothing written there.
    inside = cli("export", str(library_path / "copy.zip"))
    assert inside.code != OK and "inside the library" in inside.err
    assert not (library_path / "copy.zip").exists()
