"""Grounding rewards in TRL's convention, one function each, and the registry that names them.

| name | function | module |
|---|---|---|
| ``iou`` | :func:`iou_reward` (the paper's accuracy reward) | :mod:`.accuracy` |
| ``iou_threshold`` | :func:`iou_threshold_reward` | :mod:`.accuracy` |
| ``giou`` | :func:`giou_reward` | :mod:`.accuracy` |
| ``format`` | :func:`format_reward` (the paper's format reward) | :mod:`.format` |
| ``image_index`` | :func:`image_index_reward` | :mod:`.image_index` |
| ``grounding`` | :func:`grounding_reward` | :mod:`.image_index` |
| ``multi_box`` | :func:`multi_box_reward` | :mod:`.multi_box` |

Every reward is ``f(completions, solution=None, *, <options>, **columns) -> list[float | None]``: completions
conversational or plain, the ground truth per row in ``solution``, TRL's other dataset columns as keywords.
Any completion string scores in [0, 1] (``giou``: [-1, 1]) and never raises; a row without a ground-truth box
scores None ("does not apply", which TRL skips), except in ``multi_box``. Dataset problems (a missing
solution column, an image size a conversion needs) raise a ``ValueError`` that names them.

:mod:`.presets` holds the rewards set up for each Qwen-VL family (``qwen2_5_vl_iou``, importable by path for
TRL's command line). :func:`get` configures a reward by name (its ``__name__`` is the name, which TRL logs as
``rewards/<name>/mean``); :func:`load` configures several; other packages register theirs under the
entry-point group ``univg_plugin.rewards``:

    >>> from univg_plugin.rewards import get
    >>> iou = get("iou", space="abs_input", solution_space="abs_image")
    >>> iou.__name__
    'iou'
"""

from ._convention import completion_texts
from .accuracy import giou_reward, iou_reward, iou_threshold_reward
from .format import PAPER_FORMAT_PATTERN, format_reward
from .image_index import grounding_reward, image_index_reward
from .multi_box import multi_box_reward
from .registry import REWARDS, available, get, load, reward_options

__all__ = [
    "PAPER_FORMAT_PATTERN",
    "REWARDS",
    "available",
    "completion_texts",
    "format_reward",
    "get",
    "giou_reward",
    "grounding_reward",
    "image_index_reward",
    "iou_reward",
    "iou_threshold_reward",
    "load",
    "multi_box_reward",
    "reward_options",
]
