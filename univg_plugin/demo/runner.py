"""``llamafactory-cli train`` subprocesses, run side by side with a share of the CPU cores each."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: One run: a LLaMA-Factory config, the run's name and its step count.
Run = tuple[dict[str, Any], str, int]


def cpu_cores() -> int:
    """The CPU cores this process may run on (all of the machine's where the OS cannot tell, e.g. macOS)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _llamafactory_cli() -> str:
    sibling = Path(sys.executable).with_name("llamafactory-cli")
    found = str(sibling) if sibling.exists() else shutil.which("llamafactory-cli")
    if found is None:
        raise FileNotFoundError("llamafactory-cli not found: pip install 'univg-plugin[llamafactory]'")
    return found


def _steps_logged(trainer_log: Path) -> int:
    if not trainer_log.is_file():
        return 0
    lines = trainer_log.read_text().splitlines()
    return json.loads(lines[-1]).get("current_steps", 0) if lines else 0


#: LLaMA-Factory's dataset progress lines (``datasets`` map bars) in a run's log: what, done, total.
_DATASET_PROGRESS = re.compile(
    r"(Converting format of dataset|Running tokenizer on dataset)[^:\n]*:\s*\d+%\|[^|\n]*\|\s*(\d+)/(\d+)"
)
#: The line transformers' Trainer logs when the steps begin.
_TRAINING_STARTED = "***** Running training *****"


def preparation(log: Path) -> str:
    """What a run does before its first logged step, from its log: its start, its dataset's conversion or
    tokenization (LLaMA-Factory's preprocessing) and how far it is, or its first steps.

    Example:
        >>> import tempfile
        >>> log = Path(tempfile.mkdtemp()) / "stage1.log"
        >>> _ = log.write_text("Running tokenizer on dataset (num_proc=2):  30%|###   | 7200/24000 [00:10<00:23]")
        >>> preparation(log)
        'preprocessing: tokenizing 7200/24000 samples'
    """
    text = log.read_text(errors="replace") if log.is_file() else ""
    if _TRAINING_STARTED in text:
        return "training: up to the first logged step"
    found = _DATASET_PROGRESS.findall(text)
    if not found:
        return "starting"
    what, done, total = found[-1]
    verb = "converting" if what.startswith("Converting") else "tokenizing"
    return f"preprocessing: {verb} {done}/{total} samples"


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
        """Steps done, and before the first one what the run is preparing (:func:`preparation`)."""
        steps = _steps_logged(self.progress_file)
        self.bar.set_postfix_str("" if steps else preparation(self.log_path), refresh=False)
        self.bar.update(steps - self.bar.n)
        self.bar.refresh()

    def failed(self) -> bool:
        return self.process.poll() not in (None, 0)

    def stop(self) -> None:
        """Terminate the run if it still runs, then close its progress bar."""
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait()
            self.stopped = True
        self.update_bar()
        self.bar.close()


def _environment(run_count: int, ranks: int) -> dict[str, str]:
    """The runs' environment: CPU only, this interpreter's scripts first on PATH, for runs of several
    ranks LLaMA-Factory's torchrun launch (``FORCE_TORCHRUN``, ``NPROC_PER_NODE``), and for processes that
    share the machine a share of its cores each (unless the user chose a number); a lone process keeps
    torch's own default."""
    processes = run_count * ranks
    shares = {"OMP_NUM_THREADS": str(max(1, cpu_cores() // processes))} if processes > 1 else {}
    torchrun = {"FORCE_TORCHRUN": "1", "NPROC_PER_NODE": str(ranks)} if ranks > 1 else {}
    return {
        **shares,
        **os.environ,
        **torchrun,
        "CUDA_VISIBLE_DEVICES": "",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }


def _start(run: Run, position: int, out: Path, env: dict[str, str]) -> _Training:
    """Write the run's config, start ``llamafactory-cli train`` on it and open its progress bar."""
    import yaml
    from tqdm.auto import tqdm

    config, name, steps = run
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
    return _Training(name, config_path, log_path, progress_file, process, bar)


def llamafactory_train(runs: list[Run], out: Path, say: Callable[[str], None], ranks: int = 1) -> None:
    """Run ``llamafactory-cli train`` on each ``(config, name, steps)`` of ``runs`` at the same time, each
    with its share of the CPU cores and a progress bar fed by its log (preprocessing) and trainer_log.jsonl
    (steps).

    Concurrent runs with one core each get more done than the same runs one after the other with two
    cores each: a small model's steps are too short to keep two cores busy (measured in docs/demo.md).

    Args:
        runs: ``(config, name, steps)``: a LLaMA-Factory config (written to ``out/configs/<name>.yaml``),
            the run's name (its log is ``out/logs/<name>.log``) and its step count (the progress bar's end).
        out: The demo's output directory.
        say: Where the line saying that a run is done goes.
        ranks: Processes per run: data parallel under LLaMA-Factory's torchrun launch (gloo), each with
            the config's ``per_device_train_batch_size`` samples a step.

    Raises:
        RuntimeError: A run failed; the others were stopped. The message names its config and log and
            ends with the log's last lines.
    """
    env = _environment(len(runs), ranks)
    trainings: list[_Training] = []
    try:
        for position, run in enumerate(runs):
            trainings.append(_start(run, position, out, env))
        while any(t.process.poll() is None for t in trainings) and not any(t.failed() for t in trainings):
            time.sleep(1.0)
            for training in trainings:
                training.update_bar()
    finally:  # interrupted, or a sibling run failed: stop the runs still going
        for training in trainings:
            training.stop()
    for training in trainings:
        if training.failed() and not training.stopped:
            tail = training.log_path.read_text()[-3000:]
            raise RuntimeError(
                f"llamafactory-cli train {training.config_path} failed (log: {training.log_path}):\n{tail}"
            )
        say(f"{training.name}: done, log in {training.log_path}")
