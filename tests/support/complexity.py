"""Linear time as a tested property: the same function on inputs of n and 8n characters, in one run."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

#: time(8n) / time(n) stays below this: linear is about 8, quadratic about 64.
MAX_RATIO = 16.0

#: the small input's size: 50,000 characters and 8 times that both miss a core's 32 KiB L1 data cache and both fit
#: its L2. With 10,000 the small text sat in L1 and the large did not: str.count alone grew 20x for 8x the text.
DEFAULT_N = 50_000

#: each timing runs the function this long at least (on the small input), so the clock's resolution does not count.
MIN_TIMING_S = 0.001


def _thread_time(function: Callable[[str], object], text: str, calls: int) -> float:
    """This thread's CPU time for ``calls`` calls: other processes on the machine do not count."""
    start = time.thread_time()
    for _ in range(calls):
        function(text)
    return time.thread_time() - start


def _calls_for(function: Callable[[str], object], text: str) -> int:
    """How many calls of ``function(text)`` take at least :data:`MIN_TIMING_S`."""
    calls = 1
    while _thread_time(function, text, calls) < MIN_TIMING_S:
        calls *= 2
    return calls


def growth_ratio(function: Callable[[str], object], make_text: Callable[[int], str], n: int = DEFAULT_N) -> float:
    """time(function(make_text(8n))) / time(function(make_text(n))), the best of 5 timings each.

    The pair n/8 and n is measured first: a ratio above 3 * MAX_RATIO there is plainly superlinear and is returned
    as it is, sparing a failing test the run on 8n characters (minutes for a quadratic function).
    """
    early = _ratio(function, make_text(n // 8), make_text(n))
    if early > 3 * MAX_RATIO:
        return early
    return _ratio(function, make_text(n), make_text(8 * n))


def _ratio(function: Callable[[str], object], small: str, large: str) -> float:
    """time(function(large)) / time(function(small)), timed alternately with the same number of calls, so that
    what load still reaches this thread (shared caches) hits them alike."""
    calls = _calls_for(function, small)  # also warms up caches and imports
    times = {"small": float("inf"), "large": float("inf")}
    # the collector off while timing: its passes cost what the test process's heap holds (large late in a full
    # suite: 17.5 against 16 was seen), not what the function does
    gc.collect()
    gc.disable()
    try:
        for _ in range(5):
            times["small"] = min(times["small"], _thread_time(function, small, calls))
            times["large"] = min(times["large"], _thread_time(function, large, calls))
    finally:
        gc.enable()
    return times["large"] / max(times["small"], 1e-9)
