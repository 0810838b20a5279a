"""Evaluation: score predictions on MIG-Bench, the zero-shot sets or our own format with the benchmarks' metrics.

- :func:`score`: predictions (a jsonl file, or ``id -> output``) + samples -> :class:`EvalReport`;
- :func:`generate_predictions`: run a checkpoint over samples (transformers, or vLLM), resumable when the
  run is the same (:mod:`.provenance`: model, settings and prompts recorded beside the predictions);
- :func:`load_benchmark`: samples of one or more benchmark files, ground truth as written (:mod:`.benchmark`);
- :class:`EvalReport`: metrics by task or by any ``meta`` key, terminal / Markdown / JSON / PNG output;
- :mod:`.metrics`: the metric definitions (:data:`PROTOCOLS`); :mod:`.paper`: the paper's numbers.

Example:
    >>> from univg_plugin.data import GroundingSample
    >>> sample = GroundingSample(id="a", images=["x.png"], question="Find it.", boxes=[[100, 100, 500, 500]])
    >>> score({"a": "<think>...</think><answer>(100,100),(500,500)</answer>"}, [sample]).overall.acc50
    100.0
"""

from .benchmark import detect_format, load_benchmark
from .generate import Backend, GenerationResult, generate_predictions
from .metrics import POLICIES, PROTOCOLS, REASONS, THRESHOLDS, GroupMetrics, Protocol, protocol_for
from .paper import PAPER_TABLES, PaperTable, paper_table
from .predictions import PredictionSet, read_predictions
from .report import EvalReport, SampleResults
from .score import score

__all__ = [
    "PAPER_TABLES",
    "POLICIES",
    "PROTOCOLS",
    "REASONS",
    "THRESHOLDS",
    "Backend",
    "EvalReport",
    "GenerationResult",
    "GroupMetrics",
    "PaperTable",
    "PredictionSet",
    "Protocol",
    "SampleResults",
    "detect_format",
    "generate_predictions",
    "load_benchmark",
    "paper_table",
    "protocol_for",
    "read_predictions",
    "score",
]
