"""A thin wrapper around the HiGHS solver object that SciPy ships.

``scipy.optimize.linprog``/``milp`` rebuild the model on every call. Column generation
needs warm starts (add columns and cut rows, re-solve from the last basis) and the
restricted MIP needs a start solution; both exist on the HiGHS object that SciPy
vendors (``scipy.optimize._highspy._core._Highs``, SciPy >= 1.15). It is SciPy's own
copy of HiGHS, so it coexists with OR-Tools in one process (unlike the separate
``highspy`` package). The import is private SciPy API and is isolated here.

All models are ``minimise c.x`` subject to ``row_lower <= A x <= row_upper`` and
``col_lower <= x <= col_upper``.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
import threading
from collections.abc import Iterator

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike

try:  # SciPy's vendored HiGHS (private module, SciPy >= 1.15)
    from scipy.optimize._highspy import _core as _hc
except ImportError as exc:  # pragma: no cover - depends on the installed SciPy
    raise ImportError("matchmaker needs SciPy >= 1.15 (its vendored HiGHS solver object); "
                      "upgrade with `pip install -U scipy`") from exc

INF = float(_hc.kHighsInf)

#: The C library, to flush C's stdout buffer before file descriptor 1 is given back.
_LIBC = ctypes.CDLL(None)
_QUIET_LOCK = threading.Lock()
_quiet = {"depth": 0, "saved": -1}


def _flush_c_stdout() -> None:
    try:
        _LIBC.fflush(None)
    except (AttributeError, OSError):  # pragma: no cover - no C library by that name
        pass


@contextlib.contextmanager
def quiet_c_stdout() -> Iterator[None]:
    """Send what C code writes to file descriptor 1 (stdout) to /dev/null meanwhile.

    HiGHS's MIP solver prints debug lines with ``printf`` whatever its options say
    (``HighsMipSolverData::transformNewIntegerFeasibleSolution tmpSolver.run();``). In a
    Jupyter kernel, ``sys.stdout.fileno()`` is a copy of the terminal, not descriptor 1
    (which the kernel reads into the cell), so descriptor 1 itself is redirected. Nested
    and concurrent uses (threads) share one redirection: the first saves descriptor 1,
    the last restores it. Python's own ``print`` still works in a kernel (it does not
    write to descriptor 1 there); in a terminal, lines printed meanwhile are lost, so keep
    the block to the solver call.
    """
    try:
        fd = 1
        os.fstat(fd)
    except OSError:  # no descriptor 1 (a service without stdout): nothing to silence
        yield
        return
    with _QUIET_LOCK:
        if _quiet["depth"] == 0:
            for stream in (sys.stdout, sys.__stdout__):
                with contextlib.suppress(AttributeError, OSError, ValueError):
                    stream.flush()
            _flush_c_stdout()
            _quiet["saved"] = os.dup(fd)
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, fd)
            os.close(devnull)
        _quiet["depth"] += 1
    try:
        yield
    finally:
        with _QUIET_LOCK:
            _quiet["depth"] -= 1
            if _quiet["depth"] == 0:
                _flush_c_stdout()
                os.dup2(_quiet["saved"], fd)
                os.close(_quiet["saved"])
                _quiet["saved"] = -1


def highs_version() -> str:
    """Version of SciPy's vendored HiGHS."""
    h = _hc._Highs()
    return f"{h.versionMajor()}.{h.versionMinor()}.{h.versionPatch()}"


class Highs:
    """One HiGHS model: build, extend, solve, read back.

    Parameters
    ----------
    seed : int
        HiGHS ``random_seed``.
    mip_rel_gap : float
        Relative MIP gap at which HiGHS stops (0: prove optimality).
    """

    def __init__(self, seed: int = 0, mip_rel_gap: float = 0.0):
        self.h = _hc._Highs()
        self.h.setOptionValue("output_flag", False)  # no log at all (also log_to_console)
        self.h.setOptionValue("log_to_console", False)
        self.h.setOptionValue("random_seed", int(seed))
        self.h.setOptionValue("mip_rel_gap", float(mip_rel_gap))
        self.n_cols = 0
        self.n_rows = 0

    def load(self, c: ArrayLike, A: sp.spmatrix | np.ndarray, row_upper: ArrayLike, col_upper: ArrayLike,
             integer: bool = False, row_lower: ArrayLike | None = None, col_lower: ArrayLike | None = None) -> None:
        """Pass a whole model (``A`` sparse, rows x cols)."""
        A = sp.csc_matrix(A)
        m, n = A.shape
        lp = _hc.HighsLp()
        lp.num_col_, lp.num_row_ = n, m
        lp.col_cost_ = np.asarray(c, dtype=float)
        lp.col_lower_ = np.zeros(n) if col_lower is None else np.asarray(col_lower, dtype=float)
        lp.col_upper_ = np.asarray(col_upper, dtype=float)
        lp.row_lower_ = np.full(m, -INF) if row_lower is None else np.asarray(row_lower, dtype=float)
        lp.row_upper_ = np.asarray(row_upper, dtype=float)
        lp.a_matrix_.format_ = _hc.MatrixFormat.kColwise
        lp.a_matrix_.start_ = A.indptr.astype(np.int32)
        lp.a_matrix_.index_ = A.indices.astype(np.int32)
        lp.a_matrix_.value_ = A.data.astype(float)
        if integer:
            lp.integrality_ = [_hc.HighsVarType.kInteger] * n
        self._check(self.h.passModel(lp), "passModel")
        self.n_cols, self.n_rows = n, m

    def add_cols(self, c: ArrayLike, col_upper: ArrayLike, A_cols: sp.spmatrix | np.ndarray) -> None:
        """Append columns (``A_cols``: existing rows x new columns)."""
        A = sp.csc_matrix(A_cols)
        k = A.shape[1]
        if k == 0:
            return
        self._check(self.h.addCols(k, np.asarray(c, float), np.zeros(k), np.asarray(col_upper, float), A.nnz,
                                   A.indptr[:-1].astype(np.int32), A.indices.astype(np.int32), A.data.astype(float)),
                    "addCols")
        self.n_cols += k

    def add_rows(self, row_upper: ArrayLike, A_rows: sp.spmatrix | np.ndarray) -> None:
        """Append rows ``A_rows x <= row_upper`` (``A_rows``: new rows x existing columns)."""
        A = sp.csr_matrix(A_rows)
        k = A.shape[0]
        if k == 0:
            return
        self._check(self.h.addRows(k, np.full(k, -INF), np.asarray(row_upper, float), A.nnz,
                                   A.indptr[:-1].astype(np.int32), A.indices.astype(np.int32), A.data.astype(float)),
                    "addRows")
        self.n_rows += k

    def set_start(self, x: ArrayLike) -> None:
        """A MIP start (complete column values)."""
        sol = _hc.HighsSolution()
        sol.col_value = list(np.asarray(x, dtype=float))
        sol.value_valid = True
        self._check(self.h.setSolution(sol), "setSolution")

    def solve(self, time_limit: float | None = None, node_limit: int | None = None) -> str:
        """Run HiGHS; returns ``"optimal"``, ``"time_limit"``, ``"node_limit"``,
        ``"infeasible"`` or another status text.

        ``node_limit`` (MIP only) is a deterministic limit; ``time_limit`` (seconds) is not.
        """
        self.h.setOptionValue("time_limit", float(time_limit) if time_limit is not None else INF)
        self.h.setOptionValue("mip_max_nodes", int(min(node_limit, 2**31 - 1)) if node_limit is not None
                              else 2**31 - 1)
        with quiet_c_stdout():  # HiGHS's MIP prints debug lines whatever output_flag says
            self.h.run()
        st = self.h.getModelStatus()
        if st == _hc.HighsModelStatus.kOptimal:
            return "optimal"
        if st == _hc.HighsModelStatus.kTimeLimit:
            return "time_limit"
        if st == _hc.HighsModelStatus.kSolutionLimit:  # HiGHS reports mip_max_nodes as a solution limit
            return "node_limit"
        if st == _hc.HighsModelStatus.kInfeasible:
            return "infeasible"
        return self.h.modelStatusToString(st)

    def x(self) -> np.ndarray:
        """Column values of the last solution."""
        return np.asarray(self.h.getSolution().col_value, dtype=float)

    def has_solution(self) -> bool:
        """The last run found a feasible solution."""
        return bool(self.h.getInfo().primal_solution_status == _hc.kSolutionStatusFeasible)

    def row_duals(self) -> np.ndarray:
        """Row duals of an LP, HiGHS convention (<= 0 for a binding upper bound when minimising)."""
        return np.asarray(self.h.getSolution().row_dual, dtype=float)

    def objective(self) -> float:
        """Objective value of the last solution (minimised)."""
        return float(self.h.getInfo().objective_function_value)

    def nonzeros(self) -> int:
        """Nonzeros of the constraint matrix."""
        return int(self.h.getNumNz())

    def simplex_iterations(self) -> int:
        """Simplex iterations of the last run (all nodes for a MIP)."""
        return int(self.h.getInfo().simplex_iteration_count)

    def mip_nodes(self) -> int:
        """Branch-and-bound nodes of the last MIP run (0 when it ended at the root)."""
        return max(0, int(self.h.getInfo().mip_node_count))

    def mip_dual_bound(self) -> float:
        """Dual (lower) bound of the last MIP run."""
        return float(self.h.getInfo().mip_dual_bound)

    @staticmethod
    def _check(status, what: str) -> None:
        if status == _hc.HighsStatus.kError:
            raise RuntimeError(f"HiGHS {what} failed")
