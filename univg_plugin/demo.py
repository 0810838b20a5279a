"""``univg demo``: the whole UniVG-R1 pipeline on a laptop CPU, with no download.

1. build a small Qwen2-VL with :func:`~univg_plugin.testing.build_tiny_qwen_vl`;
2. synthesize train and held-out multi-image grounding data (:func:`univg_plugin.data.synth.generate`,
   graded easy / medium / hard);
3. stage 1, CoT-SFT, with ``llamafactory-cli train`` on a generated copy of ``recipes/tiny/sft.yaml``;
4. stage 2, difficulty-aware GRPO, with ``llamafactory-cli train`` on a generated copy of
   ``recipes/tiny/grpo.yaml``; and the same run with the weighting off (the ablation), same seed,
   side by side with it (each on its share of the CPU cores);
5. evaluate the untrained model, a trivial baseline (the mean training box), stage 1, stage 2 and the
   ablation on the held-out set with :mod:`univg_plugin.eval`, per difficulty and overall;
6. write ``report.md`` and the plots.

How the task is made learnable in minutes is explained in ``docs/demo.md``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from .testing import TinyModelSpec

#: The demo's task mix: the synthetic generator's compact tasks (see docs/demo.md).
DEMO_TASKS = {"locate": 2.0, "find": 1.0}
#: Words the demo data uses, given to the tokenizer so they are single tokens (shorter sequences).
_VOCABULARY = (
    "Locate the square. Find the square in these images. The square is at the square is in image at the "
    "top bottom left right center top-left top-right bottom-left bottom-right "
    "red green blue yellow purple orange white black "
    "First output the thinking process in tags and then output the bounding box"
)


@dataclass(frozen=True)
class DemoPlan:
    """Sizes and settings of one demo run.

    Attributes:
        train_samples: Synthetic training samples (fresh ones: the model must not memorise images).
        test_samples: Held-out samples.
        image_size: Side of the square images, in pixels.
        grid: Objects sit in a ``grid x grid`` lattice of ``image_size / grid`` pixel cells.
        model: Size of the Qwen2-VL built from scratch.
        sft_steps: Stage-1 optimizer steps.
        sft_batch: Stage-1 batch size.
        sft_learning_rate: Stage-1 peak learning rate (cosine schedule).
        grpo_steps: Stage-2 optimizer steps (each run).
        grpo_prompts: Prompts per stage-2 step.
        num_generations: Completions per prompt (G).
        grpo_learning_rate: Stage-2 learning rate.
        max_completion_length: Stage-2 completion tokens (and the evaluation's).
        eval_batch: Generation batch size of the evaluation.
        grpo_loss_type: TRL's loss aggregation in stage 2 (``grpo``: per completion; ``dapo``: per token).
        grpo_min_p: Stage-2 sampling drops tokens below ``min_p`` x the top token's probability (None: off).
    """

    train_samples: int
    test_samples: int
    image_size: int
    grid: int
    model: TinyModelSpec
    sft_steps: int
    sft_batch: int
    sft_learning_rate: float
    grpo_steps: int
    grpo_prompts: int
    num_generations: int
    grpo_learning_rate: float
    max_completion_length: int
    eval_batch: int = 32
    grpo_loss_type: str = "grpo"
    grpo_min_p: float | None = None


_MODEL = TinyModelSpec(
    hidden_size=128,
    num_hidden_layers=4,
    num_attention_heads=4,
    num_key_value_heads=2,
    intermediate_size=512,
    vision_depth=2,
    vision_embed_dim=64,
    vision_num_heads=4,
    min_pixels=28 * 28,
    max_pixels=112 * 112,
    vocab_size=800,
    corpus=(_VOCABULARY,) * 8,
    extra_tokens=("<think>", "</think>", "<answer>", "</answer>"),
    language_init_std=0.08,
)

_DEFAULT = DemoPlan(
    train_samples=24000,
    test_samples=900,
    image_size=84,
    grid=3,
    model=_MODEL,
    sft_steps=1200,
    sft_batch=16,
    sft_learning_rate=5e-4,
    grpo_steps=40,
    grpo_prompts=16,
    num_generations=4,
    grpo_learning_rate=2e-5,
    max_completion_length=96,
)

PLANS: dict[str, DemoPlan] = {
    "default": _DEFAULT,
    # A cold-start stage 1 and ten times the GRPO prompts, sampled without the tail of junk tokens a
    # tiny model puts probability on: stage 2 gains over stage 1 (about 35 minutes; docs/demo.md).
    "long": replace(_DEFAULT, sft_steps=800, grpo_steps=400, grpo_loss_type="dapo", grpo_min_p=0.1),
    "quick": replace(
        _DEFAULT,
        train_samples=200,
        test_samples=24,
        model=replace(_MODEL, hidden_size=64, intermediate_size=128, num_hidden_layers=2),
        sft_steps=20,
        sft_batch=8,
        sft_learning_rate=1e-3,
        grpo_steps=3,
        grpo_prompts=2,
        max_completion_length=48,
        eval_batch=24,
    ),
}

#: The report row every stage-2 run is compared with, sample by sample.
_STAGE1_ROW = "stage 1: CoT-SFT"
#: Report rows: label, the run directory whose predictions are scored (None: the baseline).
_RUNS = (
    ("untrained model", "model"),
    ("mean training box (trivial baseline)", None),
    (_STAGE1_ROW, "stage1"),
    ("stage 2: GRPO, difficulty-weighted", "stage2_weighted"),
    ("stage 2: GRPO, unweighted (ablation)", "stage2_unweighted"),
)


def write_data(plan: DemoPlan, out: Path, split: str, n: int, seed: int) -> Path:
    """Synthesize ``n`` samples of the plan's task into ``out/data/<split>``; the ``train`` split is
    also registered as LLaMA-Factory dataset ``demo_train`` in ``out/data/dataset_info.json``."""
    from .data.synth import generate

    data = out / "data"
    file = generate(
        data / split, n, seed=seed, image_size=plan.image_size, grid=plan.grid, tasks=DEMO_TASKS, progress=None
    )
    if split == "train":
        info = {"demo_train": {"file_name": str(file.relative_to(data)), "formatting": "univg"}}
        (data / "dataset_info.json").write_text(json.dumps(info, indent=2))
    return file


def recipe_path(name: str) -> Path:
    """A recipe shipped with the package (a wheel install) or beside it (a source checkout)."""
    here = Path(__file__).resolve().parent
    for base in (here / "recipes", here.parent / "recipes"):
        if (base / name).is_file():
            return base / name
    raise FileNotFoundError(f"recipe {name} not found next to {here}; reinstall univg-plugin")


def _llamafactory_cli() -> str:
    sibling = Path(sys.executable).with_name("llamafactory-cli")
    found = str(sibling) if sibling.exists() else shutil.which("llamafactory-cli")
    if found is None:
        raise FileNotFoundError("llamafactory-cli not found: pip install 'univg-plugin[llamafactory]'")
    return found


def cpu_cores() -> int:
    """The CPU cores this process may run on (all of the machine's where the OS cannot tell, e.g. macOS)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


@dataclass
class _Training:
    """One ``llamafactory-cli train`` subprocess of :func:`llamafactory_train`."""

    name: str
    config_path: Path
    log_path: Path
    progress_file: Path
    process: subprocess.Popen
    bar: Any
    stopped: bool = False  # terminated by us, because a sibling run failed

    def update_bar(self) -> None:
        self.bar.update(_steps_logged(self.progress_file) - self.bar.n)

    def failed(self) -> bool:
        return self.process.poll() not in (None, 0)


def llamafactory_train(runs: list[tuple[dict[str, Any], str, int]], out: Path, say: Callable[[str], None]) -> None:
    """Run ``llamafactory-cli train`` on each ``(config, name, steps)`` of ``runs`` at the same time, each
    with its share of the CPU cores and a progress bar fed by its trainer_log.jsonl.

    Concurrent runs with one core each get more done than the same runs one after the other with two
    cores each: a small model's steps are too short to keep two cores busy (measured in docs/demo.md).

    Args:
        runs: ``(config, name, steps)``: a LLaMA-Factory config (written to ``out/configs/<name>.yaml``),
            the run's name (its log is ``out/logs/<name>.log``) and its step count (the progress bar's end).
        out: The demo's output directory.
        say: Where the line saying that a run is done goes.

    Raises:
        RuntimeError: A run failed; the others were stopped. The message names its config and log and
            ends with the log's last lines.
    """
    import yaml
    from tqdm.auto import tqdm

    # Runs that share the machine get a share of its cores each (unless the user chose a number); a
    # lone run keeps torch's own default.
    shares = {"OMP_NUM_THREADS": str(max(1, cpu_cores() // len(runs)))} if len(runs) > 1 else {}
    env = {
        **shares,
        **os.environ,
        "CUDA_VISIBLE_DEVICES": "",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    trainings: list[_Training] = []
    try:
        for position, (config, name, steps) in enumerate(runs):
            config_path = out / "configs" / f"{name}.yaml"
            config_path.parent.mkdir(parents=True, exist_ok=True)
            config_path.write_text(yaml.safe_dump(config, sort_keys=False))
            log_path = out / "logs" / f"{name}.log"
            log_path.parent.mkdir(parents=True, exist_ok=True)
            progress_file = Path(config["output_dir"]) / "trainer_log.jsonl"
            progress_file.unlink(missing_ok=True)
            with log_path.open("w") as log:
                command = [_llamafactory_cli(), "train", str(config_path)]
                process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
            bar = tqdm(total=steps, desc=name, unit="step", position=position, leave=True)
            trainings.append(_Training(name, config_path, log_path, progress_file, process, bar))
        while any(t.process.poll() is None for t in trainings) and not any(t.failed() for t in trainings):
            time.sleep(1.0)
            for training in trainings:
                training.update_bar()
    finally:
        for training in trainings:
            if training.process.poll() is None:  # interrupted, or a sibling run failed: stop it too
                training.process.terminate()
                training.process.wait()
                training.stopped = True
            training.update_bar()
            training.bar.close()
    for training in trainings:
        if training.failed() and not training.stopped:
            tail = training.log_path.read_text()[-3000:]
            raise RuntimeError(
                f"llamafactory-cli train {training.config_path} failed (log: {training.log_path}):\n{tail}"
            )
        say(f"{training.name}: done, log in {training.log_path}")


def _steps_logged(trainer_log: Path) -> int:
    if not trainer_log.is_file():
        return 0
    lines = trainer_log.read_text().splitlines()
    return json.loads(lines[-1]).get("current_steps", 0) if lines else 0


def stage1_config(plan: DemoPlan, out: Path, seed: int) -> dict[str, Any]:
    """``recipes/tiny/sft.yaml`` pointed at the demo's model, data and output, with the plan's sizes."""
    import yaml

    config = yaml.safe_load(recipe_path("tiny/sft.yaml").read_text())
    config.update(
        model_name_or_path=str(out / "model"),
        image_max_pixels=plan.image_size**2,
        freeze_vision_tower=False,  # the vision tower is random too: it must learn
        dataset="demo_train",
        dataset_dir=str(out / "data"),
        media_dir=str(out / "data" / "train"),
        output_dir=str(out / "stage1"),
        per_device_train_batch_size=plan.sft_batch,
        max_steps=plan.sft_steps,
        learning_rate=plan.sft_learning_rate,
        lr_scheduler_type="cosine",
        warmup_ratio=0.03,
        logging_steps=max(1, plan.sft_steps // 50),
        preprocessing_num_workers=2,
        seed=seed,
    )
    return config


def stage2_config(plan: DemoPlan, out: Path, seed: int, weighting: str) -> dict[str, Any]:
    """``recipes/tiny/grpo.yaml`` from the stage-1 output, difficulty weighting ``weighting``."""
    import yaml

    config = yaml.safe_load(recipe_path("tiny/grpo.yaml").read_text())
    config.update(
        model_name_or_path=str(out / "stage1"),
        image_max_pixels=plan.image_size**2,
        image_min_pixels=28 * 28,
        freeze_vision_tower=False,
        dataset="demo_train",
        dataset_dir=str(out / "data"),
        media_dir=str(out / "data" / "train"),
        output_dir=str(out / f"stage2_{weighting_name(weighting)}"),
        difficulty_weighting=weighting,
        num_generations=plan.num_generations,
        per_device_train_batch_size=plan.grpo_prompts * plan.num_generations,
        max_steps=plan.grpo_steps,
        learning_rate=plan.grpo_learning_rate,
        max_completion_length=plan.max_completion_length,
        loss_type=plan.grpo_loss_type,
        min_p=plan.grpo_min_p,
        warmup_ratio=0.1,
        max_samples=plan.grpo_steps * plan.grpo_prompts,
        logging_steps=1,
        seed=seed,
    )
    return config


def weighting_name(weighting: str) -> str:
    return "unweighted" if weighting == "none" else "weighted"


@dataclass
class DemoResult:
    """Where the demo wrote its report, and its table."""

    out: Path
    report: Path
    table: dict[str, dict[str, dict[str, float]]]
    seconds: float


def run_demo(
    out: str | Path = "demo_out",
    plan: DemoPlan | None = None,
    seed: int = 0,
    ablation: bool = True,
    say: Callable[[str], None] = print,
) -> DemoResult:
    """Run every phase and write the report (see the module docstring).

    Args:
        out: Output directory (created; reused files are overwritten).
        plan: Sizes and settings (default: ``PLANS["default"]``).
        seed: Seed of the data, the model and both training stages.
        ablation: Also run stage 2 with the weighting off.
        say: Where progress lines go.

    Returns:
        A :class:`DemoResult`.
    """
    from .data import read
    from .testing import build_tiny_qwen_vl

    plan = plan or PLANS["default"]
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    timings: dict[str, float] = {}

    def phase(name: str) -> Callable[[], None]:
        begun = time.perf_counter()
        say(f"== {name}")
        return lambda: timings.__setitem__(name, time.perf_counter() - begun)

    done = phase("model")
    build_tiny_qwen_vl(out / "model", family="qwen2_vl", seed=seed, spec=plan.model)
    done()

    done = phase("data")
    train_file = write_data(plan, out, "train", plan.train_samples, seed)
    test_file = write_data(plan, out, "test", plan.test_samples, seed + 10_000)
    done()

    done = phase("stage 1: CoT-SFT (llamafactory-cli)")
    llamafactory_train([(stage1_config(plan, out, seed), "stage1", plan.sft_steps)], out, say)
    done()

    weightings = ["exp", "none"] if ablation else ["exp"]
    names = [f"stage2_{weighting_name(weighting)}" for weighting in weightings]
    done = phase(f"stage 2: GRPO, {' + '.join(map(weighting_name, weightings))} (llamafactory-cli)")
    configs = [stage2_config(plan, out, seed, weighting) for weighting in weightings]
    llamafactory_train([(config, name, plan.grpo_steps) for config, name in zip(configs, names)], out, say)
    done()

    done = phase("evaluation")
    test_samples = list(read(test_file))
    train_samples = read(train_file)
    table, ious = _evaluate(plan, out, test_samples, train_samples, ablation)
    done()

    done = phase("report")
    from .demo_report import compare_runs, write_report

    candidates = [sample.meta["distractors"] + 1 for sample in test_samples]
    analysis = compare_runs(ious, candidates, base=_STAGE1_ROW)
    summary = {"plan": asdict(plan), "table": table, **analysis}
    (out / "table.json").write_text(json.dumps(summary, indent=2, default=str))
    seconds = time.perf_counter() - start
    report = write_report(out, table, analysis, plan, seed, timings, seconds, ablation)
    done()
    say(f"report: {report}  (total {seconds / 60:.1f} min)")
    return DemoResult(out, report, table, seconds)


def _mean_box_output(train_samples) -> str:
    """The trivial baseline's answer: the mean training box, in the paper's layout."""
    import numpy as np

    boxes = np.array([sample.boxes_in("norm1000")[0] for sample in train_samples])
    x1, y1, x2, y2 = np.rint(boxes.mean(axis=0)).astype(int).tolist()
    return f"<think>The mean training box.</think><answer>({x1},{y1}),({x2},{y2})</answer>"


def _evaluate(
    plan: DemoPlan, out: Path, test_samples, train_samples, ablation: bool
) -> tuple[dict[str, dict[str, dict[str, float]]], dict[str, list[float]]]:
    """Acc@0.5 and mIoU (percent) per difficulty and overall for every row of the report, and each row's
    per-sample IoUs (in the order of ``test_samples``)."""
    from .eval import generate_predictions, score

    table: dict[str, dict[str, dict[str, float]]] = {}
    ious: dict[str, list[float]] = {}
    baseline = _mean_box_output(train_samples)
    for label, run in _RUNS:
        if run == "stage2_unweighted" and not ablation:
            continue
        eval_dir = out / "eval" / (run or "mean_box")
        eval_dir.mkdir(parents=True, exist_ok=True)
        if run is None:
            predictions: Any = {sample.id: baseline for sample in test_samples}
        else:
            predictions = eval_dir / "predictions.jsonl"
            predictions.unlink(missing_ok=True)
            generate_predictions(
                out / run,
                test_samples,
                predictions,
                batch_size=plan.eval_batch,
                max_new_tokens=plan.max_completion_length,
                media_root=out / "data" / "test",
                progress=None,
            )
        report = score(predictions, test_samples, group_by="difficulty", media_root=out / "data" / "test")
        report.write(eval_dir, plot=False)
        rows = {name: group for name, group in report.groups.items()}
        rows["all"] = report.overall
        table[label] = {name: {"acc50": group.acc50, "miou": group.miou} for name, group in rows.items()}
        by_id = dict(zip(report.results.ids, report.results.iou.tolist()))
        ious[label] = [by_id[sample.id] for sample in test_samples]
    return table, ious
