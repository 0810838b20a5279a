"""``univg app``: ask a checkpoint about images in the browser (Gradio).

Upload one to :data:`MAX_IMAGES` images and a question; the reasoning, the answer and its box drawn on the
image it names come back (:class:`~univg_plugin.eval.predict.Predictor`: the training prompt, greedy).
Images are numbered in the order of the filled slots. With a benchmark file, its first samples of at
most :data:`MAX_IMAGES` images are offered as examples. Gradio is imported only when the app is built.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from .data import DataError, GroundingSample
from .data.media import resolve

if TYPE_CHECKING:
    import gradio
    from PIL import Image

    from .eval.predict import Predictor

#: Image slots of the page (UniVG-R1's demo asks about up to four).
MAX_IMAGES = 4
#: Examples shown from a benchmark file.
MAX_EXAMPLES = 24
#: System fonts (Gradio's default theme fetches Google fonts): offline, the page only misses the iframe resizer
#: script its template asks cdnjs for, which a page outside an iframe does not use.
_FONTS = ("ui-sans-serif", "system-ui", "sans-serif")
_MONO_FONTS = ("ui-monospace", "Consolas", "monospace")


def example_rows(
    samples: Iterable[GroundingSample], media_root: str | os.PathLike | None, limit: int = MAX_EXAMPLES
) -> list[list[str | None]]:
    """Rows of the examples table: ``MAX_IMAGES`` image files (None for empty slots) and the question.

    Samples with more images than slots, or with an image file missing, are left out.
    """
    rows: list[list[str | None]] = []
    for sample in samples:
        if len(rows) == limit:
            break
        files = [resolve(path, media_root) for path in sample.images]
        if len(files) <= MAX_IMAGES and all(file.is_file() for file in files):
            rows.append([*map(str, files), *[None] * (MAX_IMAGES - len(files)), sample.question])
    return rows


def answer(predictor: Predictor, *inputs: str | None) -> tuple[Image.Image, str, str]:
    """The app's answer to ``(image 1, ..., image MAX_IMAGES, question)``: the drawn image, the reasoning,
    the answer with its boxes and note.

    Raises:
        gradio.Error: no image, an empty question or an unreadable image (shown on the page).
    """
    import gradio

    *slots, question = inputs
    images = [image for image in slots if image]
    if not images:
        raise gradio.Error("Upload at least one image.")
    try:
        prediction = predictor(images, question or "")
    except DataError as error:
        raise gradio.Error(str(error)) from None
    lines = prediction.describe() + ([f"note: {prediction.note}"] if prediction.note else [])
    return prediction.draw(), prediction.reasoning or "(no reasoning)", "\n".join(lines)


def build_app(
    predictor: Predictor, examples: Sequence[Sequence[str | None]] = (), title: str = "univg"
) -> gradio.Blocks:
    """The Gradio page: image slots, a question, the answer; ``examples`` from :func:`example_rows`."""
    import gradio

    theme = gradio.themes.Default(font=list(_FONTS), font_mono=list(_MONO_FONTS))
    with gradio.Blocks(title=title, theme=theme, analytics_enabled=False) as app:
        gradio.Markdown(
            f"## {title}\nUpload images and ask where something is; boxes are read in `{predictor.space.value}`."
        )
        with gradio.Row():
            slots = [
                gradio.Image(type="filepath", label=f"image {k}", sources=["upload", "clipboard"], elem_id=f"image-{k}")
                for k in range(1, MAX_IMAGES + 1)
            ]
        question = gradio.Textbox(label="Question", lines=2, elem_id="question")
        ask = gradio.Button("Ask", variant="primary", elem_id="ask")
        with gradio.Row():
            drawn = gradio.Image(type="pil", format="png", label="Answer", interactive=False, elem_id="drawn")
            with gradio.Column():
                reasoning = gradio.Textbox(label="Reasoning", interactive=False, elem_id="reasoning")
                result = gradio.Textbox(label="Answer and box", lines=3, interactive=False, elem_id="answer")
        inputs, outputs = [*slots, question], [drawn, reasoning, result]
        for event in (ask.click, question.submit):  # one queue: the model answers one question at a time
            event(lambda *values: answer(predictor, *values), inputs=inputs, outputs=outputs, concurrency_id="ask")
        if examples:
            gradio.Examples(examples=[list(row) for row in examples], inputs=inputs)
    return app


def launch(
    predictor: Predictor, examples: Sequence[Sequence[str | None]], *, host: str, port: int, **options: Any
) -> None:
    """Serve :func:`build_app` on ``host:port`` until interrupted (``options``: Gradio's ``launch``).

    Gradio copies the examples' images into its cache: only those are served, not their folders.
    """
    build_app(predictor, examples).launch(server_name=host, server_port=port, show_api=False, **options)
