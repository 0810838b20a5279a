"""Static HTML pages of drawn images: one stylesheet, a legend, cards of figures; every text is escaped.

A page works opened from disk (relative image paths, no script, no network). Each ``<img>`` carries
``data-boxes``: the boxes drawn on it as ``[{"style": "truth", "box": [x1, y1, x2, y2]}, ...]`` in the
PNG's pixels, so that a test (or a reader's script) can find them on the picture.
"""

from __future__ import annotations

import html
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .draw import PREDICTION, TRUTH, BoxStyle

_STYLESHEET = """
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 1.6em; } h3 { font-size: 1em; margin: 0.8em 0 0.3em; }
.legend span { display: inline-block; margin-right: 1.5em; }
.swatch { display: inline-block; width: 2.2em; height: 0; vertical-align: middle; margin-right: 0.4em; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(340px, 1fr)); gap: 1em; }
.card { border: 1px solid #ccc; border-radius: 6px; padding: 0.6em; background: #fafafa; }
.card.fail { border-color: #d55e00; }
.images { display: flex; flex-wrap: wrap; gap: 0.4em; }
figure { margin: 0; } figure img { max-width: 320px; max-height: 320px; min-width: 160px; display: block; }
figure img { image-rendering: pixelated; }  /* small images (a tiny model's) shown larger, their outlines crisp */
figcaption { font-size: 0.8em; color: #555; }
figure.target figcaption { font-weight: bold; color: #009e73; }
.meta { font-size: 0.85em; margin: 0.3em 0; } .note { color: #d55e00; font-weight: bold; }
.text { font-size: 0.85em; white-space: pre-wrap; max-height: 12em; overflow: auto; background: #fff;
  border: 1px solid #eee; padding: 0.3em; }
"""


def escape(text: object) -> str:
    """``text`` (any value, as ``str``) safe inside HTML elements and quoted attributes.

    Example:
        >>> escape('<b>"a" & b</b>')
        '&lt;b&gt;&quot;a&quot; &amp; b&lt;/b&gt;'
    """
    return html.escape(str(text), quote=True)


@dataclass
class Figure:
    """One image of a card.

    Attributes:
        src: Its path relative to the page (None: the image could not be read; ``caption`` says why).
        caption: The line under it (e.g. ``image 2 (target)``).
        boxes: ``(style, box)`` of each box drawn on it, in the PNG's pixels.
        target: Whether it is the sample's target image (highlighted).
    """

    src: str | None
    caption: str
    boxes: list[tuple[BoxStyle, np.ndarray]] = field(default_factory=list)
    target: bool = False

    def render(self) -> str:
        classes = ' class="target"' if self.target else ""
        if self.src is None:
            return f'<figure{classes}><figcaption class="note">{escape(self.caption)}</figcaption></figure>'
        drawn = [
            {"style": style.name, "box": [round(float(v), 1) for v in box]}
            for style, box in self.boxes
            if np.isfinite(box).all()
        ]
        return (
            f'<figure{classes}><img src="{escape(self.src)}" alt="{escape(self.caption)}" loading="lazy" '
            f"data-boxes='{escape(json.dumps(drawn))}'><figcaption>{escape(self.caption)}</figcaption></figure>"
        )


def card(
    title: str,
    figures: Sequence[Figure],
    *,
    facts: Iterable[str] = (),
    notes: Iterable[str] = (),
    texts: Iterable[tuple[str, str | None]] = (),
    failed: bool = False,
    anchor: str | None = None,
) -> str:
    """One sample as an HTML card: its title, images, facts (``IoU 0.42``...), notes in colour and texts.

    Args:
        title: The heading (e.g. the sample id).
        figures: Its images.
        facts: Short lines joined by `` · ``.
        notes: Warnings (a missing image, no box, a box outside the image).
        texts: ``(label, text)`` blocks (question, reasoning, output); None texts are left out.
        failed: Outline the card in the prediction colour.
        anchor: The card's HTML id.
    """
    parts = [f"<h3>{escape(title)}</h3>", '<div class="images">', *(f.render() for f in figures), "</div>"]
    facts = list(facts)
    if facts:
        parts.append(f'<div class="meta">{" · ".join(escape(fact) for fact in facts)}</div>')
    parts += [f'<div class="meta note">{escape(note)}</div>' for note in notes]
    for label, text in texts:
        if text is not None:
            parts.append(f'<div class="meta">{escape(label)}</div><div class="text">{escape(text)}</div>')
    identity = f' id="{escape(anchor)}"' if anchor else ""
    return f'<div class="card{" fail" if failed else ""}"{identity}>' + "".join(parts) + "</div>"


def legend(styles: Sequence[BoxStyle] = (TRUTH, PREDICTION)) -> str:
    """A line naming each box style with a sample of its outline."""
    items = []
    for style in styles:
        border = "dashed" if style.dash else "solid"
        swatch = f'<span class="swatch" style="border-top: 4px {border} {style.hex}"></span>'
        items.append(f"<span>{swatch}{escape(style.name)} ({border} line)</span>")
    return '<p class="legend">' + "".join(items) + "</p>"


def grid(cards: Iterable[str]) -> str:
    """Cards laid out in a responsive grid."""
    return '<div class="grid">' + "".join(cards) + "</div>"


def write_page(path: str | os.PathLike, title: str, body: Iterable[str]) -> Path:
    """Write a standalone HTML page (``body`` is HTML already escaped, e.g. from :func:`card`); returns its path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    head = f'<meta charset="utf-8"><title>{escape(title)}</title><style>{_STYLESHEET}</style>'
    text = f'<!DOCTYPE html>\n<html lang="en"><head>{head}</head><body><h1>{escape(title)}</h1>{"".join(body)}'
    path.write_text(text + "</body></html>\n", encoding="utf-8")
    return path
