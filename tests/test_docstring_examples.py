"""The Examples sections of the docstrings run and hold (what ``--doctest-modules``
would check, for the modules of the data, the rules and the scores; the solver's and the
ledger's modules are left to their own tests)."""

import doctest
import importlib

MODULES = ("errors", "geo", "lump_sum", "workdays", "schema", "settings", "reading", "parsing", "loading",
           "reference", "pair_arrays", "rules", "constraints", "validator", "validator_reading",
           "partnership_selection", "scoring", "scoring_context", "pruning", "catalogue", "generator")


def test_docstring_examples_hold():
    failed, attempted = [], 0
    for name in MODULES:
        result = doctest.testmod(importlib.import_module(f"matchmaker.{name}"), optionflags=doctest.ELLIPSIS)
        attempted += result.attempted
        if result.failed:
            failed.append(name)
    assert not failed, f"docstring examples fail in: {', '.join(failed)} (doctest.testmod(matchmaker.<module>, verbose=True) shows them)"
    assert attempted >= 7  # the examples of geo, lump_sum and errors at least
