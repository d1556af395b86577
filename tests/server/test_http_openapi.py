"""server/resources/openapi.json is kept true: it is a valid OpenAPI 3.1 document, it is what
the server serves, real responses match it, and a bounded property-based run over it
(schemathesis, against a real waitress server) finds no 5xx and nothing outside it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_spec
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from schemathesis import DataGenerationMethod
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from imageshelf.app.library import Library
from imageshelf.server import BackgroundServer
from imageshelf.server.app import openapi_document
from tests.conftest import image_bytes
from tests.server.http_helpers import AUTH, TOKEN, Api, Reply

# The contract on both libraries: a folder, and a team library (tests/server/conftest.py).
BOTH_BACKENDS = True

DOC: dict[str, Any] = json.loads(openapi_document())
_REGISTRY = Registry().with_resource("urn:openapi", Resource(DOC, specification=DRAFT202012))


def test_document_is_valid_openapi_3_1() -> None:
    assert DOC["openapi"].startswith("3.1")
    validate_spec(DOC)


def test_served_document_is_the_file(api: Api) -> None:
    reply = api.get("/v3/openapi.json", auth=False)
    assert reply.status == 200
    assert reply.json() == DOC


def _response_spec(path: str, method: str, status: int) -> dict[str, Any]:
    operation = DOC["paths"][path][method.lower()]
    spec = operation["responses"].get(str(status))
    assert spec is not None, f"{method} {path} answered {status}, which is not documented"
    if "$ref" in spec:
        spec = DOC["components"]["responses"][spec["$ref"].rsplit("/", 1)[1]]
    return spec


def conforms(reply: Reply, path: str, method: str) -> None:
    """The reply's status is documented for the operation and its JSON body matches."""
    spec = _response_spec(path, method, reply.status)
    schema = spec.get("content", {}).get("application/json", {}).get("schema")
    if schema is None:
        return
    assert reply.headers["Content-Type"].startswith("application/json")
    pointer = schema.get("$ref", "")
    wrapped = {"$ref": "urn:openapi" + pointer} if pointer else schema
    Draft202012Validator(wrapped, registry=_REGISTRY).validate(reply.json())


def test_real_responses_match_the_document(api: Api) -> None:
    coll, item, folders, proxy = (
        "/v3/images",
        "/v3/images/{image_id}",
        "/v3/images/folders",
        "/i/{image_id}",
    )
    made = api.upload(image_bytes("PNG"), "a.png", alt_text="A", folder="brand")
    conforms(made, coll, "post")
    image_id = made.json()["id"]
    conforms(api.upload(image_bytes(), alt_text=""), coll, "post")
    conforms(api.upload(b"not an image"), coll, "post")
    conforms(api.upload(image_bytes(), auth=False), coll, "post")
    conforms(api.get(coll), coll, "get")
    conforms(api.get(coll, query={"folder": "", "search": "a", "page": "2"}), coll, "get")
    conforms(api.get(coll, query={"page": "zero"}), coll, "get")
    first = api.get(coll, query={"limit": "1", "sort": "name", "meta.sku": "A"})
    conforms(first, coll, "get")
    conforms(api.get(coll, query={"limit": "1"}), coll, "get")
    end = api.get(coll, query={"limit": "1"}).json()["page_info"]["end_cursor"]
    conforms(api.get(coll, query={"limit": "1", "after": end}), coll, "get")
    conforms(api.get(coll, query={"after": "nope"}), coll, "get")
    conforms(api.get(coll, query={"limit": "2", "page": "1"}), coll, "get")
    conforms(api.get(folders), folders, "get")
    conforms(api.get(f"/v3/images/{image_id}"), item, "get")
    conforms(api.get("/v3/images/img_01JD8Z3M4K7Q2V9W5X6Y7Z8A9B"), item, "get")
    conforms(
        api.request("PATCH", f"/v3/images/{image_id}", json_body={"folder": None}), item, "patch"
    )
    meta = {"custom_metadata": {"sku": "A-1", "n": 2, "ok": True}}
    conforms(api.request("PATCH", f"/v3/images/{image_id}", json_body=meta), item, "patch")
    conforms(api.request("PATCH", f"/v3/images/{image_id}", json_body={"x": 1}), item, "patch")
    conforms(api.get(f"/i/{image_id}"), proxy, "get")
    conforms(api.get(f"/i/{image_id}", query={"variant": "nope"}), proxy, "get")
    conforms(api.get(f"/i/{image_id}", headers={"Range": "bytes=999999-"}), proxy, "get")
    sized = "/i/{image_id}.{ext}"
    conforms(api.get(f"/i/{image_id}", query={"w": "10"}), proxy, "get")
    conforms(api.get(f"/i/{image_id}", query={"w": "0"}), proxy, "get")
    conforms(
        api.get(f"/i/{image_id}.webp", query={"w": "10", "h": "5", "crop": "true"}), sized, "get"
    )
    conforms(api.get(f"/i/{image_id}.avif"), sized, "get")
    conforms(api.get(f"/i/{image_id}.png", query={"q": "5"}), sized, "get")
    conforms(api.request("HEAD", f"/i/{image_id}.gif", query={"h": "4"}), sized, "head")
    conforms(api.request("DELETE", f"/v3/images/{image_id}"), item, "delete")
    conforms(api.request("DELETE", f"/v3/images/{image_id}"), item, "delete")
    conforms(api.get(f"/i/{image_id}"), proxy, "get")
    conforms(api.get(f"/i/{image_id}.jpg", query={"w": "3"}), "/i/{image_id}.{ext}", "get")
    conforms(api.get(f"/v3/images/{image_id}"), item, "get")


# --- property-based: schemathesis over the document, against a real waitress server ----

schemathesis.experimental.OPEN_API_3_1.enable()


@pytest.fixture
def fuzz_server(library: Library) -> Iterator[BackgroundServer]:
    for i, folder in enumerate(("", "brand", "clients/acme")):
        library.add(
            __import__("io").BytesIO(image_bytes("PNG", (20 + i, 20))), "s.png", None, folder
        )
    server = BackgroundServer(library, host="127.0.0.1", port=0, token=TOKEN).start()
    yield server
    server.stop()


@pytest.fixture
def openapi_schema(fuzz_server: BackgroundServer) -> Any:
    return schemathesis.from_dict(
        DOC,
        base_url=fuzz_server.base_url,
        # Valid requests and deliberately invalid ones (bad types, out-of-range paging,
        # bodies that break the schema): neither may produce a 5xx or an undocumented reply.
        data_generation_methods=[DataGenerationMethod.positive, DataGenerationMethod.negative],
    ).exclude(
        # Not for blind fuzzing: /v3/events waits up to 30 s or streams until closed, and
        # upload_via_url reaches out to the network (its 502/504 are documented answers);
        # their own tests (test_http_events.py, test_http_upload_via_url.py) cover them.
        path_regex=r"^/v3/(events|images/upload_via_url)$"
    )


schema = schemathesis.from_pytest_fixture("openapi_schema")
CHECKS = (
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
)


@schema.parametrize()
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    derandomize=True,
)
def test_property_based_run_finds_no_5xx_and_nothing_outside_the_document(case: Any) -> None:
    # "Accepted negative data" is left out on purpose: unknown query parameters are
    # ignored by design (cache-busters on links), as HTTP APIs do.
    case.call_and_validate(headers=AUTH, timeout=30, checks=CHECKS)
