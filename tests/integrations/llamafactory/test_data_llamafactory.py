"""`"formatting": "univg"` in LLaMA-Factory: its own loader reads our jsonl, and `llamafactory-cli train` runs SFT."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from univg_plugin.data import GroundingSample, paper_answer, prompt_text, read, write
from univg_plugin.data.synth import generate

pytestmark = pytest.mark.llamafactory

LLAMAFACTORY_CLI = str(Path(sys.executable).with_name("llamafactory-cli"))


def dataset_dir(directory: Path, samples: int = 6) -> Path:
    """Synthetic samples as our jsonl, registered with ``"formatting": "univg"``."""
    generate(directory, n=samples, seed=0, image_size=112, file_name="train.jsonl")
    (directory / "dataset_info.json").write_text(
        json.dumps({"synth": {"file_name": "train.jsonl", "formatting": "univg"}})
    )
    return directory


def load_aligned(directory: Path, tmp_path: Path, name: str = "synth"):
    """LLaMA-Factory's own dataset loading (parser, datasets.load_dataset, converter registry, alignment)."""
    from llamafactory.data.loader import _load_single_dataset
    from llamafactory.data.parser import get_dataset_list
    from llamafactory.hparams import DataArguments, ModelArguments
    from transformers import Seq2SeqTrainingArguments

    data_args = DataArguments(dataset=name, dataset_dir=str(directory))
    model_args = ModelArguments(model_name_or_path="unused", cache_dir=str(tmp_path / "cache"))
    training_args = Seq2SeqTrainingArguments(output_dir=str(tmp_path / "out"))
    (attribute,) = get_dataset_list([name], str(directory))
    return _load_single_dataset(attribute, model_args, data_args, training_args)


def test_the_univg_converter_is_registered():
    from llamafactory.data.converter import get_dataset_converter
    from llamafactory.data.parser import DatasetAttr
    from llamafactory.hparams import DataArguments

    from univg_plugin.integrations.llamafactory.converter import UnivgDatasetConverter

    converter = get_dataset_converter("univg", DatasetAttr("file", "x.jsonl", formatting="univg"), DataArguments())
    assert isinstance(converter, UnivgDatasetConverter)


def test_llamafactory_loads_our_jsonl_in_the_papers_layout(tmp_path):
    directory = dataset_dir(tmp_path / "data")
    aligned = load_aligned(directory, tmp_path)
    samples = list(read(directory / "train.jsonl"))
    assert len(aligned) == len(samples)
    for row, sample in zip(aligned, samples):
        assert row["_prompt"] == [{"role": "user", "content": prompt_text(sample)}]
        assert row["_prompt"][0]["content"].count("<image>") == len(sample.images)
        assert row["_response"] == [{"role": "assistant", "content": paper_answer(sample)}]
        assert (row["_system"], row["_tools"], row["_videos"], row["_audios"]) == ("", "", None, None)
        assert row["_images"] == [str(directory / path) for path in sample.images]  # media_dir = dataset_dir
        assert GroundingSample.model_validate_json(row["_univg"]) == sample


def test_any_registered_format_loads_as_univg_colon_its_name(tmp_path):
    """`"formatting": "univg:univg_stage2"`: LLaMA-Factory reads UniVG-R1's RL file through our reader of it."""
    directory = tmp_path / "data"
    directory.mkdir()
    rows = [
        {
            "question": "<image><image>Find the object of image-1 and locate it in image-2.",
            "answer": [10 * i, 58, 764, 999],
            "images": [f"mg/{i}-a.jpg", f"mg/{i}-b.jpg"],
        }
        for i in range(3)
    ]
    (directory / "rl.json").write_text(json.dumps(rows))
    info = {"rl": {"file_name": "rl.json", "formatting": "univg:univg_stage2"}}
    (directory / "dataset_info.json").write_text(json.dumps(info))
    aligned = load_aligned(directory, tmp_path, "rl")
    expected = list(read(directory / "rl.json", "univg_stage2"))
    assert len(aligned) == len(expected) == 3
    for row, sample in zip(aligned, expected):
        loaded = GroundingSample.model_validate_json(row["_univg"])
        assert (loaded.boxes, loaded.target_image) == (sample.boxes, 2)
        assert row["_prompt"] == [{"role": "user", "content": prompt_text(sample)}]
        assert row["_response"] == [{"role": "assistant", "content": paper_answer(sample)}]
        assert row["_images"] == list(sample.images)  # LLaMA-Factory joins media_dir only to files that exist


def test_rows_with_different_meta_keys_keep_their_own_meta(tmp_path):
    directory = tmp_path / "data"
    samples = [
        GroundingSample(id="a", images=["x.png"], question="Find it.", boxes=[[1, 2, 3, 4]], meta={"source": "coco"}),
        GroundingSample(id="b", images=["x.png"], question="Find it.", boxes=[[1, 2, 3, 4]], meta={"split": 3}),
    ]
    write(samples, directory / "train.jsonl", "univg", dataset_info=True, dataset_name="mixed")
    aligned = load_aligned(directory, tmp_path, "mixed")
    assert [GroundingSample.model_validate_json(row["_univg"]).meta for row in aligned] == [
        {"source": "coco"},
        {"split": 3},
    ]


def test_an_invalid_row_stops_loading_naming_dataset_row_and_field(tmp_path):
    directory = dataset_dir(tmp_path / "data", samples=2)
    lines = (directory / "train.jsonl").read_text().splitlines()
    bad = json.loads(lines[1])
    bad["target_image"] = 9
    (directory / "train.jsonl").write_text("\n".join([lines[0], json.dumps(bad)]) + "\n")
    with pytest.raises(ValueError) as caught:
        load_aligned(directory, tmp_path)
    assert str(caught.value) == (
        f"dataset train.jsonl (formatting univg), row id '{bad['id']}': target_image: "
        f"9 is out of range for {len(bad['images'])} image(s) (indices are 1-based)"
    )


@pytest.mark.slow
def test_llamafactory_cli_trains_sft_on_a_univg_dataset(tmp_path, tiny_qwen2_vl):
    directory = dataset_dir(tmp_path / "data", samples=6)
    output = tmp_path / "out"
    config = {
        "model_name_or_path": str(tiny_qwen2_vl),
        "stage": "sft",
        "do_train": True,
        "finetuning_type": "full",
        "template": "qwen2_vl",
        "dataset": "synth",
        "dataset_dir": str(directory),
        "media_dir": str(directory),
        "cutoff_len": 1024,
        "output_dir": str(output),
        "overwrite_output_dir": True,
        "per_device_train_batch_size": 2,
        "max_steps": 3,
        "logging_steps": 1,
        "learning_rate": 1e-3,
        "save_strategy": "no",
        "report_to": "none",
        "use_cpu": True,
        "disable_gradient_checkpointing": True,
        "preprocessing_num_workers": 1,
        "dataloader_num_workers": 0,
    }
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(config))
    environment = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "HF_DATASETS_CACHE": str(tmp_path / "hf_cache")}
    result = subprocess.run(
        [LLAMAFACTORY_CLI, "train", str(path)], capture_output=True, text=True, env=environment, timeout=900
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert (output / "model.safetensors").is_file()
    logs = [json.loads(line) for line in (output / "trainer_log.jsonl").read_text().splitlines()]
    losses = [entry["loss"] for entry in logs if "loss" in entry]
    assert len(losses) == 3 and all(loss > 0 for loss in losses)
