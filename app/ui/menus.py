"""Every command of the window, once: its text, shortcut, tip and icon, then where it
appears (menus, toolbar). Each action calls one method of the window."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QSizePolicy, QStyle, QWidget

from imageshelf.app.library import Sort

from . import alt_text_actions, libraries
from .folder_tree import ALL, TRASH, UNDESCRIBED
from .resources import themed_icon

if TYPE_CHECKING:
    from .main_window import MainWindow

SP = QStyle.StandardPixmap
Key = QKeySequence.StandardKey
SORTS = (
    (Sort.NEWEST, "Newest first"),
    (Sort.OLDEST, "Oldest first"),
    (Sort.NAME, "Name"),
    (Sort.TAKEN, "Date taken"),
)


@dataclass(frozen=True)
class Command:
    name: str
    text: str
    run: Callable[[MainWindow], object]
    shortcut: str | QKeySequence.StandardKey | None = None
    tip: str = ""
    icon: tuple[str, QStyle.StandardPixmap] | None = None  # theme name, built-in fallback
    # Delete and Enter mean "this image" only while the grid has the focus; in the
    # alt-text editor they are just keys.
    grid_only: bool = False
    also: tuple[str, ...] = ()  # more shortcuts (Ctrl+= for Ctrl++ without Shift)


# The dialogs' modules are imported when their command first runs: none is needed for the
# first screen, and together they were ≈ 0.03 s of a launch (docs/performance.md, "6").
def _add_url(window: MainWindow) -> object:
    from . import url_import

    return url_import.open_dialog(window)


def _paste(window: MainWindow) -> object:
    from . import paste

    return paste.paste(window)


def _export(window: MainWindow) -> object:
    from . import export_dialog

    return export_dialog.open_dialog(window)


def _share(window: MainWindow) -> object:
    from . import share_dialog

    return share_dialog.share_from_window(window)


def _shared_links(window: MainWindow) -> object:
    from . import shared_links

    return shared_links.show_shared_links(window)


COMMANDS = (
    Command("view", "&View image", lambda w: w.view_image(), "Space",
            "Look at the selected image in the window (Space, or double-click)",
            ("zoom-fit-best", SP.SP_FileDialogContentsView), grid_only=True),
    Command("bigger", "&Larger thumbnails", lambda w: w.step_thumbnails(1), Key.ZoomIn,
            "Show bigger thumbnails", also=("Ctrl+=",)),
    Command("smaller", "S&maller thumbnails", lambda w: w.step_thumbnails(-1), Key.ZoomOut,
            "Show smaller thumbnails"),
    Command("add", "&Add images…", lambda w: w.imports.add_images_dialog(), Key.Open,
            "Import image files into the folder shown", ("list-add", SP.SP_DialogOpenButton)),
    Command("add_folder", "Add a f&older…", lambda w: w.imports.add_folder_dialog(), "Ctrl+Shift+O",
            "Import a folder of images, keeping its sub-folders",
            ("folder-open", SP.SP_DirOpenIcon)),
    Command("add_url", "Add from &URL…", _add_url,
            # Not Ctrl+U or Ctrl+E: text fields on Linux take those (delete line, line end).
            "Ctrl+Shift+V", "Fetch an image from a web address into the folder shown"),
    Command("paste", "&Paste images or links", _paste, Key.Paste,
            "Add the images, image files or web addresses on the clipboard to the folder "
            "shown", grid_only=True),
    Command("export", "&Export…", _export, "Ctrl+Shift+E",
            "Copy the selected images, the folder shown or all into a zip file or a folder, "
            "with their alt text", ("document-save-as", SP.SP_DialogSaveButton)),
    Command("new_folder", "&New folder…", lambda w: w.images.new_folder(), "Ctrl+Shift+N",
            "Make a folder (and move the selected images into it)",
            ("folder-new", SP.SP_FileDialogNewFolder)),
    Command("move", "&Move to folder…", lambda w: w.images.move_dialog(), "Ctrl+M",
            "Move the selected images to another folder", ("go-next", SP.SP_ArrowForward)),
    Command("delete", "&Delete", lambda w: w.images.delete_selected(), Key.Delete,
            "Move the selected images to the trash", ("edit-delete", SP.SP_TrashIcon),
            grid_only=True),
    Command("copy_link", "Copy &link", lambda w: w.images.copy_link(), "Ctrl+L",
            "Copy the web link of the selected images (at the size chosen in Copy sized link)",
            ("insert-link", SP.SP_FileLinkIcon)),
    Command("copy_sized_link", "Copy si&zed link…", lambda w: w.images.copy_sized_link(),
            "Ctrl+Alt+L", "Choose the size and format of copied links, then copy"),
    Command("share", "&Share…", _share, "Ctrl+Shift+S",
            "Make a link to the selected images, or to the folder shown, with an expiry "
            "and an optional password", ("emblem-shared", SP.SP_DriveNetIcon)),
    Command("shared_links", "Shared l&inks…", _shared_links,
            None, "The share links made, to revoke them"),
    Command("copy_html", "Copy as &HTML", lambda w: alt_text_actions.copy_as(w, "html"),
            "Ctrl+Shift+C", "Copy <img> tags with the alt text of the selected images"),
    Command("copy_markdown", "Copy as Mar&kdown",
            lambda w: alt_text_actions.copy_as(w, "markdown"), "Ctrl+Shift+M",
            "Copy Markdown images with the alt text of the selected images"),
    Command("write_alt_to_files", "&Write alt text into image files", lambda w: None,
            tip="Also save alt text and long descriptions into the JPEG, PNG and WebP files "
            "(IPTC), so they travel with copies; off: the library only"),
    Command("open", "&Open original", lambda w: w.images.open_original(), "Return",
            "Open the original in the system's image viewer", ("document-open", SP.SP_FileIcon),
            grid_only=True),
    Command("reveal", "Show in &file manager", lambda w: w.images.reveal(), "Ctrl+Shift+R",
            "Open the folder holding the original", ("system-file-manager", SP.SP_DirIcon)),
    Command("edit_alt", "Edit &alt text", lambda w: w.focus_alt_text(), "F2",
            "Go to the alt-text editor of the selected image"),
    Command("find", "&Find", lambda w: w.focus_search(), Key.Find,
            "Search file names and alt text"),
    Command("needs_alt", "Show images that &need alt text",
            lambda w: w.tree.select(UNDESCRIBED), "Ctrl+Shift+A"),
    Command("all", "Show a&ll images", lambda w: w.tree.select(ALL), "Ctrl+Shift+L"),
    Command("trash", "Show the &trash", lambda w: w.tree.select(TRASH), "Ctrl+Shift+T"),
    Command("server", "&Server settings…", lambda w: w.server_settings(), "Ctrl+,",
            "Port, sharing on the local network, API token",
            ("network-server", SP.SP_DriveNetIcon)),
    Command("reload", "&Reload", lambda w: w.model.reload(), Key.Refresh,
            icon=("view-refresh", SP.SP_BrowserReload)),
    Command("quit", "&Quit", lambda w: w.close(), Key.Quit),
    Command("open_library", "Open &library…", lambda w: libraries.open_library_dialog(w), None,
            "Open another library folder (this one is closed)",
            ("document-open-folder", SP.SP_DirOpenIcon)),
    Command("open_team_library", "Open &team library…",
            lambda w: libraries.open_team_library_dialog(w), None,
            "Open a library shared by a team: PostgreSQL and S3-compatible storage"),
    Command("about", "&About Imageshelf", lambda w: libraries.show_about(w), None,
            "Version, library folder and server address"),
)  # fmt: skip

MENUS = {
    "&File": (
        "add",
        "add_folder",
        "add_url",
        None,
        "export",
        None,
        "open_library",
        "open_team_library",
        "recent",
        None,
        "server",
        None,
        "quit",
    ),
    "&Edit": (
        "undo",
        "redo",
        None,
        "edit_alt",
        None,
        "new_folder",
        "move",
        "delete",
        None,
        "rename_folder",
        "move_folder",
        "delete_folder",
        None,
        "copy_link",
        "copy_sized_link",
        "share",
        "shared_links",
        "copy_html",
        "copy_markdown",
        "paste",
        "find",
        None,
        "write_alt_to_files",
    ),
    "&View": (
        "all",
        "needs_alt",
        "include_sub",
        "trash",
        None,
        "view",
        "open",
        "reveal",
        None,
        "bigger",
        "smaller",
        None,
        "reload",
    ),
    "&Help": ("about",),
}
GRID_CONTEXT = ("view", "open", "reveal", "copy_link", "copy_sized_link", "share", "copy_html",
                "copy_markdown", None, "edit_alt", None, "move", "new_folder", None,
                "delete")  # fmt: skip
# "Open original" stays in the menu and on Enter: the toolbar must fit 1,000 px.
TOOLBAR = ("add", "new_folder", "move", "delete", "copy_link")


def build_actions(window: MainWindow) -> dict[str, QAction]:
    actions: dict[str, QAction] = {}
    for c in COMMANDS:
        action = QAction(c.text, window)
        plain = c.text.replace("&", "")
        tip = c.tip or plain.rstrip("…")
        if c.shortcut is not None:
            action.setShortcuts([QKeySequence(c.shortcut), *map(QKeySequence, c.also)])
            keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            tip += f" ({keys})"
        action.setToolTip(tip)
        action.setStatusTip(c.tip or plain)
        if c.icon is not None:
            action.setIcon(themed_icon(*c.icon))
        action.triggered.connect(lambda _checked=False, c=c: c.run(window))
        if c.grid_only:
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            window.grid.addAction(action)
        else:
            window.addAction(action)
        actions[c.name] = action
    return actions


def build_menus(window: MainWindow, actions: dict[str, QAction]) -> None:
    bar = window.menuBar()
    menus = {}
    for title, names in MENUS.items():
        menu = menus[title] = bar.addMenu(title)
        for name in names:
            if name == "recent":
                window.recent_menu = menu.addMenu("Open &recent")
                window.recent_menu.aboutToShow.connect(lambda: libraries.fill_recent_menu(window))
            elif name is None:
                menu.addSeparator()
            else:
                menu.addAction(actions[name])
    sort_menu = menus["&View"].addMenu("&Sort by")
    for i, (_value, label) in enumerate(SORTS):
        sort_action = QAction(label, window)
        sort_action.setShortcut(QKeySequence(f"Ctrl+{i + 1}"))
        sort_action.triggered.connect(lambda _c=False, i=i: window.sort.setCurrentIndex(i))
        sort_menu.addAction(sort_action)
        window.addAction(sort_action)


def build_toolbar(window: MainWindow, actions: dict[str, QAction]) -> None:
    tools = window.addToolBar("Main")
    tools.setObjectName("main-toolbar")
    tools.setMovable(False)
    tools.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    tools.setAccessibleName("Main toolbar")
    for name in TOOLBAR:
        tools.addAction(actions[name])
    # Search and sort sit above the grid (grid_pane.py), where an overflowing toolbar
    # cannot hide them.
    spacer = QWidget(window)
    spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
    tools.addWidget(spacer)
    tools.addAction(actions["server"])


def grid_context_menu(window: MainWindow) -> QMenu:
    menu = QMenu(window.grid)
    menu.setAccessibleName("Image actions")
    for name in GRID_CONTEXT:
        menu.addSeparator() if name is None else menu.addAction(window.actions_by_name[name])
    return menu


def install_grid_context_menu(window: MainWindow) -> None:
    """Right-click (or the Menu key) on the thumbnails offers what applies to them."""
    window.grid.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)

    def show(pos: QPoint) -> None:
        window.grid_menu = grid_context_menu(window)  # kept alive while shown
        window.grid_menu.popup(window.grid.viewport().mapToGlobal(pos))

    window.grid.customContextMenuRequested.connect(show)
