"""Boxes drawn on their images, and the static HTML pages that show them (data previews, eval galleries).

- :mod:`.draw`: :func:`draw_boxes` (any coordinate space, through the package's one conversion), the
  Okabe-Ito palette, :data:`TRUTH` (solid) and :data:`PREDICTION` (dashed) styles;
- :mod:`.panel`: :func:`draw_panel`, an image file drawn with its boxes and saved as a PNG thumbnail
  (:func:`draw_panels`: many, in worker processes);
- :mod:`.html`: escaped HTML pages: :func:`write_page`, :func:`card`, :class:`Figure`, :func:`legend`.

Pure PIL and numpy: no torch.
"""

from .draw import OKABE_ITO, PREDICTION, TRUTH, BoxStyle, draw_boxes, outline_width, pixel_boxes
from .html import Figure, card, escape, grid, legend, write_page
from .panel import THUMBNAIL_SIDE, Layer, Panel, draw_panel, draw_panels

__all__ = [
    "OKABE_ITO",
    "PREDICTION",
    "THUMBNAIL_SIDE",
    "TRUTH",
    "BoxStyle",
    "Figure",
    "Layer",
    "Panel",
    "card",
    "draw_boxes",
    "draw_panel",
    "draw_panels",
    "escape",
    "grid",
    "legend",
    "outline_width",
    "pixel_boxes",
    "write_page",
]
