"""The family table (univg_plugin.qwen_vl.MODEL_FAMILIES), its format patterns, and the rewards preset per family."""

from __future__ import annotations

import importlib
import importlib.util
import json
import random
import re

import pytest
from vlm_r1_calls import FORMAT_REWARD_REC_PATTERN

from univg_plugin import qwen_vl
from univg_plugin.qwen_vl import MODEL_FAMILIES, model_family
from univg_plugin.rewards import get, presets
from univg_plugin.rewards.format import PAPER_FORMAT_PATTERN
from univg_plugin.rewards.presets import PRESET_REWARDS, preset

JSON_ANSWER = '<think>a cat</think>\n<answer>[{"bbox_2d": [12, 40, 300, 288], "label": "cat"}]</answer>'
TEXT_ANSWER = "<think>a cat</think><answer>(12,40),(300,288)</answer>"


def conversation(text: str) -> list[dict[str, str]]:
    return [{"role": "assistant", "content": text}]


# --------------------------------------------------------------------------- the table


def test_the_table_holds_each_familys_conventions():
    facts = {
        name: (f.box_space, f.patch_size, f.resize_factor, f.llamafactory_template)
        for name, f in MODEL_FAMILIES.items()
    }
    assert facts == {
        "qwen2_vl": ("norm1000", 14, 28, "qwen2_vl"),
        "qwen2_5_vl": ("abs_input", 14, 28, "qwen2_vl"),
        "qwen3_vl": ("norm1000", 16, 32, "qwen3_vl"),
    }
    assert all(name == family.name for name, family in MODEL_FAMILIES.items())
    assert MODEL_FAMILIES["qwen2_vl"].answer_syntax == "(x1,y1),(x2,y2)"
    assert "bbox_2d" in MODEL_FAMILIES["qwen2_5_vl"].answer_syntax == MODEL_FAMILIES["qwen3_vl"].answer_syntax
    assert (qwen_vl.PATCH_SIZE, qwen_vl.RESIZE_FACTOR) == (14, 28)  # Qwen2-VL's, read from the table
    with pytest.raises(KeyError, match="unknown model family 'qwen9'; known: qwen2_vl, qwen2_5_vl, qwen3_vl"):
        model_family("qwen9")


def test_the_table_matches_the_processors_of_transformers():
    """Patch and merge sizes as transformers' own image processor and vision config of each family have them."""
    transformers = pytest.importorskip("transformers")
    processor = transformers.Qwen2VLImageProcessor()  # Qwen2.5-VL uses it too
    for name in ("qwen2_vl", "qwen2_5_vl"):
        family = MODEL_FAMILIES[name]
        assert (processor.patch_size, processor.patch_size * processor.merge_size) == (
            family.patch_size,
            family.resize_factor,
        )
    if importlib.util.find_spec("transformers.models.qwen3_vl") is not None:  # transformers >= 4.57
        from transformers.models.qwen3_vl.configuration_qwen3_vl import Qwen3VLVisionConfig

        vision = Qwen3VLVisionConfig()
        family = MODEL_FAMILIES["qwen3_vl"]
        assert (vision.patch_size, vision.patch_size * vision.spatial_merge_size) == (
            family.patch_size,
            family.resize_factor,
        )


def test_the_llamafactory_templates_exist():
    template = pytest.importorskip("llamafactory.data.template")
    assert {f.llamafactory_template for f in MODEL_FAMILIES.values()} <= set(template.TEMPLATES)


#: Pieces the corpus below is built of: the tags, whitespace, brackets, numbers and separators both layouts use.
PIECES = ["<think>", "</think>", "<answer>", "</answer>", " ", "\n", "{", "}", "[", "]", "1", "23", ",", ", ", "(",
          ")", "x", "<", "think>", "[1, 2, 3, 4]", "(1,2),(3,4)", '"bbox_2d": ']  # fmt: skip


def mutated_answers(count: int, seed: int = 0) -> list[str]:
    """Well-formed answers of both layouts with random insertions, deletions, replacements and repeats."""
    rng = random.Random(seed)
    texts = []
    for _ in range(count):
        parts = [p for p in re.split(r"(<[^>]*>|\s+|\d+|.)", rng.choice([TEXT_ANSWER, JSON_ANSWER])) if p]
        for _ in range(rng.randint(0, 4)):
            where, action = rng.randint(0, len(parts) - 1), rng.random()
            if action < 0.4:
                parts.insert(where, rng.choice(PIECES))
            elif action < 0.7:
                parts.pop(where)
            else:
                parts[where] = rng.choice(PIECES)
        if rng.random() < 0.3:
            parts += parts[: rng.randint(0, len(parts))]
        texts.append("".join(parts))
    return texts


@pytest.mark.parametrize(
    ("family", "reference"),
    [
        ("qwen2_vl", PAPER_FORMAT_PATTERN),
        ("qwen2_5_vl", FORMAT_REWARD_REC_PATTERN),
        ("qwen3_vl", FORMAT_REWARD_REC_PATTERN),
    ],
)
def test_each_format_pattern_accepts_exactly_what_its_reference_accepts(family, reference):
    texts = [*mutated_answers(5_000), TEXT_ANSWER, TEXT_ANSWER + "\n", JSON_ANSWER, f"```json\n{JSON_ANSWER}\n```"]
    expected = [float(re.search(reference, text, re.DOTALL) is not None) for text in texts]
    assert 0.05 < sum(expected) / len(expected) < 0.95  # the corpus has both kinds
    assert get("format", format_pattern=MODEL_FAMILIES[family].format_pattern)(texts) == expected


# --------------------------------------------------------------------------- presets


def test_every_preset_is_importable_by_path_and_named_after_it():
    for family in MODEL_FAMILIES:
        for reward in PRESET_REWARDS:
            name = f"{family}_{reward}"
            function = getattr(importlib.import_module("univg_plugin.rewards.presets"), name)
            assert function.__name__ == name and name in presets.__all__


def test_presets_read_the_space_and_the_answer_layout_of_their_family():
    truth = [[64, 96, 192, 192]]  # pixels of a 640x480 image
    sizes = [[[640, 480]]]
    # Qwen2.5-VL: JSON in model-input pixels (640x480 -> 644x476 with max_pixels=640000), truth in image pixels
    json_answer = '<think>x</think><answer>[{"bbox_2d": [64, 95, 193, 190], "label": "a"}]</answer>'
    qwen2_5 = presets.qwen2_5_vl_iou([conversation(json_answer)], solution=truth, image_sizes=sizes, max_pixels=640000)
    assert qwen2_5 == [pytest.approx(1.0, abs=0.02)]
    default_space = get("iou", solution_space="abs_image")(
        [conversation(json_answer)], solution=truth, image_sizes=sizes
    )
    assert default_space[0] < 0.2  # the default space (norm1000) misreads the answer
    # Qwen2-VL and Qwen3-VL: 0-1000 of the image
    for iou, answer in ((presets.qwen2_vl_iou, TEXT_ANSWER), (presets.qwen3_vl_iou, JSON_ANSWER)):
        box = [12, 40, 300, 288]
        assert iou([conversation(answer)], solution=[box]) == [1.0]
    assert presets.qwen2_5_vl_format([JSON_ANSWER, TEXT_ANSWER]) == [1.0, 0.0]
    assert presets.qwen3_vl_format([JSON_ANSWER, TEXT_ANSWER]) == [1.0, 0.0]
    assert presets.qwen2_vl_format([JSON_ANSWER, TEXT_ANSWER]) == [0.0, 1.0]


def test_the_ground_truth_space_comes_from_a_column_else_the_family_default_else_an_option():
    answer = conversation('<think>x</think><answer>[{"bbox_2d": [0, 0, 322, 238], "label": "a"}]</answer>')
    limits = {"image_sizes": [[[640, 480]]], "max_pixels": 640000}  # model input 644x476
    # no column: abs_image (a quarter of the image)
    assert presets.qwen2_5_vl_iou([answer], solution=[[0, 0, 320, 240]], **limits) == [pytest.approx(1.0, abs=0.01)]
    # a column names the truth's space per row
    column = {"solution_space": ["norm1000"]}
    assert presets.qwen2_5_vl_iou([answer], solution=[[0, 0, 500, 500]], **limits, **column) == [pytest.approx(1.0)]
    # an option wins over the column
    in_input = preset("qwen2_5_vl", "iou", solution_space="abs_input")
    assert in_input([answer], solution=[[0, 0, 322, 238]], **limits, **column) == [1.0]
    # norm1000 families: the truth is in the model's space unless a column says otherwise
    assert presets.qwen3_vl_iou([JSON_ANSWER], solution=[[12, 40, 300, 288]]) == [1.0]


def test_preset_options_are_checked_and_the_family_space_is_kept():
    expected = {"space": "norm1000", "model_family": "qwen2_vl", "threshold": 0.7}
    assert preset("qwen2_vl", "iou_threshold", threshold=0.7).options == expected
    assert preset("qwen2_5_vl", "iou", name="accuracy").__name__ == "accuracy"
    with pytest.raises(ValueError, match="qwen2_5_vl writes boxes in abs_input, not norm1000"):
        preset("qwen2_5_vl", "iou", space="norm1000")
    with pytest.raises(ValueError, match="reward 'iou' has no option 'threshold'"):
        preset("qwen2_vl", "iou", threshold=0.5)
    with pytest.raises(ValueError, match="reward 'iou': solution_space"):
        preset("qwen2_vl", "iou", column_defaults={"solution_space": "pixels"})
    with pytest.raises(KeyError, match="unknown model family"):
        preset("llava", "iou")


def test_a_qwen2_5_vl_answer_in_vlm_r1s_layout_is_rewarded_like_vlm_r1():
    """JSON `bbox_2d` answers as Qwen2.5-VL writes them, with VLM-R1's `format_reward_rec` as the reference."""
    answers = [
        JSON_ANSWER,
        f"<think>x</think><answer>```json\n{json.dumps([{'bbox_2d': [1, 2, 3, 4], 'label': 'a'}])}\n```</answer>",
        "<think>x</think><answer>[1, 2, 3, 4]</answer>",  # no JSON object: VLM-R1 refuses it
        "<answer>{[1, 2, 3, 4]}</answer>",  # no think block
    ]
    expected = [float(re.search(FORMAT_REWARD_REC_PATTERN, text, re.DOTALL) is not None) for text in answers]
    assert presets.qwen2_5_vl_format([conversation(text) for text in answers]) == expected == [1.0, 1.0, 0.0, 0.0]
