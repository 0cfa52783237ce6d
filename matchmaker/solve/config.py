"""The solver's configuration: one frozen, checked record handed from the boundary to every phase.

A run's limits and tunables arrive from the settings (``[solver]`` of ``settings.toml``) and
from the command line or a caller (``--time-limit``, ``--work-limit``, ``--seed``).
:meth:`SolveConfig.from_settings` merges them and checks each value once, naming the
setting or option at fault; :func:`matchmaker.solver.solve` and each of its phases
(:mod:`matchmaker.solve.phases`) then only read the record.

The default limits are computed here and nowhere else (docs/decisions.md §34). The *work*
limit is the real one: by default :data:`DEFAULT_WORK` units (about 45 s of the reference
machine). The time limit is derived from it (:func:`derived_time_limit`: eight times the
work plus half a minute), a safety net far enough away that a machine three times slower,
or one busy with other jobs, still ends by the work limit and gives the same proposals.
Only a time limit given without a work limit works the other way round, as before: the
work is then :data:`DEFAULT_WORK_SHARE` of it. A :class:`SolveConfig` carries the resolved
work limit, and :meth:`SolveConfig.within` keeps it when it shortens the clock.

More work never gives a worse objective: the phases spend the first :attr:`SolveConfig.base_work`
units exactly as a run with that work limit would, and only then the rest, in whole steps of
:attr:`SolveConfig.extension_step` units from the incumbent
(:mod:`matchmaker.solve.phases.extension`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from numbers import Integral, Real

from matchmaker.common.errors import SettingsError

#: Work units of a run when neither a work limit nor a time limit is set.
DEFAULT_WORK = 45.0
#: Share of the time limit given as work when only a time limit is set.
DEFAULT_WORK_SHARE = 0.75
#: Seconds of wall clock per work unit allowed by the derived time limit ...
SECONDS_PER_WORK = 8.0
#: ... plus this margin (seconds) for reading the round and building its pairs.
TIME_MARGIN = 30.0
#: Work spent by the phases as one run of this size; beyond it, only whole extension steps.
BASE_WORK = DEFAULT_WORK
#: Work units of one extension step (a restricted MIP or CP-SAT from the incumbent).
EXTENSION_STEP = 15.0
#: Largest restricted CP-SAT model (pairs); the filter threshold is tightened to fit.
MAX_RESTRICTED_PAIRS = 3_000


def derived_time_limit(work_limit: float) -> float:
    """The time limit of a run given only its work: ``8 x work + 30`` seconds.

    A run spends about one second per work unit on the reference machine, up to about 1.5
    when a MIP root costs more than estimated; so a machine three times slower (or sharing
    its cores with other jobs) still ends by the work limit, well before this safety net.
    """
    return SECONDS_PER_WORK * float(work_limit) + TIME_MARGIN


def _positive(name: str, value: object, unit: str) -> float:
    """``value`` as a float, if it is a finite number > 0; else a :class:`SettingsError` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, Real) or not (math.isfinite(value) and value > 0):
        raise SettingsError(f"{name} must be a finite number > 0 {unit}, got {value!r}")
    return float(value)


def _share(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not 0 <= value <= 1:
        raise SettingsError(f"{name} must be a share between 0 and 1, got {value!r}")
    return float(value)


def _count(name: str, value: object, least: int) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < least:
        raise SettingsError(f"{name} must be an integer >= {least}, got {value!r}")
    return int(value)


def _integer(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise SettingsError(f"{name} must be an integer, got {value!r}")
    return int(value)


def _gap(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not 0 <= value < 1:
        raise SettingsError(f"{name} must be in [0, 1), got {value!r}")
    return float(value)


def _flag(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise SettingsError(f"{name} must be true or false, got {value!r}")
    return value


def _unset(value: object) -> bool:
    """A number 0 (a limit left to its default)."""
    return isinstance(value, Real) and not isinstance(value, bool) and value == 0


def _work(name: str, value: object) -> float | None:
    """A work limit as the settings and the command line give it: 0 means the default (``None``)."""
    if _unset(value):
        return None
    return _positive(name, value, "work units (or 0: the default)")


def _pick(solver: Mapping, key: str, given: object, option: str) -> tuple[str, object]:
    """The name to blame for a bad value, and the value: the override if given, else the setting."""
    if given is None:
        return f"solver.{key}", solver[key]
    return f"{option.lstrip('-').replace('-', '_')} ({option})", given


@dataclass(frozen=True)
class SolveConfig:
    """Limits and tunables of one solve, checked when built.

    Attributes
    ----------
    time_limit : float or None
        Wall-clock seconds for the solve, a hard stop and safety net (``None``: until proven).
    work_limit : float or None
        Work units for the whole solve (:mod:`matchmaker.solve.effort`; one is about a second
        of the reference machine), the deterministic limit that the phases share. Left
        unset, it becomes :data:`DEFAULT_WORK_SHARE` of ``time_limit`` (unlimited without one).
    base_work : float
        The phases spend ``min(work_limit, base_work)`` as a run of that work limit would;
        the rest goes to whole extension steps, so more work never gives a worse objective.
    extension_step : float
        Work units of one extension step (only whole steps are taken).
    seed : int
        HiGHS and CP-SAT random seed; the same problem, settings, seed and work limit
        give the same proposals unless the time limit stops a phase first.
    target_gap : float
        Stop as soon as the certified relative gap is at most this (0: prove optimality).
    workers : int
        CP-SAT search workers.
    lp_share : float
        Share of the remaining work for the LP relaxation.
    lagrangian_share : float
        Share of the remaining work the Lagrangian phase may use (0: skip it); see
        :mod:`matchmaker.solve.phases.lagrangian` for when it runs.
    support_share : float
        Share of the remaining work for the MIP on the Lagrangian master's pairs.
    mip_share : float
        Share of the remaining work the first restricted MIP may use (later rounds: all).
    mip_pairs : int or None
        Pairs of the first restricted MIP (default ``max(2000, 2.5 x visitors)``); later
        rounds double it until every candidate is in. 0 skips the MIP phase (CP-SAT then proves).
    max_restricted_pairs : int
        Largest restricted CP-SAT model (pairs).
    branch_price_share : float
        Share of the work left that :mod:`matchmaker.solve.phases.branch_price` may spend in
        the default mode (0 skips it; prove mode gives it all the work it needs).
    cpsat_share : float
        Share of the remaining work for the restricted CP-SAT model.
    prove : bool
        Prove mode (``--prove``): after the other phases, the ``branch-and-price`` phase searches
        without a work limit until the round is proven optimal (only a time limit stops it).

    Raises
    ------
    SettingsError
        A value out of range (the message names the field).
    """

    time_limit: float | None = None
    work_limit: float | None = None
    seed: int = 0
    target_gap: float = 0.0
    workers: int = 2
    lp_share: float = 0.4
    lagrangian_share: float = 0.3
    support_share: float = 0.4
    mip_share: float = 0.6
    mip_pairs: int | None = None
    max_restricted_pairs: int = MAX_RESTRICTED_PAIRS
    cpsat_share: float = 0.9
    branch_price_share: float = 0.95
    base_work: float = BASE_WORK
    extension_step: float = EXTENSION_STEP
    prove: bool = False

    def __post_init__(self) -> None:
        checked = dict(
            time_limit=None if self.time_limit is None else _positive("time_limit", self.time_limit, "seconds"),
            work_limit=None if self.work_limit is None else _positive("work_limit", self.work_limit, "work units"),
            seed=_integer("seed", self.seed), target_gap=_gap("target_gap", self.target_gap),
            workers=_count("workers", self.workers, 1),
            mip_pairs=None if self.mip_pairs is None else _count("mip_pairs", self.mip_pairs, 0),
            max_restricted_pairs=_count("max_restricted_pairs", self.max_restricted_pairs, 1),
            base_work=_positive("base_work", self.base_work, "work units"),
            extension_step=_positive("extension_step", self.extension_step, "work units"),
            prove=_flag("prove", self.prove),
            **{name: _share(name, getattr(self, name))
               for name in ("lp_share", "lagrangian_share", "support_share", "mip_share", "cpsat_share",
                            "branch_price_share")})
        if checked["work_limit"] is None and checked["time_limit"] is not None:
            checked["work_limit"] = DEFAULT_WORK_SHARE * checked["time_limit"]
        for name, value in checked.items():
            object.__setattr__(self, name, value)

    @classmethod
    def from_settings(cls, solver: Mapping, *, time_limit: float | None = None, work_limit: float | None = None,
                      seed: int | None = None, prove: bool | None = None) -> SolveConfig:
        """The configuration of a run: the ``[solver]`` settings, overridden by the arguments given.

        The limits are resolved in the users' words of ``settings.toml``: with neither a time
        nor a work limit, the work is :data:`DEFAULT_WORK` units and the time limit
        :func:`derived_time_limit` of it; a work limit alone also gets the derived time
        limit; a time limit alone gets :data:`DEFAULT_WORK_SHARE` of it as work; both are
        taken as given.

        In prove mode (``prove``, else the setting ``solver.prove``) the work limit is
        resolved as if no time limit were given (so the phases run as in the default run),
        and the time limit is only the one set (``time_limit`` or ``solver.time_limit_s > 0``):
        none by default, the ``branch-and-price`` phase then searches until the round is proven optimal.

        Parameters
        ----------
        solver : mapping
            The ``solver`` table of the settings (``time_limit_s``, ``work_limit``, ``seed``,
            ``relative_gap``); ``time_limit_s = 0`` and ``work_limit = 0`` mean "not set".
        time_limit, work_limit, seed, prove : optional
            Overrides from the command line (``--time-limit``, ``--work-limit``, ``--seed``,
            ``--prove``) or a caller; ``solver.prove`` missing from ``solver`` means false.
            A time limit given here must be > 0; a work limit of 0 means "not set".

        Raises
        ------
        SettingsError
            A value out of range; the message names the setting or the option it came from.
        """
        if time_limit is None and _unset(solver["time_limit_s"]):
            time_limit = None
        else:
            time_limit = _positive(*_pick(solver, "time_limit_s", time_limit, "--time-limit"), "seconds")
        work_limit = _work(*_pick(solver, "work_limit", work_limit, "--work-limit"))
        prove = _flag(*(("solver.prove", solver.get("prove", False)) if prove is None else ("prove (--prove)", prove)))
        if work_limit is None and (time_limit is None or prove):
            work_limit = DEFAULT_WORK
        if time_limit is None and not prove:
            time_limit = derived_time_limit(work_limit)
        seed = _integer(*_pick(solver, "seed", seed, "--seed"))
        target_gap = _gap("solver.relative_gap", solver["relative_gap"])
        return cls(time_limit=time_limit, work_limit=work_limit, seed=seed, target_gap=target_gap, prove=prove)

    def within(self, seconds: float) -> SolveConfig:
        """The same configuration with ``seconds`` of wall clock; the work limit stays as resolved."""
        return replace(self, time_limit=seconds)

    @property
    def lock_check_dtime(self) -> float:
        """CP-SAT deterministic time for the exact scheduling of each host's locks (from the work limit)."""
        return 10.0 if self.work_limit is None else min(10.0, max(0.5, self.work_limit / 4))


def prove_config(config: SolveConfig, time_limit: float | None = None) -> SolveConfig:
    """The prove mode of ``config`` (``--prove``): the phases keep its resolved work limit
    (so they run as in the default mode), the ``branch-and-price`` phase then searches until
    proven; no time limit unless ``time_limit`` is given."""
    return replace(config, prove=True, time_limit=time_limit)
