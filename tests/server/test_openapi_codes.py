"""The OpenAPI document lists every error code the server can answer with, documents
405, 500 and 503 on every operation, and marks the upload's file part as binary (a
generated client sends it as a file only then)."""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path
from typing import Any

import imageshelf.server
from imageshelf.app.library import errors as core_errors
from imageshelf.server import errors as server_errors
from imageshelf.server.app import openapi_document

DOC: dict[str, Any] = json.loads(openapi_document())
SERVER_SOURCES = Path(imageshelf.server.__file__).parent
# Start-up failures of `serve` (said on the terminal), and work dropped because the
# client disconnected (nobody is left to answer): never an HTTP answer.
NOT_HTTP = {
    server_errors.CannotListen.code,
    server_errors.PortInUse.code,
    core_errors.ClientGone.code,
    core_errors.Cancelled.code,  # the window's Stop and Cancel; no request can be cancelled
}


def listed_codes() -> set[str]:
    code = DOC["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]
    return set(code["examples"])


def emitted_codes() -> set[str]:
    codes = {
        cls.code
        for module in (core_errors, server_errors)
        for _name, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, core_errors.LibraryError)
    } - NOT_HTTP
    codes |= set(server_errors._HTTP_CODES.values())
    for source in SERVER_SOURCES.glob("*.py"):
        text = source.read_text(encoding="utf-8")
        codes |= set(re.findall(r'error_response\(\s*\d{3},\s*"([a-z_]+)"', text))
        codes |= set(re.findall(r'code, message = \(\s*"([a-z_]+)"', text))
        codes |= set(re.findall(r'_unauthorized\(\s*"([a-z_]+)"', text))  # auth.py's 401s
        codes |= set(re.findall(r'"code": "([a-z_]+)"', text))  # bodies written by hand
    return codes


def test_every_emitted_error_code_is_listed() -> None:
    emitted = emitted_codes()
    assert {"missing_file", "internal_error", "invalid_token", "request_timeout"} <= emitted
    missing = emitted - listed_codes()
    assert not missing, f"add these to the Error schema's code examples: {sorted(missing)}"


def test_every_operation_documents_405_500_and_503() -> None:
    for path, operations in DOC["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":  # shared by the path's operations
                continue
            statuses = set(operation["responses"])
            assert {"405", "408", "421", "500"} <= statuses, (method, path)
            if path != "/v3/openapi.json":
                assert "503" in statuses, (method, path)


def test_upload_file_part_is_binary() -> None:
    file_part = DOC["components"]["schemas"]["ImageUpload"]["properties"]["file"]
    assert file_part["type"] == "string"
    assert file_part["format"] == "binary"  # OpenAPI 3.0 tools (and generators) read this
    assert file_part["contentMediaType"] == "application/octet-stream"  # 3.1's way


def test_list_exposes_undescribed_and_sort() -> None:
    params = {p["name"]: p for p in DOC["paths"]["/v3/images"]["get"]["parameters"]}
    assert params["undescribed"]["schema"]["enum"] == ["true", "false"]
    assert "newest" in params["sort"]["schema"]["enum"]
