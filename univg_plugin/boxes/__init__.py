"""Bounding boxes: the one place that parses, converts and compares them.

- :mod:`.parse`: the box parser (every syntax below), answer blocks, :class:`AnswerPolicy`;
- :mod:`.fast_parse`: its fast path for answers that are one box of integers;
- :mod:`.image_index`: which image a text names;
- :mod:`.spaces`: :class:`CoordinateSpace`, Qwen-VL's ``smart_resize`` and conversions;
- :mod:`.geometry`: IoU, GIoU, validity.

Everything here is pure Python + numpy and never raises on model output: a string with no box gives an
empty ``(0, 4)`` array (or a row of NaN in the batch functions), and every comparison of a NaN,
infinite, degenerate or missing box scores 0 (GIoU: -1).

Box syntaxes parsed (in order of appearance, any mix in one text):

- Qwen2-VL: ``<|box_start|>(x1,y1),(x2,y2)<|box_end|>`` and the bare ``(x1,y1),(x2,y2)``;
- lists: ``[x1, y1, x2, y2]`` with ints or floats, which also covers Qwen2.5-VL's JSON
  ``{"bbox_2d": [x1, y1, x2, y2], "label": ...}`` and lists of such objects;
- ``<box>x1 y1 x2 y2</box>`` (spaces or commas).

Coordinates are ``x1, y1, x2, y2`` in one of the :class:`CoordinateSpace` conventions.

Edge cases, all defined and none raising:

- numbers: ints, decimals, a sign and an exponent (``-1.5e2``); Unicode decimal digits count as
  digits (like the reference's regex); a number too large for a float becomes ``inf``;
- a swapped box (``x1 > x2`` or ``y1 > y2``) is parsed as written and compared as the rectangle it
  spans (corners reordered);
- a degenerate box (zero width or height), a box with a NaN or infinite coordinate, or one whose area
  overflows is *invalid*: its IoU with anything is 0 and its GIoU -1;
- negative and out-of-range coordinates are kept: nothing is clipped to the image.
"""

from .geometry import giou, iou, iou_matrix, is_valid_box
from .image_index import MAX_INDEX_DIGITS, ORDINALS, answer_image_index, parse_image_index
from .parse import AnswerPolicy, answer_block, answer_boxes, answer_text, first_answer_boxes, parse_boxes
from .spaces import CoordinateSpace, convert_boxes, input_size_from_grid, smart_resize

__all__ = [
    "MAX_INDEX_DIGITS",
    "ORDINALS",
    "AnswerPolicy",
    "CoordinateSpace",
    "answer_block",
    "answer_boxes",
    "answer_image_index",
    "answer_text",
    "convert_boxes",
    "first_answer_boxes",
    "giou",
    "input_size_from_grid",
    "iou",
    "iou_matrix",
    "is_valid_box",
    "parse_boxes",
    "parse_image_index",
    "smart_resize",
]
