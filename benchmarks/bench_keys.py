"""What API keys cost per request (issue 19): the same requests made with the library's
token (no database read), an API key (one indexed read to find it), and a key limited to
folders (that read, plus the folder condition in the listing's SQL), on a library of N
images (10,000 by default). Prints figures and ratios; nothing is asserted.

    python -m benchmarks.bench_keys [N]

Run on a copy of the generated library (benchmarks/generate.py), so the cached one stays
whole."""

from __future__ import annotations

import time

from imageshelf.server import create_app

from .generate import scratch_library

ROUNDS = 400
TOKEN = "bench-admin-token"


def per_request_us(client: object, path: str, secret: str) -> float:
    headers = {"Authorization": f"Bearer {secret}"}
    get = client.get  # type: ignore[attr-defined]
    assert get(path, headers=headers).status_code == 200
    start = time.perf_counter()
    for _ in range(ROUNDS):
        get(path, headers=headers)
    return (time.perf_counter() - start) / ROUNDS * 1e6


def main(argv: list[str] | None = None) -> int:
    with scratch_library(argv) as lib:
        folders = lib.folders()
        _k, key = lib.keys.create("bench-read", "read")
        _k, limited = lib.keys.create("bench-limited", "read", folders[:2])
        client = create_app(lib, token=TOKEN).test_client()
        print(f"{lib.count():,} images, {len(folders)} folders; limited key: {folders[:2]}")
        for label, path in (
            ("GET /v3/keys/me", "/v3/keys/me"),
            ("GET /v3/images", "/v3/images"),
            ("GET /v3/images?search=sevilla", "/v3/images?search=sevilla"),
        ):
            admin = per_request_us(client, path, TOKEN)
            read = per_request_us(client, path, key)
            lim = per_request_us(client, path, limited)
            print(
                f"{label:32} token {admin:7.0f} µs   key {read:7.0f} µs "
                f"({read / admin:4.2f}×)   limited key {lim:7.0f} µs ({lim / admin:4.2f}×)"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
