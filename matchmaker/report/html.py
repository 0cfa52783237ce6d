"""The round report: one self-contained HTML file for people who never open a notebook.

:func:`build_report` reads a solved round's output directory (``proposals.csv``,
``unmatched.csv``, ``summary.json``) and the round's data (for budgets, organisations'
coordinates and refused registrations) and returns the HTML text: the headline figures,
budget used per partnership, score distributions, the flows between countries, a map of
the exchanges, the unmatched visitors and their reasons, the registrations refused and
the proposals themselves. Plots are embedded as base64 PNG, styles are inline, so the
file opens anywhere, offline, and can be mailed. :func:`write_report` writes it
(``matchmaker report OUTDIR``).
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

import pandas as pd

from matchmaker.constraints import registration_refusals
from matchmaker.inputs.instance import Round
from matchmaker.inputs.loading import load_round
from matchmaker.proposals.solution import SCORE_PREFIX, read_solution
from matchmaker.report import plots
from matchmaker.report import tables as T

#: Section ids of the report, in order, with their headings.
SECTIONS = {
    "summary": "Summary",
    "budget": "Budget used per partnership",
    "scores": "Score distributions",
    "flows": "Flows between countries",
    "map": "Map of the exchanges",
    "unmatched": "Unmatched visitors and reasons",
    "refused": "Registrations refused",
    "proposals": "Proposals",
}

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


def _table(df: pd.DataFrame, index: bool = False, css_class: str = "") -> str:
    """An escaped HTML table; numbers right-aligned and formatted with 2 decimals at most."""
    if index:
        df = df.reset_index()
    head = "".join(f"<th>{_esc(c)}</th>" for c in df.columns)
    numeric = [pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c]) for c in df.columns]
    rows = []
    for rec in df.itertuples(index=False):
        cells = []
        for value, is_num in zip(rec, numeric):
            if is_num and value is not None and not pd.isna(value):
                text = f"{value:,.2f}".rstrip("0").rstrip(".") if isinstance(value, float) else f"{value:,}"
                cells.append(f'<td class="num">{_esc(text)}</td>')
            else:
                cells.append(f"<td>{_esc(value)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    cls = f' class="{css_class}"' if css_class else ""
    return f"<table{cls}><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _section(key: str, body: str) -> str:
    return f'<section id="{key}"><h2>{_esc(SECTIONS[key])}</h2>\n{body}\n</section>'


def budgets_of(summary: dict, rnd: Round) -> tuple[pd.Series, pd.Series | None]:
    """The budgets a round was solved against, and what earlier rounds had committed.

    A round run by :func:`matchmaker.ledger.carry_over.run_next_round` records in its summary
    each partnership's ``budget_eur`` and ``committed_eur``; otherwise the budgets are
    those of the round's ``partnerships.csv`` and nothing was committed before.
    """
    carry = summary.get("carry_over") if isinstance(summary, dict) else None
    if isinstance(carry, dict) and carry.get("budgets"):
        b = pd.DataFrame(carry["budgets"]).set_index("partnership_id")
        return b["budget_eur"].astype(float), b["committed_eur"].astype(float)
    return rnd.partnerships["budget_eur"].astype(float), None


def _summary_section(head: dict, summary: dict, rnd, title_note: str) -> str:
    kpis = T.headline_text(head)
    body = "".join(f'<div class="kpi"><b>{_esc(v)}</b>{_esc(k)}</div>' for k, v in kpis)
    body += (f'<p class="note">Round data: {_esc(title_note)}; {rnd.n_visitors} visitors, {rnd.n_hosts} hosts, '
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
    return _section("summary", body)


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
    props, unmatched = sol.proposals, sol.unmatched
    head = T.headline(props, unmatched, sol.summary)

    budgets, committed = budgets_of(sol.summary, rnd)
    budget = T.budget_use(props, budgets, committed)
    scores = T.score_summary(props)
    flows = T.country_flows(props)
    segments = T.exchange_segments(props, rnd.visitors, rnd.hosts)
    reasons = T.unmatched_reasons(unmatched)
    refused = registration_refusals(rnd)

    parts = [_summary_section(head, sol.summary, rnd, source)]
    parts.append(_section("budget", _img(plots.budget_figure(budget), "budget used per partnership", dpi)
                          + _table(budget.round(4), index=True)))
    parts.append(_section("scores", _img(plots.score_figure(props), "score distributions", dpi)
                          + "<p>Scores per partnership (criteria in score points):</p>"
                          + _table(scores.rename(columns=lambda c: c.removeprefix(SCORE_PREFIX)), index=True)))
    busiest = (flows.sum(axis=1).sort_values(ascending=False).head(5))
    flows_note = ", ".join(f"{c}: {n}" for c, n in busiest.items() if n)
    parts.append(_section("flows", _img(plots.flows_figure(flows), "flows between countries", dpi)
                          + f'<p class="note">Countries sending most visitors: {_esc(flows_note or "none")}.</p>'))
    parts.append(_section("map", _img(plots.map_figure(segments), "map of the exchanges", dpi)))
    un_cols = [c for c in ("visitor_id", "visitor_name", "name", "visitor_country", "visitor_country_name", "country",
                           "partnership", "reason_code", "reason") if c in unmatched.columns]
    parts.append(_section("unmatched", _img(plots.unmatched_figure(reasons), "unmatched visitors by reason", dpi)
                          + _table(reasons) + f"<p>All {len(unmatched)} visitors without a proposal:</p>"
                          + _table(unmatched[un_cols])))
    refused_body = (_table(refused) if len(refused)
                    else "<p>Every registration can take part in at least one exchange by itself.</p>")
    parts.append(_section("refused", '<p class="note">Registrations that cannot take part in any exchange '
                          "by themselves (they stay in the round; every pair with them is refused).</p>"
                          + refused_body))
    cols = [c for c in PROPOSAL_COLUMNS if c in props.columns]
    ordered = props.sort_values(["partnership", "score"], ascending=[True, False])[cols]
    parts.append(_section("proposals", _table(ordered, css_class="proposals")))

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
