"""``univg demo``: the whole UniVG-R1 pipeline on a laptop CPU, with no download.

1. build a small Qwen2-VL with :func:`~univg_plugin.tiny_models.build_tiny_qwen_vl` while worker processes
   synthesize train and held-out multi-image grounding data (:func:`univg_plugin.data.synth.generate`
   with the demo's compact tasks, :mod:`.tasks`; graded easy / medium / hard);
2. stage 1, CoT-SFT, with ``llamafactory-cli train`` on a generated copy of ``recipes/tiny/sft.yaml``;
3. stage 2, difficulty-aware GRPO, with ``llamafactory-cli train`` on a generated copy of
   ``recipes/tiny/grpo.yaml``; and the same run with the weighting off (the ablation), same seed,
   side by side with it (each on its share of the CPU cores);
4. evaluate the untrained model, a trivial baseline (the mean training box), stage 1, stage 2 and the
   ablation on the held-out set with :mod:`univg_plugin.eval`, per difficulty and overall;
5. write ``report.md`` and the plots.

Modules: :mod:`.plan` (sizes and settings, :data:`PLANS`), :mod:`.tasks` (the compact tasks),
:mod:`.configs` (the LLaMA-Factory configs), :mod:`.runner` (``llamafactory-cli`` subprocesses side by
side), :mod:`.evaluation`, :mod:`.compare` (paired comparison of two runs), :mod:`.plots`,
:mod:`.report` and :mod:`.pipeline` (:func:`run_demo`, the phases in order). How the task is made
learnable in minutes is explained in ``docs/demo.md``.
"""

from .compare import compare_runs, paired_change
from .configs import recipe_path, stage1_config, stage2_config, weighting_name
from .pipeline import DemoResult, run_demo, write_data
from .plan import PLANS, DemoPlan
from .report import write_report
from .runner import cpu_cores, llamafactory_train
from .tasks import COMPACT_BUILDERS, DEMO_TASKS

__all__ = [
    "COMPACT_BUILDERS",
    "DEMO_TASKS",
    "PLANS",
    "DemoPlan",
    "DemoResult",
    "compare_runs",
    "cpu_cores",
    "llamafactory_train",
    "paired_change",
    "recipe_path",
    "run_demo",
    "stage1_config",
    "stage2_config",
    "weighting_name",
    "write_data",
    "write_report",
]
