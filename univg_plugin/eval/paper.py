"""The published numbers the paper reports, in one place (UniVG-R1, arXiv 2505.14231; REFERENCE.md §1).

Every value is Acc@IoU0.5 in percent. MIG-Bench's columns are in the paper's order, which is also
the order the evaluation tables use for MIG-Bench tasks; ``average`` is the paper's "Avg" (the
unweighted mean of the columns).

Example:
    >>> MIG_BENCH.rows["UniVG-R1"]["average"], MIG_BENCH.labels()["diff"]
    (72.64, 'Static diff')
    >>> paper_table("zero_shot").rows["Migician"]
    {'average': 35.18}
"""

from __future__ import annotations

from dataclasses import dataclass

#: The paper's method: the model whose numbers the reports show beside a run.
PAPER_MODEL = "UniVG-R1"


@dataclass(frozen=True)
class PaperTable:
    """One results table of the paper.

    Attributes:
        benchmark: The benchmark layout it belongs to (a dataset format name: ``mig_bench``, ``zero_shot``).
        title: Caption for reports.
        metric: What the numbers are.
        columns: ``(group key, the paper's column label)`` in the paper's order; group keys are the task
            names our readers give the samples.
        rows: Model name -> ``{group key or "average": value in percent}`` (a model may lack columns).
    """

    benchmark: str
    title: str
    metric: str
    columns: tuple[tuple[str, str], ...]
    rows: dict[str, dict[str, float]]

    def labels(self) -> dict[str, str]:
        """Group key -> the paper's column label."""
        return dict(self.columns)

    def order(self) -> tuple[str, ...]:
        """Group keys in the paper's column order."""
        return tuple(key for key, _ in self.columns)


MIG_BENCH = PaperTable(
    benchmark="mig_bench",
    title="MIG-Bench (10 multi-image grounding tasks)",
    metric="acc50",
    columns=(
        ("diff", "Static diff"),
        ("view_diff", "Robust view_diff"),
        ("common_object", "Common"),
        ("object_tracking", "Object tracking"),
        ("multi_view", "Multi-view"),
        ("region", "Region"),
        ("refer_grounding", "Refer"),
        ("group_grounding", "Group grounding"),
        ("reasoning", "Reasoning"),
        ("correspondence", "Correspondence"),
    ),
    rows={
        "Qwen2-VL-7B": {"average": 30.20},
        "Migician": {"average": 63.54},
        PAPER_MODEL: {
            "diff": 71.97,
            "view_diff": 58.51,
            "common_object": 93.13,
            "object_tracking": 76.36,
            "multi_view": 66.32,
            "region": 81.71,
            "refer_grounding": 82.83,
            "group_grounding": 88.04,
            "reasoning": 62.89,
            "correspondence": 44.44,
            "average": 72.64,
        },
    },
)

ZERO_SHOT = PaperTable(
    benchmark="zero_shot",
    title="Zero-shot reasoning grounding",
    metric="acc50",
    columns=(
        ("lisa_val", "LISA val"),
        ("lisa_test", "LISA test"),
        ("llmseg", "LLMSeg"),
        ("reasonvos", "ReasonVOS"),
        ("revos", "ReVOS"),
    ),
    rows={
        "Qwen2-VL-7B": {"average": 34.02},
        "Migician": {"average": 35.18},
        PAPER_MODEL: {
            "lisa_val": 64.00,
            "lisa_test": 59.69,
            "llmseg": 50.60,
            "reasonvos": 58.73,
            "revos": 60.03,
            "average": 58.61,
        },
    },
)

#: The paper's tables by benchmark layout.
PAPER_TABLES: dict[str, PaperTable] = {table.benchmark: table for table in (MIG_BENCH, ZERO_SHOT)}


def paper_table(benchmark: str) -> PaperTable | None:
    """The paper's table for a benchmark layout (a dataset format name), or None when it reports none."""
    return PAPER_TABLES.get(benchmark)
