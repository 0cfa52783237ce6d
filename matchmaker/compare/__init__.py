"""The same round matched other ways, side by side with the optimiser (issue 13).

Each method (:data:`METHODS`) chooses among the round's catalogue pairs under the same
rules and budgets and returns proposals that the validator accepts;
:func:`compare_round` runs them and counts their blocking pairs,
:func:`comparison_table` sets them beside the optimiser's proposals.
"""

from matchmaker.compare.base import MethodResult
from matchmaker.compare.registry import METHODS, Method, compare_round, comparison_table, ours_result

__all__ = ["METHODS", "Method", "MethodResult", "compare_round", "comparison_table", "ours_result"]
