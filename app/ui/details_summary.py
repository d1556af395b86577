"""What the details pane says of several selected images together (sizes, folders, alt
text), and the small formatters it shares with the one-image view."""

from __future__ import annotations

from datetime import datetime

from imageshelf.app.library import ImageRecord

TOP_LEVEL = "(top level)"
SUMMARY_NAMES = 8


def human_size(n: int) -> str:
    size = float(n)
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{n:,} bytes" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} bytes"  # pragma: no cover


def local_time(record_time: datetime) -> str:
    return record_time.astimezone().strftime("%Y-%m-%d %H:%M")


def summary_text(records: list[ImageRecord] | None, count: int) -> str:
    """``records``: the first of the ``count`` selected (``None``: still being read)."""
    lines: list[str] = []
    if records is None:
        lines += ["Reading the selected images…", ""]
    elif records:
        read = len(records)
        of = "" if read == count else f" (of the first {read:,})"
        folders = sorted({r.folder or TOP_LEVEL for r in records}, key=str.casefold)
        shown = ", ".join(folders[:4]) + (
            f" and {len(folders) - 4} more" if len(folders) > 4 else ""
        )
        undescribed = sum(1 for r in records if r.alt_text is None)
        lines += [
            f"Together: {human_size(sum(r.size for r in records))}{of}",
            f"In {'folder' if len(folders) == 1 else 'folders'}: {shown}",
            (f"Need alt text: {undescribed:,}{of}" if undescribed else f"All have alt text{of}."),
            "",
        ]
        names = [r.filename for r in records[:SUMMARY_NAMES]]
        more = count - len(names)
        lines += names + ([f"… and {more:,} more"] if more > 0 else []) + [""]
    lines.append(
        "Choose a folder above to move them all, give them one alt text above, Copy "
        "link (Ctrl+L) to copy their links, or press Delete to delete them."
    )
    return "\n".join(lines)
