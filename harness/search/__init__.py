"""Search: strategies (pymoo NSGA-II / GA, random, single), the loop, and final-pick policies."""
from harness.search.loop import Callback, GenerationRecord, SearchResult, run_search
from harness.search.pick import PICKS, pareto_ranks

__all__ = ["Callback", "GenerationRecord", "PICKS", "SearchResult", "pareto_ranks", "run_search"]
