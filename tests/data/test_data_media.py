"""`--check-files` and `--fill-sizes`: image paths stay inside the media root, only regular files are opened,
and a file that is no image is told from its header."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from univg_plugin.cli import main
from univg_plugin.data import read, validate_file
from univg_plugin.data.media import HEADER_BYTES, image_size

PASSWD_LINE = "root:x:0:0:root:/root:/bin/bash\n"
pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs and symbolic links")


@pytest.fixture
def dataset(tmp_path, make_images):
    """A dataset in ``root/`` whose rows name images inside the root, outside it, a FIFO and a text file."""
    root = tmp_path / "root"
    (inside,) = make_images(root / "images", 1, size=(96, 72))
    (outside,) = make_images(tmp_path / "elsewhere", 1, size=(64, 48), seed=1)
    (root / "images" / "out.png").symlink_to(Path("..", "..", "elsewhere", outside.name))
    (root / "images" / "same.png").symlink_to(inside.name)
    os.mkfifo(root / "images" / "pipe.png")
    (root / "images" / "passwd.png").write_text(PASSWD_LINE * 300_000)  # 9.6 MB of text named like an image
    paths = {
        "inside": f"images/{inside.name}",
        "link inside": "images/same.png",
        "up and out": f"../elsewhere/{outside.name}",
        "absolute": str(outside),
        "link out": "images/out.png",
        "fifo": "images/pipe.png",
        "text": "images/passwd.png",
    }
    rows = [
        {"id": case, "images": [path], "question": "Find the shape.", "boxes": [[1, 2, 3, 4]], "space": "abs_image"}
        for case, path in paths.items()
    ]
    data = root / "data.jsonl"
    data.write_text("\n".join(json.dumps(row) for row in rows) + "\n")
    return data, root, outside


def _finishes(function, timeout: float = 60):
    """``function()``'s result, failing (instead of hanging) when it does not return within ``timeout``."""
    result = {}
    thread = threading.Thread(target=lambda: result.update(value=function()), daemon=True)
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), f"still running after {timeout} s (waiting on a FIFO?)"
    return result["value"]


def _outside(data: Path, row: int, path: str, root: Path, real: Path) -> str:
    return (
        f"{data}:{row}: images[0]: {path!r} is outside the media root {root} (it is {real}); allow with"
        " --allow-outside-root"
    )


def test_check_files_refuses_paths_outside_the_root_and_never_opens_what_is_no_regular_file(dataset):
    data, root, outside = dataset
    report = _finishes(lambda: validate_file(data, check_files=True))
    not_regular = f"{data}:6: images[0]: cannot read the image: {root}/images/pipe.png is not a regular file (a FIFO)"
    not_image = (
        f"{data}:7: images[0]: cannot read the image: {root}/images/passwd.png is not an image (its first bytes"
        " match no image format)"
    )
    assert [str(error) for error in report.errors] == [
        _outside(data, 3, f"../elsewhere/{outside.name}", root, outside),
        _outside(data, 4, str(outside), root, outside),
        _outside(data, 5, "images/out.png", root, outside),
        not_regular,
        not_image,
    ]
    assert report.samples == 2

    allowed = _finishes(lambda: validate_file(data, check_files=True, allow_outside_root=True))
    assert [str(error) for error in allowed.errors] == [not_regular, not_image]

    cli = _finishes(lambda: CliRunner().invoke(main, ["data", "validate", str(data), "--check-files"]))
    assert cli.exit_code == 1 and cli.stderr.count("is outside the media root") == 3
    cli = _finishes(
        lambda: CliRunner().invoke(main, ["data", "validate", str(data), "--check-files", "--allow-outside-root"])
    )
    assert cli.exit_code == 1 and "outside" not in cli.stderr and "not a regular file (a FIFO)" in cli.stderr


def test_fill_sizes_refuses_paths_outside_the_root_unless_allowed(dataset):
    data, root, outside = dataset
    lines = data.read_text().splitlines()
    data.write_text(lines[0] + "\n" + lines[4] + "\n")  # inside, and a link that points out
    out = root / "sized.jsonl"
    command = ["data", "convert", "--from", "univg", "--to", "univg", str(data), str(out), "--fill-sizes"]
    refused = CliRunner().invoke(main, command)
    assert refused.exit_code == 1 and not out.exists()
    assert refused.stderr == f"error: {_outside(data, 2, 'images/out.png', root, outside)}\n"
    allowed = CliRunner().invoke(main, [*command, "--allow-outside-root"])
    assert allowed.exit_code == 0, allowed.output
    assert [sample.image_sizes for sample in read(out)] == [[(96, 72)], [(64, 48)]]


@pytest.mark.skipif(not Path("/proc/self/io").exists(), reason="counts the bytes read with Linux's /proc/self/io")
def test_a_file_that_is_no_image_is_reported_after_reading_only_its_header(dataset):
    _, root, _ = dataset
    image_size(next((root / "images").glob("image_*.png")))  # PIL loads its plugins once

    def bytes_read() -> int:
        with open("/proc/self/io") as counters:
            return next(int(line.split()[1]) for line in counters if line.startswith("rchar"))

    before = bytes_read()
    with pytest.raises(ValueError) as error:
        image_size(root / "images" / "passwd.png")
    assert bytes_read() - before < 2 * HEADER_BYTES < (root / "images" / "passwd.png").stat().st_size
    assert str(error.value).endswith("passwd.png is not an image (its first bytes match no image format)")
