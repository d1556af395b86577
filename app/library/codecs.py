"""Decoders beyond Pillow's own, registered once in every process that opens images
(the server, the window's workers, the transform workers all import ``imaging``).

- HEIF/HEIC: pillow-heif (libheif with libde265). Embedded thumbnails are not used: the
  image itself must decode for it to be accepted, and a thumbnail made from the file's
  own preview could show something else than the picture. Depth and auxiliary images
  are never decoded (nothing here shows them; they would only cost memory).
- AVIF: Pillow's own plugin (libavif, since Pillow 11.2), nothing to register.
"""

from __future__ import annotations

from typing import Final

import pillow_heif

# pillow-heif decodes with up to this many threads; the machine's cores are shared with
# the server's other work, and the decode budget, not threads, bounds what runs at once.
_HEIF_DECODE_THREADS: Final = 2

pillow_heif.register_heif_opener(
    thumbnails=False,
    depth_images=False,
    aux_images=False,
    decode_threads=_HEIF_DECODE_THREADS,
)
