#!/usr/bin/env bash
# Sets up everything `make run` and `make test` need on a fresh Debian/Ubuntu machine:
# the system libraries Qt loads (offscreen and xcb), the desktop-metadata validators, then a
# virtualenv with the project, the window (the "gui" extra) and the test tools.
set -euo pipefail
venv=${1:-.venv}

# Libraries Qt needs for the offscreen platform, plus xcb ones for a real window.
qt_libs="libegl1 libgl1 libxkbcommon0 libfontconfig1 libdbus-1-3 libglib2.0-0"
xcb_libs="libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 \
libxcb-shape0 libxkbcommon-x11-0"
# The real-input tests (tests/desktop): an X server of their own, input through it, a
# screenshot when one fails. exiftool: the tests' independent reader of the XMP alt text
# Imageshelf writes into files. xclip: another program owning the clipboard (paste
# tests); unzip: an independent check of exported zip files (unzip -t).
x_tools="xvfb xdotool x11-utils imagemagick libimage-exiftool-perl xclip unzip"
# The validators `make test` runs on the desktop entry and the AppStream metadata, and
# binutils (objdump), which PyInstaller needs for `make bundle`; unzip, the download tests'
# independent check of the archives the server streams (`unzip -t`).
tools="desktop-file-utils appstream binutils unzip"
# The share page (/s/{token}) is checked in a real browser: headless Chromium
# (tests/server/test_share_page_browser.py). iproute2 and util-linux (ip, unshare): the
# mDNS test makes a private network namespace (tests/server/test_discovery.py).
x_tools="$x_tools chromium iproute2 util-linux"
# A team library's database: tests start a real PostgreSQL (tests/pg_server.py) as an
# unprivileged user; pg_trgm (search) ships in postgresql-15, postgresql-contrib names it.
x_tools="$x_tools postgresql postgresql-contrib"
missing=""
if command -v dpkg-query >/dev/null 2>&1; then
  for pkg in $qt_libs $xcb_libs $x_tools $tools; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing="$missing $pkg"
  done
fi
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing system packages for Qt, its tests and packaging:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
  else
    echo "Qt, the tests and packaging need these system packages; install them with your package manager:$missing" >&2
  fi
fi

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --upgrade pip
"$venv/bin/python" -m pip install -q -e ".[gui,test]"
