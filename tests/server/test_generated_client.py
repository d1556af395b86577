"""A client generated from the OpenAPI document (openapi-python-client, as a user of the
API would make one) uploads, lists, changes and deletes images on a live server. Before
the file part said ``format: binary`` the generated upload sent no file at all."""

from __future__ import annotations

import importlib
import io
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from imageshelf.app.library import Library
from imageshelf.server import BackgroundServer
from imageshelf.server.app import openapi_document
from tests.conftest import image_bytes

# The contract on both libraries: a folder, and a team library (tests/server/conftest.py).
BOTH_BACKENDS = True

CLIENT = "imageshelf_api_client"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    tool = shutil.which("openapi-python-client", path=str(Path(sys.executable).parent))
    assert tool, "openapi-python-client is in the test extra (make setup installs it)"
    where = tmp_path_factory.mktemp("client")
    doc = where / "openapi.json"
    doc.write_bytes(openapi_document())
    bin_dir = Path(sys.executable).parent  # its post-generation hook runs ruff from PATH
    command = [tool, "generate", "--path", str(doc), "--meta", "none"]
    done = subprocess.run(
        [*command, "--output-path", str(where / CLIENT)],
        cwd=where,
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    sys.path.insert(0, str(where))
    try:
        yield importlib.import_module(CLIENT)
    finally:
        sys.path.remove(str(where))
        for name in [m for m in sys.modules if m == CLIENT or m.startswith(CLIENT + ".")]:
            del sys.modules[name]


def test_generated_client_uploads_lists_updates_and_deletes(
    generated: ModuleType, library: Library
) -> None:
    api = importlib.import_module(f"{CLIENT}.api.images")
    models = importlib.import_module(f"{CLIENT}.models")
    types = importlib.import_module(f"{CLIENT}.types")
    upload = importlib.import_module(f"{CLIENT}.api.images.upload_image")
    listing = importlib.import_module(f"{CLIENT}.api.images.list_images")
    update = importlib.import_module(f"{CLIENT}.api.images.update_image")
    delete = importlib.import_module(f"{CLIENT}.api.images.delete_image")
    assert api is not None
    token = library.api_token()
    photo = image_bytes("PNG", size=(120, 80))
    with BackgroundServer(library, host="127.0.0.1", port=0, token=token) as server:
        client = generated.AuthenticatedClient(base_url=server.base_url, token=token)
        with client:
            body = models.ImageUpload(
                file=types.File(payload=io.BytesIO(photo), file_name="kite.png"),
                alt_text="A red kite",
                folder="birds",
            )
            made = upload.sync_detailed(client=client, body=body)
            assert made.status_code == 201, made.content
            image = made.parsed
            assert isinstance(image, models.ImageResponse)
            assert (image.width, image.height, image.folder) == (120, 80, "birds")
            assert library.original_path(image.id)[1].read_bytes() == photo

            page = listing.sync(client=client, folder="birds")
            assert isinstance(page, models.ImageList)
            assert [i.id for i in page.result] == [image.id] and page.total == 1
            cursor_page = listing.sync(client=client, limit=1, ids=[image.id])
            assert isinstance(cursor_page, models.ImageCursorList)
            assert [i.id for i in cursor_page.result] == [image.id]
            assert cursor_page.page_info.has_next_page is False
            undescribed = listing.sync(client=client, undescribed=models.ListImagesUndescribed.TRUE)
            assert isinstance(undescribed, models.ImageList) and undescribed.total == 0

            changed = update.sync(
                image.id, client=client, body=models.ImagePatch(alt_text="A kite, red")
            )
            assert isinstance(changed, models.ImageResponse)
            assert changed.alt_text == "A kite, red"

            gone = delete.sync_detailed(image.id, client=client)
            assert gone.status_code == 204
            again = delete.sync_detailed(image.id, client=client)
            assert again.status_code == 410
            assert isinstance(again.parsed, models.Error) and again.parsed.error.code == "gone"
            empty = listing.sync(client=client)
            assert isinstance(empty, models.ImageList) and empty.total == 0
