"""The HTTP face of the library: the ``/v3/images`` API and the public ``/i`` proxy
(Flask, served by waitress)."""

from .app import MAX_CONTENT_LENGTH, create_app
from .errors import CannotListen, PortInUse
from .runner import BackgroundServer

__all__ = ["MAX_CONTENT_LENGTH", "BackgroundServer", "CannotListen", "PortInUse", "create_app"]
