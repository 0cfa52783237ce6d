"""A live progress display for the solver: its step, best solution, bound, gap, time.

:class:`SolveProgress` is the ``progress`` callback of
:func:`matchmaker.run.run_round` (and :func:`matchmaker.solver.solve`), which call it
with ``dict(phase, best, bound, gap, elapsed)`` after each phase and at each improving
solution. In JupyterLab it updates two ipywidgets bars (time used of the time limit,
and how much of the gap between the first bound and the best solution is closed) and a
line of figures (best and bound in score points, the step in words:
:func:`matchmaker.proposals.wording.phase_words`); with ``headless=True`` (papermill, a
terminal) it prints one line per phase instead. It keeps every report, as received, in
:attr:`SolveProgress.history`.
"""

from __future__ import annotations

import html
import threading
import time

import ipywidgets as W

from matchmaker.proposals.wording import phase_words, progress_repeats

#: Statuses of :meth:`SolveProgress.finish` shown as a success (green bar); any other, as a failure (red).
SUCCESS_STATUSES = ("optimal", "feasible", "recorded", "done", "ready to record")
#: Score points per objective unit: the solver counts in hundredths of a score point.
POINTS_PER_UNIT = 0.01


def _fmt(value, scale: float = POINTS_PER_UNIT) -> str:
    return "-" if value is None else f"{value * scale:,.2f}"


def format_progress(info: dict, scale: float = POINTS_PER_UNIT) -> str:
    """One line of text for a progress report: best and bound in score points, gap, then the
    solver's step in words (:func:`matchmaker.proposals.wording.phase_words`)."""
    gap = info.get("gap")
    gap_text = "-" if gap is None else f"{gap:.4%}"
    return (f"[{info.get('elapsed', 0.0):7.2f}s] best {_fmt(info.get('best'), scale)}  "
            f"bound {_fmt(info.get('bound'), scale)}  gap {gap_text}  ({phase_words(info.get('phase', '?'))})")


class SolveProgress:
    """Progress callback showing the solver's phase, best, bound and gap live.

    Parameters
    ----------
    time_limit : float, optional
        Seconds given to the solver (the time bar's full length); without it the time
        bar just shows elapsed seconds.
    headless : bool
        Print one line per report instead of updating widgets.
    scale : float
        Score points per objective unit (:data:`POINTS_PER_UNIT`: the solver reports
        hundredths of a score point); best and bound are shown in score points.

    Attributes
    ----------
    history : list of dict
        Every report received, in order.
    widget : ipywidgets.VBox
        The bars and the figures; CSS class ``mm-progress``.
    """

    def __init__(self, time_limit: float | None = None, headless: bool = False, scale: float = POINTS_PER_UNIT):
        if time_limit is not None and time_limit <= 0:
            raise ValueError(f"time_limit must be > 0 seconds, got {time_limit}")
        self.time_limit = time_limit
        self.headless = headless
        self.scale = scale
        self.history: list[dict] = []
        self._lock = threading.Lock()
        self._t0 = time.monotonic()
        self.time_bar = W.FloatProgress(value=0.0, min=0.0, max=1.0, description="time",
                                        bar_style="info", layout=W.Layout(width="420px"))
        self.gap_bar = W.FloatProgress(value=0.0, min=0.0, max=1.0, description="gap closed",
                                       bar_style="", layout=W.Layout(width="420px"))
        self.figures = W.HTML("<i>waiting for the solver...</i>")
        self.figures.add_class("mm-progress-figures")
        self.widget = W.VBox([self.time_bar, self.gap_bar, self.figures])
        self.widget.add_class("mm-progress")
        self._first_gap = None
        self._shown: dict | None = None  # the last report printed (headless)

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    def __call__(self, info: dict) -> None:
        with self._lock:
            info = dict(info)
            self.history.append(info)
            if self.headless and progress_repeats(info, self._shown):  # the same figures again: one line is enough
                return
            if self.headless:
                self._shown = info
                print(format_progress(info, self.scale), flush=True)
                return
            self._update(info)

    def _update(self, info: dict) -> None:
        elapsed = float(info.get("elapsed") or 0.0)
        if self.time_limit:
            self.time_bar.value = min(elapsed / self.time_limit, 1.0)
            self.time_bar.description = f"{elapsed:.0f}/{self.time_limit:.0f}s"
        else:
            self.time_bar.value = 1.0
            self.time_bar.description = f"{elapsed:.1f}s"
        gap = info.get("gap")
        if gap is not None:
            if self._first_gap is None or self._first_gap <= 0:
                self._first_gap = gap
            closed = 1.0 if self._first_gap <= 0 else 1.0 - min(gap / self._first_gap, 1.0)
            self.gap_bar.value = closed if gap > 0 else 1.0
            self.gap_bar.bar_style = "success" if gap == 0 else ""
        cells = [("step", phase_words(info.get("phase", "?"))), ("best", _fmt(info.get("best"), self.scale)),
                 ("bound", _fmt(info.get("bound"), self.scale)), ("gap", "-" if gap is None else f"{gap:.4%}"),
                 ("elapsed", f"{elapsed:.1f}s")]
        self.figures.value = " &nbsp; ".join(f"<b>{k}</b> {html.escape(str(v))}" for k, v in cells)

    def not_started(self, reason: str) -> None:
        """Show that the solve did not start, and why (for example invalid settings)."""
        if self.headless:
            print(f"the solve did not start: {reason}", flush=True)
            return
        self.time_bar.bar_style = "danger"
        self.time_bar.description = "not started"
        self.figures.value = (f"<span style='color:#b00020'><b>The solve did not start</b>: "
                              f"{html.escape(reason)}</span>")

    def reset(self, time_limit: float | None = None) -> None:
        """Empty the bars for a new solve (``time_limit``: its seconds, if they changed)."""
        with self._lock:
            self.time_limit = time_limit if time_limit is not None else self.time_limit
            self.history.clear()
            self._shown = None
            self._first_gap = None
            self.time_bar.value, self.time_bar.bar_style, self.time_bar.description = 0.0, "info", "time"
            self.gap_bar.value, self.gap_bar.bar_style = 0.0, ""
            self.figures.value = "<i>waiting for the solver...</i>"

    def finish(self, status: str, message: str = "") -> None:
        """Show the end of the solve (``status`` such as optimal / feasible / infeasible)."""
        if self.headless:
            print(f"solver finished: {status}" + (f" ({message})" if message else ""), flush=True)
            return
        self.time_bar.bar_style = "success" if status in SUCCESS_STATUSES else "danger"
        if status == "optimal":
            self.gap_bar.value = 1.0
            self.gap_bar.bar_style = "success"
        self.figures.value += f"<br><b>status</b> {html.escape(status)} {html.escape(message)}"
