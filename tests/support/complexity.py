"""Linear time as a tested property: the same function on inputs of n and 8n characters, in one run."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

#: time(8n) / time(n) stays below this: linear is about 8, quadratic about 64.
MAX_RATIO = 16.0


def best_time(function: Callable[[], object], repeats: int = 3) -> float:
    """The best of ``repeats`` timings of ``function()``, in this thread's CPU time: other processes on the
    machine do not count (a wall clock measured their load, and the ratio crossed the bound on a busy machine)."""
    best = float("inf")
    for _ in range(repeats):
        start = time.thread_time()
        function()
        best = min(best, time.thread_time() - start)
    return best


def growth_ratio(function: Callable[[str], object], make_text: Callable[[int], str], n: int = 10_000) -> float:
    """time(function(make_text(8n))) / time(function(make_text(n))), best of 5 each.

    Both sizes are timed in the same run, alternately, so that what load still reaches this thread (shared
    caches) hits them alike.
    """
    small, large = make_text(n), make_text(8 * n)
    function(small)  # warm up caches and imports
    times = {"small": float("inf"), "large": float("inf")}
    # the collector off while timing: its passes cost what the test process's heap holds (large late in a full
    # suite: 17.5 against 16 was seen), not what the function does
    gc.collect()
    gc.disable()
    try:
        for _ in range(5):
            times["small"] = min(times["small"], best_time(lambda: function(small), 1))
            times["large"] = min(times["large"], best_time(lambda: function(large), 1))
    finally:
        gc.enable()
    return times["large"] / max(times["small"], 1e-6)
