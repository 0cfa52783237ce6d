"""The round report: one self-contained HTML file for people who never open a notebook.

:func:`build_report` reads a solved round's output directory (``proposals.csv``,
``unmatched.csv``, ``summary.json``) and the round's data (for budgets, organisations'
coordinates and refused registrations) and returns the HTML text: the headline figures,
the match quality (exchanges, scores, budget use and the spread across Partnerships,
countries and organisation types, in words: :mod:`matchmaker.quality.metrics`), budget used
per Partnership, score distributions, the flows between countries, a map of the exchanges,
the unmatched visitors and their reasons, the registrations refused, the exchange-building
funnel of the round's ledger (:mod:`matchmaker.report.funnel`) and the proposals
themselves. Plots are embedded as base64 PNG, styles are inline, so the file opens
anywhere, offline, and can be mailed. :func:`write_report` writes it (``matchmaker report OUTDIR``).

The sections are :data:`SECTION_BUILDERS`, in order: ``(id, heading, builder)``, where a
builder takes the :class:`ReportContext` and returns the section's body. A new section is one
more entry there (:data:`SECTIONS` follows).
"""

from __future__ import annotations

import base64
import html
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from matchmaker.constraints import registration_refusals
from matchmaker.inputs.instance import Round
from matchmaker.inputs.loading import load_round
from matchmaker.proposals.solution import SCORE_PREFIX, Solution, read_solution
from matchmaker.quality.metrics import round_budgets
from matchmaker.report import plots
from matchmaker.report import tables as T
from matchmaker.report.funnel import funnel_section

#: Columns of the proposals table in the report.
PROPOSAL_COLUMNS = ("partnership", "visitor_id", "visitor_name", "visitor_country", "visitor_country_name",
                    "host_id", "host_name", "host_country", "host_country_name", "host_partnership", "mode",
                    "start_date", "end_date", "working_days", "schedule", "distance_km", "lump_sum_eur", "score",
                    "locked")

STYLE = """
body { font-family: "DejaVu Sans", Arial, sans-serif; margin: 2em auto; max-width: 1200px; color: #222; }
h1 { border-bottom: 3px solid #1f77b4; padding-bottom: .2em; }
h2 { margin-top: 2em; border-bottom: 1px solid #ccc; }
nav a { margin-right: 1em; }
table { border-collapse: collapse; font-size: 12px; margin: .5em 0 1em; }
th, td { border: 1px solid #ddd; padding: 3px 7px; text-align: left; vertical-align: top; }
th { background: #f0f4f8; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td:first-child { white-space: nowrap; }
tr:nth-child(even) td { background: #fafafa; }
img { max-width: 100%; height: auto; }
.figures { display: flex; flex-wrap: wrap; gap: 1em; }
.kpi { display: inline-block; margin: 0 1.5em .8em 0; }
.kpi b { display: block; font-size: 1.6em; color: #1f77b4; }
.note { color: #555; font-size: 13px; }
.warn { color: #b00020; }
"""


def _esc(value) -> str:
    return html.escape("" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value))


def _img(fig, alt: str, dpi: int) -> str:
    data = base64.b64encode(plots.figure_png(fig, dpi=dpi)).decode("ascii")
    return f'<img alt="{_esc(alt)}" src="data:image/png;base64,{data}">'


def _decimals(col: pd.Series) -> int:
    """The decimals a numeric column needs (0, 1 or 2), so that its numbers line up (8,892.10 under 10,174.21)."""
    values = pd.to_numeric(col, errors="coerce").dropna().astype(float).round(2).to_numpy()
    for places in (0, 1):
        if np.allclose(values, np.round(values, places), rtol=0, atol=1e-9):
            return places
    return 2


def _table(df: pd.DataFrame, index: bool = False, css_class: str = "") -> str:
    """An escaped HTML table; numbers right-aligned, each column with the same decimals (2 at most)."""
    if index:
        df = df.reset_index()
    head = "".join(f"<th>{_esc(c)}</th>" for c in df.columns)
    numeric = [pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c]) for c in df.columns]
    places = [_decimals(df.iloc[:, i]) if is_num else 0 for i, is_num in enumerate(numeric)]
    rows = []
    for rec in df.itertuples(index=False):
        cells = []
        for value, is_num, dec in zip(rec, numeric, places):
            if is_num and value is not None and not pd.isna(value):
                text = f"{value:,.{dec}f}" if isinstance(value, float) else f"{value:,}"
                cells.append(f'<td class="num">{_esc(text)}</td>')
            else:
                cells.append(f"<td>{_esc(value)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    cls = f' class="{css_class}"' if css_class else ""
    return f"<table{cls}><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _section(key: str, heading: str, body: str) -> str:
    return f'<section id="{key}"><h2>{_esc(heading)}</h2>\n{body}\n</section>'


def budgets_of(summary: dict, rnd: Round) -> tuple[pd.Series, pd.Series | None]:
    """The budgets a round was solved against, and what earlier rounds had committed.

    A round run by :func:`matchmaker.ledger.carry_over.run_next_round` records in its summary
    each partnership's ``budget_eur`` and ``committed_eur``; otherwise the budgets are
    those of the round's ``partnerships.csv`` and nothing was committed before
    (:func:`matchmaker.quality.metrics.round_budgets`).
    """
    return round_budgets(rnd, summary)


@dataclass
class ReportContext:
    """What every section builder reads: the solved round's tables, the round, the report's options.

    Attributes
    ----------
    sol : Solution
        The output set (``proposals``, ``unmatched``, ``summary``).
    rnd : Round
        The round's data.
    source : str
        The round's folder, as the report names it.
    dpi : int
        Resolution of the embedded figures.
    budget : DataFrame
        :func:`matchmaker.report.tables.budget_use` against the budgets solved with.
    quality : dict
        The match quality (:func:`matchmaker.report.tables.quality_of`).
    """

    sol: Solution
    rnd: Round
    source: str
    dpi: int
    budget: pd.DataFrame = field(default_factory=pd.DataFrame)
    quality: dict = field(default_factory=dict)

    @property
    def props(self) -> pd.DataFrame:
        return self.sol.proposals

    @property
    def unmatched(self) -> pd.DataFrame:
        return self.sol.unmatched

    def img(self, fig: Figure, alt: str) -> str:
        """A figure as an embedded PNG."""
        return _img(fig, alt, self.dpi)


def _summary_body(ctx: ReportContext) -> str:
    summary, rnd = ctx.sol.summary, ctx.rnd
    kpis = T.headline_text(T.headline(ctx.props, ctx.unmatched, summary))
    body = "".join(f'<div class="kpi"><b>{_esc(v)}</b>{_esc(k)}</div>' for k, v in kpis)
    body += (f'<p class="note">Round data: {_esc(ctx.source)}; {rnd.n_visitors} visitors, {rnd.n_hosts} hosts, '
             f'{len(rnd.partnerships)} partnerships. Input hash <code>{_esc(rnd.input_hash[:16])}</code>.</p>')
    officer = summary.get("round") if isinstance(summary, dict) else None
    if isinstance(officer, dict):  # the officer's part of summary.json: the proof and reproducibility in words
        notes = [officer.get(k) for k in ("proof", "reproducible_note") if isinstance(officer.get(k), str)]
        body += "".join(f'<p class="note">{_esc(n[:1].upper() + n[1:])}.</p>' for n in notes)
    weights = rnd.settings.get("scoring", {}).get("weights", {})
    if weights:
        w = pd.DataFrame({"criterion": list(weights), "weight": list(weights.values())})
        body += "<p>Scoring weights of this round:</p>" + _table(w)
    carry = summary.get("carry_over") if isinstance(summary, dict) else None
    if isinstance(carry, dict):
        body += (f"<p>Carried over from the ledger: {len(carry.get('skipped_visitors', []))} visitor(s) skipped "
                 f"(exchange already accepted), {len(carry.get('locks_kept', []))} locked pair(s) kept, "
                 f"{carry.get('rejected_pairs_forbidden', 0)} rejected pair(s) never proposed again.</p>")
        for w in carry.get("warnings", []):
            body += f'<p class="warn">{_esc(w)}</p>'
    return body


def paragraph(text: str) -> str:
    """``text`` as an HTML paragraph, escaped, written as a sentence (empty for an empty text)."""
    return f"<p>{_esc(T.sentence(text))}</p>" if text else ""


def _extra_part(title: str, part: object) -> str:
    """A part of the match quality filled by another measure (``comparison``, ``stability``): its
    sentences (:func:`~matchmaker.report.tables.extra_sentences`) and tables in words."""
    if part is None:
        return ""
    body = f"<h3>{_esc(title)}</h3>"
    if isinstance(part, str):
        return body + paragraph(part)
    if isinstance(part, list):
        return body + (_table(pd.DataFrame(part)) if part else "<p>None.</p>")
    if isinstance(part, dict):
        texts = T.extra_sentences(part)
        body += paragraph(texts[0]) if texts else ""
        body += "".join(f'<p class="note">{_esc(t)}</p>' for t in texts[1:])
        for name, frame in T.extra_frames(part).items():
            body += f"<p>{_esc(name)}:</p>" + _table(frame)
    return body


def _quality_body(ctx: ReportContext) -> str:
    q = ctx.quality
    frames = T.quality_frames(q)
    body = _table(frames["headline"])
    body += "<h3>Budget use per Partnership</h3>" + paragraph(q["budget_use"]["summary"]) + _table(frames["budget"])
    body += ctx.img(plots.quality_figure(q), "share of visitors matched per group")
    body += f'<p class="note">{_esc(q.get("spread_note", ""))}.</p>'
    for key, part in q["spread"].items():
        body += (f"<h3>Spread across {_esc(part.get('groupings', part['grouping']))}</h3>" + paragraph(part["summary"])
                 + _table(frames[key]))
    body += "<h3>Visitors unmatched by reason</h3>" + (_table(frames["reasons"]) if len(frames["reasons"])
                                                        else "<p>Every visitor has a proposal.</p>")
    body += _extra_part("The same round matched other ways", q.get("comparison"))
    body += _extra_part("Stability: pairs that would rather be together", q.get("stability"))
    options = T.options_sentences(ctx.sol.summary)
    if options:
        body += "<h3>Stability and fairness options</h3>" + "".join(paragraph(t) for t in options)
    return body


def _budget_body(ctx: ReportContext) -> str:
    return ctx.img(plots.budget_figure(ctx.budget), "budget used per Partnership") + _table(T.budget_words(ctx.budget))


def _scores_body(ctx: ReportContext) -> str:
    scores = T.score_summary(ctx.props)
    return (ctx.img(plots.score_figure(ctx.props), "score distributions")
            + "<p>Scores per partnership (criteria in score points):</p>"
            + _table(scores.rename(columns=lambda c: c.removeprefix(SCORE_PREFIX)), index=True))


def _flows_body(ctx: ReportContext) -> str:
    flows = T.country_flows(ctx.props)
    busiest = flows.sum(axis=1).sort_values(ascending=False).head(5)
    flows_note = ", ".join(f"{c}: {n}" for c, n in busiest.items() if n)
    return (ctx.img(plots.flows_figure(flows), "flows between countries")
            + f'<p class="note">Countries sending most visitors: {_esc(flows_note or "none")}.</p>')


def _map_body(ctx: ReportContext) -> str:
    segments = T.exchange_segments(ctx.props, ctx.rnd.visitors, ctx.rnd.hosts)
    return ctx.img(plots.map_figure(segments), "map of the exchanges")


def _unmatched_body(ctx: ReportContext) -> str:
    unmatched = ctx.unmatched
    reasons = T.unmatched_reasons(unmatched)
    un_cols = [c for c in ("visitor_id", "visitor_name", "name", "visitor_country", "visitor_country_name", "country",
                           "partnership", "reason_code", "reason") if c in unmatched.columns]
    return (ctx.img(plots.unmatched_figure(reasons), "unmatched visitors by reason") + _table(reasons)
            + f"<p>All {len(unmatched)} visitors without a proposal:</p>" + _table(unmatched[un_cols]))


def _refused_body(ctx: ReportContext) -> str:
    refused = registration_refusals(ctx.rnd)
    refused_body = (_table(refused) if len(refused)
                    else "<p>Every registration can take part in at least one exchange by itself.</p>")
    return ('<p class="note">Registrations that cannot take part in any exchange '
            "by themselves (they stay in the round; every pair with them is refused).</p>" + refused_body)


def _exchanges_body(ctx: ReportContext) -> str:
    return funnel_section(ctx.rnd.source)


def _proposals_body(ctx: ReportContext) -> str:
    cols = [c for c in PROPOSAL_COLUMNS if c in ctx.props.columns]
    ordered = ctx.props.sort_values(["partnership", "score"], ascending=[True, False])[cols]
    return _table(ordered, css_class="proposals")


#: A section of the report: ``(id, heading, builder)``; ``builder(ctx)`` returns the section's body (HTML).
Section = tuple[str, str, Callable[[ReportContext], str]]

#: The report's sections, in order. Add a section by adding an entry (its id must be new).
SECTION_BUILDERS: list[Section] = [
    ("summary", "Summary", _summary_body),
    ("quality", "Match quality", _quality_body),
    ("budget", "Budget used per Partnership", _budget_body),
    ("scores", "Score distributions", _scores_body),
    ("flows", "Flows between countries", _flows_body),
    ("map", "Map of the exchanges", _map_body),
    ("unmatched", "Unmatched visitors and reasons", _unmatched_body),
    ("refused", "Registrations refused", _refused_body),
    ("exchanges", "Exchange building", _exchanges_body),
    ("proposals", "Proposals", _proposals_body),
]

#: Section ids of the report, in order, with their headings.
SECTIONS = {key: heading for key, heading, _ in SECTION_BUILDERS}


def build_report(out_dir: str | Path, rnd: Round | None = None, round_dir: str | Path | None = None,
                 title: str | None = None, dpi: int = 110) -> str:
    """The HTML text of the report of a solved round.

    Parameters
    ----------
    out_dir : path-like
        Output directory of the round (``proposals.csv``, ``unmatched.csv``,
        ``summary.json``), checked as one set (:mod:`matchmaker.proposals.output_set`).
    rnd : Round, optional
        The round's data; loaded from ``round_dir`` when not given.
    round_dir : path-like, optional
        The round's files; needed when ``rnd`` is not given.
    title : str, optional
        Heading of the report; default ``"Matching round report: <round folder>"``.
    dpi : int
        Resolution of the embedded figures.

    Raises
    ------
    ValueError
        When neither ``rnd`` nor ``round_dir`` is given, or the proposals do not belong
        to the round.
    OutputSetError
        (a ``ValueError``) When ``out_dir`` has no ``proposals.csv``, holds a failed run, or
        a file that is damaged or does not match ``summary.json``; the message names the file.
    """
    sol = read_solution(Path(out_dir))
    if rnd is None:
        if round_dir is None:
            raise ValueError("build_report needs the round's data: pass rnd= or round_dir= "
                             "(the folder with registrations.csv, partnerships.csv, ...)")
        rnd = load_round(round_dir)
    source = str(rnd.source) if rnd.source is not None else "(in memory)"
    title = title or f"Matching round report: {Path(source).name or source}"
    ctx = ReportContext(sol, rnd, source, dpi, budget=T.round_budget_use(sol.summary, sol.proposals, rnd),
                        quality=T.quality_of(sol.summary, sol.proposals, sol.unmatched, rnd))
    parts = [_section(key, heading, build(ctx)) for key, heading, build in SECTION_BUILDERS]
    nav = "".join(f'<a href="#{k}">{_esc(v)}</a>' for k, v in SECTIONS.items())
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{_esc(title)}</title><style>{STYLE}</style></head><body>\n"
            f"<h1>{_esc(title)}</h1><nav>{nav}</nav>\n" + "\n".join(parts) + "\n</body></html>\n")


def write_report(out_dir: str | Path, dest: str | Path | None = None, *, rnd: Round | None = None,
                 round_dir: str | Path | None = None, title: str | None = None, dpi: int = 110) -> Path:
    """Write :func:`build_report` to ``dest`` (default ``OUT_DIR/round_report.html``); return the path.

    The round's data come from ``rnd``, else ``round_dir``, else the round folder named
    in ``summary.json`` (``round_dir``), else an error says to pass it.
    """
    out = Path(out_dir)
    if rnd is None and round_dir is None:
        round_dir = _round_dir_from_summary(out)
    html_text = build_report(out, rnd=rnd, round_dir=round_dir, title=title, dpi=dpi)
    dest = Path(dest) if dest is not None else out / "round_report.html"
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.tmp")  # hidden: never taken for a user's file in an output folder
    tmp.write_text(html_text, encoding="utf-8")
    tmp.replace(dest)
    return dest


def _round_dir_from_summary(out: Path) -> Path:
    sol = read_solution(out)
    for key in ("round_dir", "source"):
        value = sol.summary.get(key)
        if isinstance(value, str) and Path(value).is_dir():
            return Path(value)
    raise ValueError(f"{out}: summary.json does not name an existing round folder; "
                     "pass the round's data folder (matchmaker report OUTDIR --round DIR)")
