"""Regression: importing the comparison methods leaves the warning filters as they were.

The ``matching`` package calls ``warnings.simplefilter("always")`` when it is imported; through
``matchmaker.run`` that showed every library's deprecation warnings in notebook 01's output.
"""

from __future__ import annotations

import subprocess
import sys


def test_importing_the_stable_matching_keeps_the_warning_filters():
    code = ("import warnings\n"
            "import matchmaker.run, matchmaker.compare.stable\n"
            "print(any(f[0] == 'always' and f[2] is Warning for f in warnings.filters))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
