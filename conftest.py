"""Repository-wide pytest setup: doctest collection skips modules whose host framework is absent."""

import importlib.util

collect_ignore_glob = ["benchmarks/*", "recipes/*", "docs/*"]
if importlib.util.find_spec("llamafactory") is None:
    collect_ignore_glob.append("univg_plugin/integrations/llamafactory/*")
