"""Imageshelf: the one import name the project installs.

The code lives in the two top-level folders of the design, ``app/`` (the core in
``app/library``, the window in ``app/ui``, the command line in ``app/cli``) and
``server/`` (the HTTP face). ``imageshelf/app`` and ``imageshelf/server`` are links to
them, so every tool — Python, mypy, setuptools, PyInstaller — sees one package,
``imageshelf.app`` and ``imageshelf.server``, and a wheel puts nothing but ``imageshelf``
into site-packages. Edit the files under ``app/`` and ``server/``; import them as
``imageshelf.app...`` and ``imageshelf.server...`` (never as ``app`` or ``server``:
``tests/packaging/test_import_names.py`` checks)."""
