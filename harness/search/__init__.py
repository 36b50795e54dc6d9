"""Search: strategies (pymoo NSGA-II / GA, random, single), the loop, final-pick policies, methods
checked against the registries, and the assembled system under test."""
from harness.search.loop import Callback, GenerationRecord, SearchResult, run_search
from harness.search.methods import check_method, load_method
from harness.search.pick import PICKS, pareto_ranks

__all__ = ["Callback", "GenerationRecord", "PICKS", "SearchResult", "check_method", "load_method", "pareto_ranks",
           "run_search"]
