"""`generate(..., workers=N)`: the same files for any number of worker processes."""

from __future__ import annotations

import hashlib
from pathlib import Path

from univg_plugin.data.synth import generate


def _digest(directory: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(directory.rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(directory)).encode() + path.read_bytes())
    return digest.hexdigest()


def test_workers_write_the_same_bytes_as_one_process(tmp_path):
    one = generate(tmp_path / "one", n=450, seed=3, image_size=64)
    generate(tmp_path / "three", n=450, seed=3, image_size=64, workers=3)  # several chunks each
    assert len(one.read_text().splitlines()) == 450
    assert _digest(tmp_path / "one") == _digest(tmp_path / "three")
    assert _digest(tmp_path / "three") != _digest(generate(tmp_path / "other", n=450, seed=4, image_size=64).parent)
