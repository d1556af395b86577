"""The details pane's "Camera" box: camera, lens, exposure, date taken and whether the
file records where it was taken — what the image's EXIF said when it came in. The facts
travel on the ``ImageRecord`` the pane already holds (``record.exif``): showing them
reads no file and no database."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFormLayout, QGroupBox, QLabel, QWidget

from imageshelf.app.library import ExifFacts

# (key, label) of each row, in the order shown.
ROWS = (
    ("camera", "Camera"),
    ("lens", "Lens"),
    ("exposure", "Exposure"),
    ("taken", "Taken"),
    ("location", "Location"),
)
NO_EXIF_TEXT = "The file records no camera details."
# A map-target mark every desktop font has (an emoji pin is a box without an emoji font).
LOCATION_MARK = "\N{FISHEYE}"


def exposure_text(facts: ExifFacts) -> str | None:
    """``1/250 s · f/2.8 · ISO 400 · 50 mm``: the parts the file has."""
    parts = []
    if facts.exposure_time:
        parts.append(f"{facts.exposure_time} s")
    if facts.f_number:
        parts.append(f"f/{facts.f_number:g}")
    if facts.iso:
        parts.append(f"ISO {facts.iso}")
    if facts.focal_length_mm:
        parts.append(f"{facts.focal_length_mm:g} mm")
    return " · ".join(parts) or None


def taken_text(facts: ExifFacts) -> str | None:
    """The date taken as the camera's clock showed it, with its offset where the file
    gives one: ``2026-04-23 10:00 (UTC+02:00)``; never converted to this computer's zone
    (the wall clock where the photo was taken is what a person remembers)."""
    taken = facts.taken_at
    if taken is None:
        return None
    text = taken.strftime("%Y-%m-%d %H:%M")
    if facts.offset_text is not None:
        text += f" (UTC{facts.offset_text})"
    return text


def location_text(facts: ExifFacts) -> str | None:
    if facts.latitude is None or facts.longitude is None:
        return None
    lat = f"{abs(facts.latitude):.5f}° {'N' if facts.latitude >= 0 else 'S'}"
    lon = f"{abs(facts.longitude):.5f}° {'E' if facts.longitude >= 0 else 'W'}"
    where = f"{LOCATION_MARK} {lat}, {lon}"
    if facts.altitude_m is not None:
        where += f", {facts.altitude_m:g} m"
    return where


class ExifPanel(QGroupBox):
    """``show_facts(facts)`` fills it; rows the file has nothing for are hidden, and the
    whole box when the file records nothing (a screenshot, a drawing) — ``none`` then
    says so for whoever shows the box anyway."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Camera", parent)
        self.setAccessibleName("Camera details")
        self.form = QFormLayout(self)
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.values: dict[str, QLabel] = {}
        for key, label in ROWS:
            value = QLabel(self)
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            value.setAccessibleName(label)
            self.values[key] = value
            self.form.addRow(label + ":", value)
        self.none = QLabel(NO_EXIF_TEXT, self)
        self.none.setStyleSheet("color: palette(placeholder-text);")
        self.none.setWordWrap(True)
        self.form.addRow(self.none)
        self.show_facts(None)

    def show_facts(self, facts: ExifFacts | None) -> None:
        texts = {
            "camera": facts.camera if facts else None,
            "lens": facts.lens_model if facts else None,
            "exposure": exposure_text(facts) if facts else None,
            "taken": taken_text(facts) if facts else None,
            "location": location_text(facts) if facts else None,
        }
        for key, text in texts.items():
            self.values[key].setText(text or "")
            self.form.setRowVisible(self.values[key], text is not None)
        location = self.values["location"]
        location.setToolTip(
            "The file records where it was taken (GPS)." if texts["location"] else ""
        )
        self.none.setVisible(not any(texts.values()))
        self.setVisible(any(texts.values()))

    def text_of(self, key: str) -> str:
        """What a row shows (``""`` when hidden): for tests and screen readers."""
        return self.values[key].text() if self.form.isRowVisible(self.values[key]) else ""
