"""The Qt desktop window over the ``Library`` core. Nothing here decides what the library
is; it renders it and turns gestures into ``Library`` calls."""
