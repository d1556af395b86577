"""The folders an API key is limited to (``keys.py``): each folder and every folder
below it. One definition (``allows``) and its SQL (``where``), used by listings, folder
lists, the trash and single-image lookups alike, so an image outside is answered the
same way everywhere: as if it were not there."""

from __future__ import annotations

from dataclasses import dataclass

from .records import folder_to_db


@dataclass(frozen=True, slots=True)
class FolderLimit:
    # Normalised folder paths (``rules.normalize_folder``), never the root: a key
    # limited to folders sees no image at the top level.
    folders: tuple[str, ...]

    def allows(self, folder: str | None) -> bool:
        """Whether an image in ``folder`` (``None``: the root) is inside the limit."""
        name = folder_to_db(folder)
        return any(name == f or name.startswith(f"{f}/") for f in self.folders)

    def where(self, column: str = "folder", prefix: str = "lim") -> tuple[str, dict[str, object]]:
        """``(SQL condition, parameters)`` for rows whose ``column`` is inside. Each folder
        is a range on the folder index: ``f`` itself, or ``"f/" <= folder < "f0"``."""
        clauses: list[str] = []
        params: dict[str, object] = {}
        for i, folder in enumerate(self.folders):
            f, lo, hi = f"{prefix}{i}f", f"{prefix}{i}lo", f"{prefix}{i}hi"
            clauses.append(f"{column} = :{f} OR ({column} >= :{lo} AND {column} < :{hi})")
            params |= {f: folder, lo: f"{folder}/", hi: f"{folder}0"}
        return "(" + " OR ".join(f"({c})" for c in clauses) + ")" if clauses else "1 = 0", params
