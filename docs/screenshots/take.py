"""Screenshots of the real window on a sample library, for the README and for looking at
the app as a person would. Run under a display (``xvfb-run -a -s "-screen 0 1400x900x24"
.venv/bin/python docs/screenshots/take.py``); settings go to a temp folder."""

from __future__ import annotations

import io
import math
import random
import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from imageshelf.app.library import Library
from imageshelf.app.ui.folder_tree import Place
from imageshelf.app.ui.main_window import MainWindow
from imageshelf.app.ui.server_control import ServerController

OUT = Path(__file__).resolve().parent


def landscape(w: int, h: int, seed: int) -> Image.Image:
    rnd = random.Random(seed)
    top = (rnd.randint(40, 120), rnd.randint(80, 160), rnd.randint(170, 255))
    bottom = (rnd.randint(200, 255), rnd.randint(120, 200), rnd.randint(60, 140))
    img = Image.new("RGB", (w, h))
    draw = ImageDraw.Draw(img)
    for y in range(h):
        t = y / h
        draw.line(
            [(0, y), (w, y)],
            fill=tuple(int(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)),
        )
    sun = (rnd.randint(w // 5, 4 * w // 5), rnd.randint(h // 6, h // 2))
    r = rnd.randint(h // 12, h // 6)
    draw.ellipse([sun[0] - r, sun[1] - r, sun[0] + r, sun[1] + r], fill=(255, 236, 170))
    for layer in range(3):
        base = h * (0.55 + 0.13 * layer)
        color = tuple(max(0, c - 50 * layer) for c in (60, 110 + rnd.randint(0, 40), 70))
        pts = [(0, h)]
        for x in range(0, w + 20, 20):
            pts.append((x, base + math.sin(x / (60 + 40 * layer) + seed) * h * 0.06))
        pts.append((w, h))
        draw.polygon(pts, fill=color)
    return img.filter(ImageFilter.GaussianBlur(1))


def logo(size: int, seed: int) -> Image.Image:
    rnd = random.Random(seed)
    img = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    color = (rnd.randint(0, 200), rnd.randint(0, 200), rnd.randint(100, 255), 255)
    draw.rounded_rectangle([8, 8, size - 8, size - 8], radius=size // 5, fill=color)
    draw.ellipse([size // 4, size // 4, 3 * size // 4, 3 * size // 4], fill=(255, 255, 255, 230))
    draw.polygon(
        [(size // 2, size // 3), (2 * size // 3, 2 * size // 3), (size // 3, 2 * size // 3)],
        fill=color,
    )
    return img


def portrait(w: int, h: int, seed: int) -> Image.Image:
    rnd = random.Random(seed)
    bg = (rnd.randint(150, 230), rnd.randint(150, 230), rnd.randint(150, 230))
    img = Image.new("RGB", (w, h), bg)
    draw = ImageDraw.Draw(img)
    skin = rnd.choice([(241, 194, 125), (224, 172, 105), (198, 134, 66), (141, 85, 36)])
    shirt = (rnd.randint(20, 120), rnd.randint(20, 120), rnd.randint(60, 160))
    draw.ellipse([w * 0.15, h * 0.62, w * 0.85, h * 1.3], fill=shirt)
    draw.ellipse([w * 0.3, h * 0.18, w * 0.7, h * 0.62], fill=skin)
    hair = rnd.choice([(40, 30, 20), (120, 80, 30), (20, 20, 20), (200, 180, 120)])
    draw.chord([w * 0.28, h * 0.12, w * 0.72, h * 0.5], 180, 360, fill=hair)
    return img.filter(ImageFilter.GaussianBlur(2))


def chart(w: int, h: int, seed: int) -> Image.Image:
    rnd = random.Random(seed)
    img = Image.new("RGB", (w, h), (250, 250, 252))
    draw = ImageDraw.Draw(img)
    n = 6
    for i in range(n):
        v = rnd.uniform(0.2, 0.9)
        x0 = w * (0.1 + i * 0.8 / n)
        draw.rectangle([x0, h * (0.9 - 0.75 * v), x0 + w * 0.09, h * 0.9], fill=(66, 133, 244))
    draw.line([(w * 0.08, h * 0.9), (w * 0.95, h * 0.9)], fill=(60, 60, 60), width=3)
    return img


def encode(img: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    if fmt == "JPEG":
        img = img.convert("RGB")
    img.save(out, fmt, **({"quality": 88} if fmt == "JPEG" else {}))
    return out.getvalue()


SAMPLES = [
    (
        "Sunset over the hills.jpg",
        None,
        lambda: landscape(1600, 1000, 1),
        "JPEG",
        "Orange sun setting behind three layers of green hills",
    ),
    ("Morning valley.jpg", None, lambda: landscape(1200, 900, 2), "JPEG", None),
    (
        "panorama-lake.webp",
        "travel/2026",
        lambda: landscape(2000, 700, 3),
        "WEBP",
        "Wide view of a lake valley at dusk",
    ),
    ("coast.jpg", "travel/2026", lambda: landscape(900, 1200, 4), "JPEG", None),
    ("Dunes.jpg", "travel/2025", lambda: landscape(1400, 900, 5), "JPEG", None),
    (
        "logo-mark.png",
        "brand",
        lambda: logo(512, 6),
        "PNG",
        "Imageshelf logo: a white circle on blue",
    ),
    ("logo-alt.png", "brand", lambda: logo(400, 7), "PNG", None),
    ("divider.png", "brand", lambda: chart(800, 80, 8), "PNG", ""),
    (
        "Ana Souza.jpg",
        "team",
        lambda: portrait(600, 800, 9),
        "JPEG",
        "Ana, smiling, in a navy shirt",
    ),
    ("Kenji Watanabe.jpg", "team", lambda: portrait(600, 800, 10), "JPEG", None),
    ("Zoë Müller.jpg", "team", lambda: portrait(600, 800, 11), "JPEG", None),
    (
        "Q3 revenue.png",
        "blog/charts",
        lambda: chart(1000, 600, 12),
        "PNG",
        "Bar chart: revenue grew each month from July to December",
    ),
    ("signups.png", "blog/charts", lambda: chart(900, 500, 13), "PNG", None),
    ("hero-banner.jpg", "blog", lambda: landscape(1920, 600, 14), "JPEG", None),
    ("forest-path.jpg", None, lambda: landscape(1000, 1000, 15), "JPEG", None),
    (
        "Évening glow.jpg",
        None,
        lambda: landscape(1280, 853, 16),
        "JPEG",
        "Pink evening sky over a valley",
    ),
]


def build(root: Path) -> Library:
    lib = Library.open(root)
    for name, folder, make, fmt, alt in SAMPLES:
        lib.add(io.BytesIO(encode(make(), fmt)), name, alt_text=alt, folder=folder)
    return lib


def main() -> None:
    app = QApplication(sys.argv[:1])
    tmp = Path(tempfile.mkdtemp(prefix="imageshelf-shots-"))
    library = build(tmp / "My Images")
    settings = QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat)
    server = ServerController(library, host="127.0.0.1", port=0)
    window = MainWindow(library, settings, server)
    window.resize(1360, 820)
    window.show()
    server.start()
    steps: list = []

    def later(ms: int):
        def wrap(fn):
            steps.append((ms, fn))
            return fn

        return wrap

    @later(1500)
    def select_one() -> None:
        row = window.model.row_of(library.list_images(search="glow").items[0].id)
        window.grid.setCurrentIndex(window.model.index(row))

    @later(1500)
    def shot_main() -> None:
        window.grab().save(str(OUT / "main-window.png"))

    @later(200)
    def needs_alt() -> None:
        window.tree.select(Place("undescribed"))

    @later(800)
    def shot_needs() -> None:
        window.grab().save(str(tmp / "needs-alt.png"))
        print("needs-alt:", tmp / "needs-alt.png")

    @later(200)
    def start_import() -> None:
        src = tmp / "to-import"
        src.mkdir()
        for i in range(120):
            (src / f"import-{i:03}.jpg").write_bytes(encode(landscape(1200, 800, 100 + i), "JPEG"))
        pdf = tmp / "meeting notes.pdf"
        pdf.write_bytes(b"%PDF-1.4")
        window.imports.import_paths([src, pdf, tmp / "to-import" / "import-000.jpg"], None)

    @later(1500)
    def shot_import() -> None:
        if window.imports.progress_dialogs:
            window.imports.progress_dialogs[0].grab().save(str(OUT / "import-progress.png"))
        screen = app.primaryScreen().grabWindow(0)
        screen.save(str(tmp / "import-progress.png"))
        print("import:", tmp / "import-progress.png")

    @later(100)
    def wait_for_import() -> None:
        while window.imports.progress_dialogs:
            app.processEvents()
        window.imports.summary_dialog.grab().save(str(OUT / "import-summary.png"))  # type: ignore[union-attr]
        window.imports.summary_dialog.close()  # type: ignore[union-attr]
        window.tree.select(Place("all"))

    @later(800)
    def shot_after_import() -> None:
        window.grab().save(str(tmp / "after-import.png"))

    @later(100)
    def settings_dialog() -> None:
        dialog = window.server_settings()
        dialog.share.setChecked(True)
        window._dialog = dialog  # type: ignore[attr-defined]

    @later(800)
    def shot_settings() -> None:
        window._dialog.grab().save(str(OUT / "server-settings.png"))  # type: ignore[attr-defined]
        screen = app.primaryScreen().grabWindow(0)
        screen.save(str(tmp / "screen-end.png"))
        print("screen:", tmp / "screen-end.png")
        window._dialog.reject()  # type: ignore[attr-defined]

    @later(2000)
    def done() -> None:
        window.close()
        app.quit()

    def run_next() -> None:
        # One step after another: each waits for the previous one to have finished.
        if steps:
            ms, fn = steps.pop(0)
            QTimer.singleShot(ms, lambda: (fn(), run_next()))

    run_next()
    app.exec()
    library.close()
    print("library:", tmp)


if __name__ == "__main__":
    main()
