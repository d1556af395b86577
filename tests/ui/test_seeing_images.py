"""The thumbnail size (slider, Ctrl+plus/minus, remembered; the badge with it) and the
viewer (fit / 100 %, next / previous from the keyboard, decoded off the GUI thread)."""

from __future__ import annotations

from PySide6.QtCore import Qt

from imageshelf.app.ui.grid_delegate import badge_points
from imageshelf.app.ui.grid_model import THUMB_SIDE, THUMB_SIDES
from imageshelf.app.ui.main_window import MainWindow
from imageshelf.app.ui.server_control import ServerController


def test_thumbnail_size_steps_within_its_range_and_is_remembered(
    window, library, add, settings, qtbot
):
    add("a.jpg")
    qtbot.waitUntil(lambda: window.model.rowCount() == 1)
    cell = window.grid.gridSize().height()
    window.actions_by_name["bigger"].trigger()
    assert window.grid.thumb_side() == round(THUMB_SIDE * 1.25)
    assert window.model.side == window.grid.thumb_side()
    assert window.grid.gridSize().height() > cell
    for _ in range(20):
        window.actions_by_name["smaller"].trigger()
    assert window.grid.thumb_side() == THUMB_SIDES[0]
    assert window.grid_pane.size_slider.value() == THUMB_SIDES[0]
    window.close()
    again = MainWindow(library, settings, ServerController(library, port=0))
    qtbot.addWidget(again)
    assert again.grid.thumb_side() == THUMB_SIDES[0]
    again.close()


def test_the_badge_grows_and_shrinks_with_the_thumbnails():
    assert badge_points(10, 2.0) > badge_points(10, 1.0) > badge_points(10, 0.7)
    assert badge_points(10, 0.1) == 6.0  # still readable


def test_the_viewer_fits_shows_100_and_steps(window, add, qtbot, make_image):
    import io

    for n in range(3):
        window.library.add(io.BytesIO(make_image(size=(1500, 1100))), f"big-{n}.jpg")
    qtbot.waitUntil(lambda: window.model.rowCount() == 3)
    window.grid.setCurrentIndex(window.model.index(0))
    first = window.details.record
    window.actions_by_name["view"].trigger()
    viewer = window.viewer
    assert viewer is not None and viewer.isVisible()
    qtbot.waitUntil(lambda: viewer._pixmap is not None, timeout=10_000)
    area = viewer.scroll_area.viewport().size()
    assert viewer.shown_size.width() <= area.width() and viewer.shown_size.height() <= area.height()
    qtbot.keyClick(viewer, Qt.Key.Key_1)
    assert viewer.mode == "100%" and viewer.shown_size.width() == 1500
    qtbot.keyClick(viewer, Qt.Key.Key_F)
    assert viewer.mode == "fit"
    qtbot.keyClick(viewer, Qt.Key.Key_Right)
    assert viewer.record.id != first.id and window.selected_ids() == [viewer.record.id]
    qtbot.keyClick(viewer, Qt.Key.Key_Left)
    assert viewer.record.id == first.id
    qtbot.keyClick(viewer, Qt.Key.Key_Escape)
    assert not viewer.isVisible()


def test_the_viewer_shows_heic_avif_and_an_icons_largest_image(window, qtbot):
    """Qt has no HEIF or AVIF reader and takes an icon's first image: the viewer shows
    them through the library's decoders, upright, at the size the library measured."""
    import io

    from PIL import Image

    from imageshelf.app.library import codecs

    assert codecs  # HEIF registered for saving the test's image
    exif = Image.Exif()
    exif[0x0112] = 6  # stored on its side: shown turned
    files = []
    for fmt, extra in (("HEIF", {"exif": exif.tobytes()}), ("AVIF", {"exif": exif.tobytes()})):
        out = io.BytesIO()
        Image.new("RGB", (300, 200), (30, 160, 60)).save(out, fmt, **extra)
        files.append((out.getvalue(), f"phone.{fmt.lower()}"))
    icon = io.BytesIO()
    Image.new("RGBA", (128, 128), (200, 30, 30, 255)).save(
        icon, "ICO", sizes=[(16, 16), (128, 128)]
    )
    files.append((icon.getvalue(), "app.ico"))
    for data, name in files:
        window.library.add(io.BytesIO(data), name)
    qtbot.waitUntil(lambda: window.model.rowCount() == 3)
    seen = {}
    for row in range(3):
        window.grid.setCurrentIndex(window.model.index(row))
        record = window.details.record
        window.actions_by_name["view"].trigger()
        viewer = window.viewer
        qtbot.waitUntil(
            lambda v=viewer, r=record: (
                v._pixmap is not None and v.record.id == r.id and v._pixmap.width() == r.width
            ),
            timeout=10_000,
        )
        image = viewer._pixmap.toImage()
        seen[record.content_type] = (image.width(), image.height())
        centre = image.pixelColor(image.width() // 2, image.height() // 2)
        assert centre.alpha() == 255 and max(centre.red(), centre.green()) > 150
        qtbot.keyClick(viewer, Qt.Key.Key_Escape)
    assert seen == {
        "image/heic": (200, 300),
        "image/avif": (200, 300),
        "image/vnd.microsoft.icon": (128, 128),
    }
