"""What the notebooks call: load and check a round, set its settings, solve it with a
live progress bar, show its summary and figures, review its proposals.

The notebooks in ``notebooks/`` stay thin: each cell calls one function here and shows
the result. The widgets live in :mod:`matchmaker.ui.settings_panel` (settings built from the
defaults file), :mod:`matchmaker.ui.progress` (solver progress) and
:mod:`matchmaker.ui.review` (a partnership's review panel); the tables and figures in
:mod:`matchmaker.report.tables` and :mod:`matchmaker.report.plots`.

Everything works headless too (papermill, nbclient): objects here render as HTML or
text, and nothing needs a browser to run.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from IPython.display import HTML, Image, display
from matplotlib.figure import Figure
from pandas.io.formats.style import Styler

from matchmaker.common.errors import OutputSetError, Problem, RoundDataError, SettingsError
from matchmaker.common.locations import default_ledger_url, out_folder
from matchmaker.constraints import registration_refusals
from matchmaker.inputs.instance import Round
from matchmaker.inputs.loading import load_round
from matchmaker.ledger.carry_over import run_next_round
from matchmaker.ledger.store import Ledger, LedgerError
from matchmaker.ledger.workflow import NoLedgerYet
from matchmaker.ledger.workflow import open_ledger as open_round_ledger
from matchmaker.proposals.solution import Solution, read_solution
from matchmaker.report import plots
from matchmaker.report import tables as T
from matchmaker.report.html import write_report as write_html_report
from matchmaker.run import run_round
from matchmaker.ui.picker import RoundPicker
from matchmaker.ui.progress import SolveProgress, format_progress
from matchmaker.ui.review import ReviewPanel, search_pairs
from matchmaker.ui.settings_panel import SettingsPanel, settings_help
from matchmaker.ui.wording import (
    decisions_table,
    download_html,
    headline_html,
    proof_html,
    readable,
    reproducibility_html,
    rounds_table,
    summary_value,
)

__all__ = ["RoundCheck", "RoundRun", "RoundPicker", "SettingsPanel", "SolveProgress", "ReviewPanel", "NotUsable",
           "settings_help", "format_progress", "search_pairs", "validate_round", "solve_round", "round_figures",
           "show", "show_figures", "show_results", "load_output", "open_ledger", "tables_of", "table", "readable",
           "rounds_table", "decisions_table", "headline", "reproducibility_note", "out_folder", "write_report"]


class NotUsable(Exception):
    """The notebook cannot go on (the round's files are not usable, the round was not solved).

    Shown in the cell as its message alone, without a traceback (IPython's
    ``_render_traceback_``); "Run All" stops at it.
    """

    def _render_traceback_(self) -> list[str]:
        return [str(self)]


def show(obj: Any) -> None:
    """Display ``obj`` in the notebook: a matplotlib figure as a PNG, anything else as is."""
    if isinstance(obj, Figure):
        display(Image(data=plots.figure_png(obj), format="png"))
    else:
        display(obj)


def table(df: pd.DataFrame, index: bool = False) -> Styler:
    """A DataFrame styled for reading: text left-aligned, numbers with at most 2 decimals."""
    text_cols = [c for c in df.columns if not pd.api.types.is_numeric_dtype(df[c])]
    styler = df.style.set_properties(subset=text_cols, **{"text-align": "left"})
    styler = styler.set_table_styles([{"selector": "th", "props": [("text-align", "left")]}])
    styler = styler.format(precision=2, thousands=",", na_rep="", escape="html")
    return styler if index else styler.hide(axis="index")


def _problems_html(problems: list[Problem]) -> str:
    if not problems:
        return ""
    rows = "".join(f"<tr><td>{html.escape(p.severity)}</td><td>{html.escape(p.file)}</td>"
                   f"<td>{'' if p.row is None else p.row}</td><td>{html.escape(p.column or '')}</td>"
                   f"<td>{html.escape(p.value)}</td><td>{html.escape(p.rule)}</td></tr>" for p in problems)
    return ("<table><tr><th>severity</th><th>file</th><th>row</th><th>column</th><th>value</th><th>rule</th></tr>"
            + rows + "</table>")


@dataclass
class RoundCheck:
    """The outcome of loading and checking a round's files.

    Attributes
    ----------
    round_dir : Path
    round : Round or None
        ``None`` when the files have errors.
    problems : list of Problem
        Errors (round unusable) and warnings, each naming file, row, column, value, rule.
    refused : DataFrame
        Registrations that cannot take part in any exchange by themselves, and why
        (:func:`matchmaker.constraints.registration_refusals`).
    """

    round_dir: Path
    round: Round | None
    problems: list[Problem] = field(default_factory=list)
    refused: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def ok(self) -> bool:
        """True when the round is usable."""
        return self.round is not None

    def require(self) -> Round:
        """The usable :class:`~matchmaker.inputs.instance.Round`.

        Raises :class:`NotUsable` (shown as one sentence, the problems being listed above
        by the check itself) when the round is unusable.
        """
        if self.round is None:
            errors = sum(p.severity == "error" for p in self.problems)
            raise NotUsable(f"The round in {self.round_dir} is not usable ({errors} problem(s) listed above): "
                            "fix its files and run the notebook again.")
        return self.round

    def _repr_html_(self) -> str:
        errors = [p for p in self.problems if p.severity == "error"]
        if not self.ok:
            return (f"<p style='color:#b00020'><b>{html.escape(str(self.round_dir))}: {len(errors)} error(s); "
                    "the round is not usable.</b> Fix the files and run this cell again.</p>"
                    + _problems_html(self.problems))
        r = self.round
        out = (f"<p style='color:#2e7d32'><b>{html.escape(str(self.round_dir))}: usable round</b>: "
               f"{r.n_visitors} visitors, {r.n_hosts} hosts, {len(r.partnerships)} partnerships, "
               f"{len(r.decisions)} decisions (locks and forbids).</p>")
        if self.problems:
            out += f"<p>{len(self.problems)} warning(s):</p>" + _problems_html(self.problems)
        if len(self.refused):
            out += (f"<p><b>{self.refused[['role', 'org_id']].drop_duplicates().shape[0]} registration(s) "
                    "cannot take part in any exchange</b> (they stay in the round; every pair with them is "
                    "refused):</p>" + table(readable(self.refused)).to_html())
        else:
            out += "<p>Every registration can take part in at least one exchange by itself.</p>"
        return out

    def __repr__(self) -> str:
        if not self.ok:
            return f"{self.round_dir}: the round is not usable\n" + "\n".join(str(p) for p in self.problems)
        text = f"{self.round_dir}: usable round: {self.round.n_visitors} visitors, {self.round.n_hosts} hosts"
        if len(self.refused):
            text += f"\nrefused registrations:\n{self.refused.to_string(index=False)}"
        return text


def validate_round(round_dir: str | Path, settings_file: str | Path | None = None,
                   overrides: dict | None = None) -> RoundCheck:
    """Load and check a round; never raises on bad files (their problems are in the result).

    A :class:`~matchmaker.common.errors.SettingsError` in ``overrides`` is reported as a problem
    of the file ``settings`` too.
    """
    round_dir = Path(round_dir)
    try:
        rnd = load_round(round_dir, settings_file=settings_file, overrides=overrides)
    except RoundDataError as exc:
        return RoundCheck(round_dir, None, list(exc.problems))
    except SettingsError as exc:
        return RoundCheck(round_dir, None, [Problem("settings", None, None, "", str(exc))])
    return RoundCheck(round_dir, rnd, list(rnd.warnings), registration_refusals(rnd))


@dataclass
class RoundRun:
    """A solved round: where its files are, its exit code, its ledger round id, what happened.

    ``exit_code`` 0: solved; 1: solved with no usable proposals or refused by the ledger;
    2: not started (invalid settings, unusable files, an output folder that cannot be used).
    """

    out_dir: Path
    exit_code: int
    round_id: int | None = None
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and (self.out_dir / "proposals.csv").is_file()

    def summary(self) -> dict:
        path = self.out_dir / "summary.json"
        try:
            return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        except (OSError, ValueError):
            return {}

    def _repr_html_(self) -> str:
        if not self.ok:
            what = "did not start" if self.exit_code == 2 else "was not solved"
            return (f"<p class='mm-run' style='color:#b00020'><b>The round {what}.</b> "
                    f"{html.escape(self.message)}</p>")
        sol = read_solution(self.out_dir)
        rid = f", recorded as round <b>{self.round_id}</b> in the ledger" if self.round_id is not None else ""
        lines = "".join(f"<li>{html.escape(t)}</li>" for t in self.message.splitlines() if t.strip())
        return (f"<p class='mm-run'><b>Solved</b>: files in <code>{html.escape(str(self.out_dir))}</code>{rid}.</p>"
                + headline_html(T.headline(sol.proposals, sol.unmatched, sol.summary))
                + proof_html(sol.summary) + reproducibility_html(sol.summary) + (f"<ul>{lines}</ul>" if lines else ""))

    def __repr__(self) -> str:
        if not self.ok:
            return f"The round was not solved. {self.message}"
        rid = f", recorded as round {self.round_id} in the ledger" if self.round_id is not None else ""
        return f"Solved: files in {self.out_dir}{rid}."


def _settings_of(settings: SettingsPanel | dict | None) -> dict | None:
    """The overrides of a settings panel (checked: raises SettingsError), or the dict given."""
    if isinstance(settings, SettingsPanel):
        return settings.valid_overrides()
    return settings


def solve_round(round_dir: str | Path, out_dir: str | Path, *, overrides: SettingsPanel | dict | None = None,
                ledger_url: str | None = None, record: bool = True, time_limit: float | None = None,
                seed: int | None = None, progress: Callable[[dict], None] | None = None,
                name: str | None = None) -> RoundRun:
    """Solve a round as the Support Office does from notebook 01; never raises for the user's errors.

    With ``record`` (default) the round is solved around the ledger's decisions and
    recorded in it (:func:`matchmaker.ledger.carry_over.run_next_round`, the same as
    ``matchmaker round``); otherwise it is only solved (``matchmaker solve``). Invalid
    settings, unusable files, a ledger or an output folder that refuses: the result says
    why (exit code 2, nothing started) and ``progress`` shows that the solve did not start.

    Parameters
    ----------
    round_dir, out_dir : path-like
    overrides : SettingsPanel or dict, optional
        The settings panel (its values are checked first) or a nested dict of settings.
    ledger_url : str, optional
        Default :func:`matchmaker.common.locations.default_ledger_url` (beside the round).
    record : bool
    time_limit, seed : optional
        Solver seconds and seed (default: the settings).
    progress : callable, optional
        A :class:`SolveProgress` (or any callable taking the solver's progress dicts).
    name : str, optional
        Name of the recorded round.
    """
    out = Path(out_dir)
    try:
        settings = _settings_of(overrides)
        if record:
            result = run_next_round(round_dir, out, ledger_url=ledger_url, name=name, time_limit=time_limit,
                                    seed=seed, overrides=settings, verbose=False, progress=progress)
            run = RoundRun(out, result.exit_code, result.round_id, result.describe())
        else:
            rnd = load_round(round_dir, overrides=settings)
            code = run_round(rnd, out, time_limit=time_limit, seed=seed, verbose=False, progress=progress)
            run = RoundRun(out, int(code or 0))
    except RoundDataError as exc:
        run = RoundRun(out, 2, message="The round's files are not usable: "
                       + "; ".join(str(p) for p in exc.problems))
    except SettingsError as exc:
        run = RoundRun(out, 2, message=f"The settings are not valid: {exc}. Correct them above and run this "
                                       "cell again.")
    except (LedgerError, OutputSetError) as exc:
        run = RoundRun(out, 2, message=str(exc))
    if isinstance(progress, SolveProgress):
        if run.exit_code == 2:
            progress.not_started(run.message)
        else:
            status = summary_value(run.summary(), "status") or ("done" if run.ok else "failed")
            progress.finish(str(status))
    return run


def show_results(run: RoundRun, rnd: Round, names: Iterable[str] = ("budget", "scores", "flows", "map")) -> None:
    """The solved round's figures, or a sentence saying there are none (and why)."""
    if not run.ok:
        display(HTML("<p style='color:#b00020'>No figures: the round was not solved (see above).</p>"))
        return
    show_figures(round_figures(run.out_dir, rnd), names)


def headline(out_dir: str | Path) -> HTML:
    """A solved round's figures as a small table, with its proof and reproducibility notes."""
    sol = read_solution(Path(out_dir))
    return HTML(headline_html(T.headline(sol.proposals, sol.unmatched, sol.summary))
                + proof_html(sol.summary) + reproducibility_html(sol.summary))


def reproducibility_note(out_dir: str | Path) -> HTML:
    """Whether the solved round can be repeated exactly (its ``summary.json``), in a sentence."""
    return HTML(reproducibility_html(read_solution(Path(out_dir)).summary))


def load_output(out_dir: str | Path) -> Solution:
    """The tables of a solved round (:class:`matchmaker.proposals.solution.Solution`).

    Raises :class:`~matchmaker.common.errors.OutputSetError` (naming the file, and saying to
    run the round again) when the folder holds a failed run, or files that do not match
    its ``summary.json`` (:mod:`matchmaker.proposals.output_set`).
    """
    return read_solution(Path(out_dir))


def round_figures(out_dir: str | Path, rnd: Round) -> dict[str, Figure]:
    """The report's figures of a solved round: ``budget, scores, flows, map, unmatched``.

    Budgets and earlier commitments come from the round's summary when it was carried
    over (:func:`matchmaker.report.tables.round_budget_use`), else from ``rnd.partnerships``.
    """
    sol = read_solution(Path(out_dir))
    return {
        "budget": plots.budget_figure(T.round_budget_use(sol.summary, sol.proposals, rnd)),
        "scores": plots.score_figure(sol.proposals),
        "flows": plots.flows_figure(T.country_flows(sol.proposals)),
        "map": plots.map_figure(T.exchange_segments(sol.proposals, rnd.visitors, rnd.hosts)),
        "unmatched": plots.unmatched_figure(T.unmatched_reasons(sol.unmatched)),
    }


def open_ledger(round_dir: str | Path, ledger_url: str | None = None) -> Ledger:
    """The ledger at ``ledger_url``, default the SQLite ledger beside the round's files
    (:func:`matchmaker.common.locations.default_ledger_url`).

    Raises :class:`NotUsable` (one sentence, no traceback) when the round folder does not
    exist or the ledger holds no round yet.
    """
    if not ledger_url and not Path(round_dir).is_dir():
        raise NotUsable(f"There is no round folder {round_dir}: choose another one above.")
    no_round = (f"No round has been solved for {round_dir} yet: run notebook 01 (or `matchmaker solve {round_dir} "
                "--out OUT`) first, then run this notebook again.")
    try:  # a ledger that does not exist yet is not created (an empty ledger.sqlite used to be left behind)
        ledger = open_round_ledger(round_dir, ledger_url or default_ledger_url(round_dir))
    except NoLedgerYet:
        raise NotUsable(no_round) from None
    except LedgerError as exc:
        raise NotUsable(f"The ledger cannot be opened: {exc}") from None
    if not len(ledger.rounds()):
        ledger.close()
        raise NotUsable(no_round)
    return ledger


def tables_of(out_dir: str | Path, rnd: Round) -> dict[str, Any]:
    """The report's tables of a solved round, for people: ``headline`` (a small HTML table
    with the reproducibility note), ``budget`` (budget used in percent), ``scores``,
    ``flows``, ``reasons`` (unmatched visitors per reason, in words) and ``unmatched``
    (countries by name) as DataFrames (:func:`matchmaker.ui.wording.readable`)."""
    sol = read_solution(Path(out_dir))
    return {
        "headline": HTML(headline_html(T.headline(sol.proposals, sol.unmatched, sol.summary))
                         + proof_html(sol.summary) + reproducibility_html(sol.summary)),
        "budget": T.budget_words(T.round_budget_use(sol.summary, sol.proposals, rnd)),
        "scores": readable(T.score_summary(sol.proposals).reset_index()),
        "flows": T.country_flows(sol.proposals),
        "reasons": readable(T.unmatched_reasons(sol.unmatched)),
        "unmatched": readable(sol.unmatched, rnd.countries),
    }


def show_figures(figures: dict[str, Figure], names: Iterable[str] | None = None) -> None:
    """Display some (default all) of :func:`round_figures`."""
    for name in names or list(figures):
        show(figures[name])


def write_report(out_dir: str | Path, report_file: str | Path, rnd: Round) -> HTML:
    """Write the round's HTML report to ``report_file``; a sentence with a link to download it."""
    path = write_html_report(Path(out_dir), Path(report_file), rnd=rnd)
    return HTML(f"<p>The report is written to <code>{html.escape(str(path))}</code>. "
                f"{download_html([path])}</p>")
