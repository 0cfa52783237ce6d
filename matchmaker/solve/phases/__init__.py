"""The solver's phases, in the order :func:`matchmaker.solver.solve` runs them.

Each phase is a small class with a ``name`` and a ``run(state)`` method (the :class:`Phase`
interface of :mod:`matchmaker.solve.phases.state`); it reads and updates the shared
:class:`~matchmaker.solve.phases.state.SolveState` and may end the solve. Adding a phase
means writing one class and adding it to :data:`PHASES`.

``locks``, ``flow``, ``lp``, ``repair``
    :mod:`matchmaker.solve.phases.opening`: first solutions and bounds.
``lagrangian``, ``support-mip``
    :mod:`matchmaker.solve.phases.lagrangian`: a tighter bound where budgets bind, and a
    better incumbent from its master's pairs.
``branch-and-price``
    :mod:`matchmaker.solve.phases.branch_price`: the exact search (a share of the work in
    the default mode where a budget binds; until proven in prove mode).
``mip``, ``cpsat``
    :mod:`matchmaker.solve.phases.restricted`: restricted models by reduced-cost fixing,
    which can prove the optimum.
``more-work``
    :mod:`matchmaker.solve.phases.extension` (:data:`EXTENSION`, run after the others even
    when one ended the solve for want of work): the work beyond the base, in whole steps
    from the incumbent, so that more work never gives a worse objective.
"""

from __future__ import annotations

from matchmaker.solve.phases.branch_price import BranchPrice
from matchmaker.solve.phases.extension import Extension
from matchmaker.solve.phases.lagrangian import Lagrangian, SupportMip
from matchmaker.solve.phases.opening import Flow, Locks, Relaxation, Repair
from matchmaker.solve.phases.restricted import CpSat, MipRounds
from matchmaker.solve.phases.state import Phase, Progress, SolveState

#: The phases in order.
PHASES: tuple[Phase, ...] = (Locks(), Flow(), Relaxation(), Repair(), Lagrangian(), SupportMip(), BranchPrice(),
                               MipRounds(), CpSat())

#: The work beyond the base (after :data:`PHASES`).
EXTENSION: Phase = Extension()

__all__ = ["EXTENSION", "PHASES", "Phase", "Progress", "SolveState"]
