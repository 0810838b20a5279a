"""Golden files: each reader on hand-written samples in its source layout, tricky parts included.

``tests/golden/<name>.json[l]`` is in the source layout; ``<name>.expected.jsonl`` is what the reader
must produce, in our jsonl (reviewed by hand).
"""

from __future__ import annotations

import json

import pytest
from paths import GOLDEN

from univg_plugin.data import DataError, GroundingSample, read, read_with_errors
from univg_plugin.data import io as data_io

CASES = [
    ("univg_stage1.json", "univg_stage1"),
    ("univg_stage2.json", "univg_stage2"),
    ("migician.json", "migician"),
    ("mig_bench.json", "mig_bench"),
    ("mig_bench_revised.json", "mig_bench"),
    ("vlm_r1.jsonl", "vlm_r1"),
]


@pytest.mark.parametrize(("name", "fmt"), CASES)
def test_reader_matches_its_golden_file(name, fmt):
    expected = [
        json.loads(line) for line in (GOLDEN / f"{name.rsplit('.', 1)[0]}.expected.jsonl").read_text().splitlines()
    ]
    got = [sample.model_dump(mode="json") for sample in read(GOLDEN / name, fmt)]
    assert got == expected


def test_our_jsonl_reads_back_exactly():
    lines = (GOLDEN / "univg.jsonl").read_text().splitlines()
    assert [s.model_dump(mode="json") for s in read(GOLDEN / "univg.jsonl")] == [json.loads(line) for line in lines]


def test_mig_bench_group_grounding_target_comes_from_additional_info():
    samples = {s.task: s for s in read(GOLDEN / "mig_bench.json", "mig_bench")}
    assert samples["group_grounding"].target_image == 4  # the question names no image at all
    assert "fourth" not in samples["group_grounding"].question
    assert samples["region"].target_image == 1  # the source image, whatever "2th region" says
    assert samples["diff"].target_image is None  # the box holds in both images
    assert samples["object_tracking"].target_image == 2  # the last image named, not the reference one


def test_mig_bench_space_is_detected_per_row_and_can_be_forced():
    original = next(read(GOLDEN / "mig_bench.json", "mig_bench"))
    revised = next(read(GOLDEN / "mig_bench_revised.json", "mig_bench"))
    assert (original.space.value, revised.space.value) == ("norm1", "norm1000")
    forced = next(read(GOLDEN / "mig_bench.json", "mig_bench", space="norm1000"))
    assert forced.space.value == "norm1000" and forced.boxes == original.boxes


def test_vlm_r1_boxes_are_absolute_pixels():
    first = next(read(GOLDEN / "vlm_r1.jsonl", "vlm_r1"))
    assert first.space.value == "abs_image"
    assert first.boxes == [(103.93, 299.99, 238.15, 477.41)]


def test_samples_remember_their_source_row():
    samples = list(read(GOLDEN / "vlm_r1.jsonl", "vlm_r1"))
    assert [s.where.rsplit("/", 1)[1] for s in samples] == ["vlm_r1.jsonl:1", "vlm_r1.jsonl:2", "vlm_r1.jsonl:4"]
    listed = list(read(GOLDEN / "migician.json", "migician"))
    assert [s.where.rsplit("/", 1)[1] for s in listed] == ["migician.json[0]"] * 2 + [
        "migician.json[1]",
        "migician.json[2]",
    ]


def test_migician_answer_with_boxes_in_several_images_is_an_error(tmp_path):
    row = {
        "id": "x",
        "images": ["a.jpg", "b.jpg"],
        "conversations": [
            {"from": "human", "value": "Locate the person in all images."},
            {"from": "gpt", "value": "In the first image (1,2),(30,40). In the second image (5,6),(70,80)."},
        ],
    }
    path = tmp_path / "m.json"
    path.write_text(json.dumps([row]))
    (error,) = list(read_with_errors(path, "migician"))
    assert str(error) == (
        f"{path}[0]: conversations[1].value: grounds boxes in several images [1, 2]: "
        "'In the first image (1,2),(30,40). In the second image (5,6),(70,80).'"
    )


@pytest.mark.parametrize("chunk", [1, 7, 64, 1 << 20])
def test_json_lists_stream_across_chunk_boundaries(tmp_path, monkeypatch, chunk):
    rows = [{"i": i, "text": "é" * i, "n": 12345.678e-3} for i in range(40)]
    path = tmp_path / "list.json"
    path.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
    monkeypatch.setattr(data_io, "_CHUNK", chunk)
    with open(path, "rb") as stream:
        got = list(data_io.iter_rows(stream, path))
    assert [value for _, value in got] == rows
    assert got[3][0] == f"{path}[3]"


def test_truncated_json_list_reports_the_row_it_stopped_at(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('[{"a": 1}, {"a": 2}, {"a": ')
    with open(path, "rb") as stream:
        rows = data_io.iter_rows(stream, path)
        assert [value for _, value in (next(rows), next(rows))] == [{"a": 1}, {"a": 2}]
        with pytest.raises(DataError, match=r"broken\.json\[2\]: row: invalid JSON: Expecting value"):
            next(rows)


def test_reading_does_not_build_the_whole_list(tmp_path):
    """The reader is lazy: the first sample comes before the rest of the file is even valid."""
    good = {"question": "Find it.", "answer": [1, 2, 3, 4], "images": ["a.jpg"]}
    path = tmp_path / "lazy.json"
    path.write_text("[" + json.dumps(good) + ", {" + " " * 10_000)
    first = next(read(path, "univg_stage2"))
    assert isinstance(first, GroundingSample) and first.id == "lazy-0"


def test_byte_order_marks_are_ignored(tmp_path):
    line = '{"id": "a", "images": ["x.png"], "question": "q", "boxes": [[1, 2, 3, 4]]}\n'
    (tmp_path / "bom.jsonl").write_bytes(b"\xef\xbb\xbf" + line.encode())
    (tmp_path / "bom.json").write_bytes(b"\xef\xbb\xbf[" + line.encode() + b"]")
    assert [s.id for s in read(tmp_path / "bom.jsonl")] == [s.id for s in read(tmp_path / "bom.json")] == ["a"]
