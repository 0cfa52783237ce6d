"""The Examples sections of the docstrings run and hold (what ``--doctest-modules``
would check), in every module of the package."""

import doctest
import importlib
import pkgutil

import matchmaker

MODULES = sorted(m.name for m in pkgutil.walk_packages(matchmaker.__path__, "matchmaker.") if not m.ispkg)


def test_docstring_examples_hold():
    failed, attempted = [], 0
    for name in MODULES:
        result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
        attempted += result.attempted
        if result.failed:
            failed.append(name)
    assert not failed, (f"docstring examples fail in: {', '.join(failed)} "
                        "(doctest.testmod(<module>, verbose=True) shows them)")
    assert attempted >= 7  # the examples of geo, lump_sum and errors at least
