"""Figures of a solved round (matplotlib, no pyplot state, no network).

Each function takes the tables of :mod:`matchmaker.report.tables` (or a proposals
table) and returns a new :class:`matplotlib.figure.Figure`; nothing is shown or saved
here. :func:`figure_png` turns a figure into PNG bytes for the HTML report and the
notebooks.

The map of exchanges is a plain longitude/latitude plot (equirectangular, with the
aspect corrected for the mean latitude): no package here ships country outlines offline
and web tiles need a network, so organisations are country-coloured points, each
country is labelled with its code at the mean position of its organisations, and every
exchange is a line from the visitor to the host.
"""

from __future__ import annotations

import io
from collections.abc import Iterable

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from matchmaker.proposals.solution import SCORE_PREFIX
from matchmaker.proposals.wording import percent_text

#: Colours of physical / virtual exchanges and of budget parts.
MODE_COLOURS = {"physical": "#1f77b4", "virtual": "#ff7f0e"}
BUDGET_COLOURS = {"committed_eur": "#7f7f7f", "proposed_eur": "#1f77b4", "remaining_eur": "#d9e6f2"}


def figure_png(fig: Figure, dpi: int = 110) -> bytes:
    """PNG bytes of ``fig`` (tight bounding box)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", facecolor="white")
    return buf.getvalue()


def country_colours(countries: Iterable[str]) -> dict[str, tuple]:
    """A stable colour per country code: the same code gets the same colour in every figure.

    Codes are sorted and given the colours of ``tab20``, ``tab20b`` and ``tab20c`` in
    turn (60 colours), so a round's countries never share a colour unless it has more
    than 60 of them.
    """
    palette = [c for name in ("tab20", "tab20b", "tab20c") for c in colormaps[name].colors]
    codes = sorted({str(c) for c in countries})
    return {c: palette[i % len(palette)] for i, c in enumerate(codes)}


def _empty(ax, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="#555555")
    ax.set_xticks([])
    ax.set_yticks([])


def budget_figure(budgets: pd.DataFrame) -> Figure:
    """Budget used per Partnership: committed, proposed and remaining lump sums (EUR).

    Each bar is labelled with the Partnership's name (``name``, else its id) and says its
    exchanges and the share of its budget used, with one decimal and never rounded up to 100%
    (:func:`~matchmaker.proposals.wording.percent_text`).

    Parameters
    ----------
    budgets : DataFrame
        :func:`matchmaker.report.tables.budget_use`.
    """
    b = budgets.iloc[::-1]
    fig = Figure(figsize=(8, 0.38 * len(b) + 1.4))
    ax = fig.add_subplot()
    if not len(b):
        _empty(ax, "no Partnership")
        return fig
    y = np.arange(len(b))
    left = np.zeros(len(b))
    labels = {"committed_eur": "committed (earlier rounds)", "proposed_eur": "proposed this round",
              "remaining_eur": "remaining"}
    for col in ("committed_eur", "proposed_eur", "remaining_eur"):
        width = b[col].clip(lower=0).to_numpy(float)
        if col == "committed_eur" and not width.any():
            continue
        ax.barh(y, width, left=left, color=BUDGET_COLOURS[col], edgecolor="white", label=labels[col])
        left += width
    over = b["remaining_eur"].to_numpy(float) < 0
    for yi, (n, share) in enumerate(zip(b["exchanges"].to_numpy(int), b["used_share"].to_numpy(float))):
        text = f"{n} exchange{'' if n == 1 else 's'}" + (f", {percent_text(share)} used" if np.isfinite(share) else "")
        ax.text(left[yi] + left.max() * 0.01, yi, text + (", over budget" if over[yi] else ""),
                va="center", fontsize=8, color="#b00020" if over[yi] else "#333333")
    ax.set_yticks(y, (b["name"] if "name" in b.columns else b.index.to_series()).astype(str))
    ax.set_xlabel("EUR")
    ax.set_xlim(0, left.max() * 1.25 if left.max() > 0 else 1)
    ax.xaxis.set_major_formatter(lambda x, _: f"{x:,.0f}")
    ax.set_title("Budget used per Partnership (lump sums, paid by the visitor's Partnership)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.6 / fig.get_figheight() - 0.04), ncols=3,
              fontsize=8, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


def score_figure(proposals: pd.DataFrame) -> Figure:
    """Score distributions: a histogram by mode, and each criterion's mean share per partnership."""
    fig = Figure(figsize=(11, 4.2))
    ax1, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.3]})
    if not len(proposals):
        _empty(ax1, "no proposals")
        _empty(ax2, "no proposals")
        return fig
    bins = np.linspace(0, 100, 21)
    if "mode" in proposals.columns:
        modes = proposals["mode"].astype(str)
    else:
        modes = pd.Series("physical", index=proposals.index)
    data, labels, colours = [], [], []
    for mode, colour in MODE_COLOURS.items():
        s = proposals.loc[modes == mode, "score"].astype(float)
        if len(s):
            data.append(s.to_numpy())
            labels.append(f"{mode} ({len(s)})")
            colours.append(colour)
    ax1.hist(data, bins=bins, stacked=True, color=colours, label=labels, edgecolor="white")
    ax1.set_xlabel("score (0-100)")
    ax1.set_ylabel("proposed exchanges")
    ax1.set_title("Scores of the proposed pairs")
    ax1.legend(fontsize=8, frameon=False)
    ax1.spines[["top", "right"]].set_visible(False)

    crit = [c for c in proposals.columns if c.startswith(SCORE_PREFIX)]
    if not crit:
        _empty(ax2, "no score breakdown in the proposals")
    else:
        means = proposals.groupby("partnership")[crit].mean().iloc[::-1]
        left = np.zeros(len(means))
        cmap = colormaps["Set2"].colors
        for i, c in enumerate(crit):
            w = means[c].to_numpy(float)
            ax2.barh(np.arange(len(means)), w, left=left, color=cmap[i % len(cmap)],
                     label=c[len(SCORE_PREFIX):], edgecolor="white")
            left += w
        ax2.set_yticks(np.arange(len(means)), means.index.astype(str))
        ax2.set_xlabel("mean score points")
        ax2.set_title("Where the scores come from (mean per criterion)")
        ax2.legend(fontsize=8, frameon=False, loc="upper center", bbox_to_anchor=(0.4, -0.14), ncols=4)
        ax2.set_xlim(0, max(left.max() * 1.05, 1))
        ax2.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


def breakdown_figure(pair: pd.Series) -> Figure:
    """One pair's score broken down by criterion (score points that add up to the score)."""
    crit = [c for c in pair.index if str(c).startswith(SCORE_PREFIX)]
    fig = Figure(figsize=(5.5, 0.3 * max(len(crit), 1) + 1.2))
    ax = fig.add_subplot()
    if not crit:
        _empty(ax, "no score breakdown")
        return fig
    values = pd.to_numeric(pair[crit], errors="coerce").fillna(0.0).to_numpy(float)[::-1]
    names = [c[len(SCORE_PREFIX):] for c in crit][::-1]
    ax.barh(np.arange(len(crit)), values, color="#1f77b4")
    for i, v in enumerate(values):
        ax.text(v, i, f" {v:.1f}", va="center", fontsize=8)
    ax.set_yticks(np.arange(len(crit)), names)
    ax.set_xlim(0, max(values.max() * 1.25, 1))
    score = pair.get("score")
    ax.set_title(f"score {float(score):.1f} = sum of the criteria" if score is not None else "score breakdown",
                 fontsize=10)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


def flows_figure(flows: pd.DataFrame) -> Figure:
    """Flows between countries: a heat map of exchanges, visitor country to host country.

    Parameters
    ----------
    flows : DataFrame
        :func:`matchmaker.report.tables.country_flows`.
    """
    n = max(len(flows), 1)
    fig = Figure(figsize=(min(2.5 + 0.24 * n, 10), min(2.0 + 0.2 * n, 8.5)))
    ax = fig.add_subplot()
    if not len(flows):
        _empty(ax, "no proposals")
        return fig
    m = flows.to_numpy()
    masked = np.ma.masked_equal(m, 0)
    im = ax.imshow(masked, cmap="Blues", vmin=0, vmax=max(m.max(), 1), aspect="auto")
    for i, j in zip(*np.nonzero(m)):
        ax.text(j, i, str(m[i, j]), ha="center", va="center", fontsize=6,
                color="white" if m[i, j] > m.max() * 0.6 else "black")
    ax.set_xticks(np.arange(m.shape[1]), flows.columns, rotation=90, fontsize=7)
    ax.set_yticks(np.arange(m.shape[0]), flows.index, fontsize=7)
    ax.set_xlabel("host country")
    ax.set_ylabel("visitor country (travels)")
    ax.set_title("Exchanges between countries")
    ax.set_xticks(np.arange(m.shape[1] + 1) - 0.5, minor=True)
    ax.set_yticks(np.arange(m.shape[0] + 1) - 0.5, minor=True)
    ax.grid(which="minor", color="#eeeeee", linewidth=0.5)
    ax.tick_params(which="minor", length=0)
    fig.colorbar(im, ax=ax, shrink=0.6, label="exchanges")
    fig.tight_layout()
    return fig


def map_figure(segments: pd.DataFrame, title: str = "Map of the proposed exchanges") -> Figure:
    """The exchanges on a longitude/latitude plot: country-coloured organisations, lines
    from visitor to host (solid physical, dashed virtual), country codes as labels.

    Parameters
    ----------
    segments : DataFrame
        :func:`matchmaker.report.tables.exchange_segments`.
    """
    fig = Figure(figsize=(9, 7.5))
    ax = fig.add_subplot()
    if not len(segments):
        _empty(ax, "no proposals")
        return fig
    s = segments
    points = pd.concat([
        pd.DataFrame({"country": s["visitor_country"], "lat": s["v_lat"], "lon": s["v_lon"], "role": "visitor"}),
        pd.DataFrame({"country": s["host_country"], "lat": s["h_lat"], "lon": s["h_lon"], "role": "host"}),
    ], ignore_index=True).drop_duplicates()
    colours = country_colours(points["country"])
    mean_lat = float(np.nanmean(points["lat"]))
    ax.set_aspect(1.0 / max(np.cos(np.radians(mean_lat)), 0.2))
    for mode, style in (("physical", "solid"), ("virtual", "dashed")):
        part = s[s["mode"] == mode]
        if not len(part):
            continue
        lines = np.stack([part[["v_lon", "v_lat"]].to_numpy(float), part[["h_lon", "h_lat"]].to_numpy(float)], axis=1)
        colour = [colours[c] for c in part["visitor_country"]]
        ax.add_collection(LineCollection(lines, colors=colour, linewidths=0.7, alpha=0.45, linestyles=style,
                                         label=f"{mode} exchange ({len(part)})"))
    for role, marker, size in (("visitor", "o", 16), ("host", "^", 30)):
        p = points[points["role"] == role]
        ax.scatter(p["lon"], p["lat"], c=[colours[c] for c in p["country"]], marker=marker, s=size,
                   edgecolors="black", linewidths=0.3, zorder=3, label=f"{role}s")
    centres = points.groupby("country")[["lon", "lat"]].mean()
    for code, row in centres.iterrows():
        ax.annotate(code, (row["lon"], row["lat"]), fontsize=9, fontweight="bold", ha="center", va="bottom",
                    xytext=(0, 5), textcoords="offset points", color="black", zorder=4,
                    bbox=dict(boxstyle="round,pad=0.15", fc="white", ec=colours[code], alpha=0.8))
    pad_lon = max(1.0, (points["lon"].max() - points["lon"].min()) * 0.05)
    pad_lat = max(1.0, (points["lat"].max() - points["lat"].min()) * 0.05)
    ax.set_xlim(points["lon"].min() - pad_lon, points["lon"].max() + pad_lon)
    ax.set_ylim(points["lat"].min() - pad_lat, points["lat"].max() + pad_lat)
    ax.set_xlabel("longitude (°E)")
    ax.set_ylabel("latitude (°N)")
    ax.grid(color="#eeeeee", linewidth=0.5)
    ax.set_title(title + "\n(line colour: the visitor's country; no map background: drawn offline)", fontsize=10)
    handles = [Line2D([], [], color="#555555", lw=1.2, ls=ls, label=f"{mode} exchange ({(s['mode'] == mode).sum()})")
               for mode, ls in (("physical", "solid"), ("virtual", "dashed")) if (s["mode"] == mode).any()]
    handles += [Line2D([], [], ls="", marker=m, color="#bbbbbb", markeredgecolor="black", markersize=ms, label=lab)
                for m, ms, lab in (("o", 5, "visitor"), ("^", 7, "host"))]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.08), ncols=4, fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


def unmatched_figure(reasons: pd.DataFrame) -> Figure:
    """Visitors without a proposal, per reason.

    Parameters
    ----------
    reasons : DataFrame
        :func:`matchmaker.report.tables.unmatched_reasons`.
    """
    r = reasons.iloc[::-1]
    fig = Figure(figsize=(8, 0.35 * max(len(r), 1) + 1.3))
    ax = fig.add_subplot()
    if not len(r):
        _empty(ax, "every visitor has a proposal")
        return fig
    labels = [t if len(t) <= 60 else t[:57] + "..." for t in r["reason"].astype(str)]
    y = np.arange(len(r))
    ax.barh(y, r["visitors"].to_numpy(int), color="#d62728")
    for yi, n in zip(y, r["visitors"].to_numpy(int)):
        ax.text(n, yi, f" {n}", va="center", fontsize=8)
    ax.set_yticks(y, labels, fontsize=8)
    ax.set_xlabel("visitors")
    ax.set_title("Visitors without a proposal, by reason")
    ax.set_xlim(0, r["visitors"].max() * 1.15)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


def _plain(text: str) -> str:
    """``text`` drawn as it is: a ``$`` in a name would otherwise start matplotlib's mathtext."""
    return text.replace("$", r"\$")


def quality_figure(quality: dict) -> Figure:
    """The share of visitors matched per Partnership, country and organisation type.

    Parameters
    ----------
    quality : dict
        :func:`matchmaker.quality.metrics.match_quality` (``spread`` and ``visitors``); groups
        without visitors (hosts only) are left out. Each bar says ``exchanges/visitors``; a dashed
        line marks the round's share. Bars have the same thickness in every panel, from the top.
    """
    spread = quality["spread"]
    keys = list(spread)
    groups = {k: [g for g in spread[k]["groups"] if g["share_matched"] is not None][::-1] for k in keys}
    tallest = max([len(g) for g in groups.values()] + [1])
    fig = Figure(figsize=(13, 0.24 * tallest + 1.6))
    axes = fig.subplots(1, len(keys), gridspec_kw={"wspace": 0.75})
    overall = quality["visitors"].get("share_matched")
    for ax, key in zip(np.atleast_1d(axes), keys):
        rows = groups[key]
        if not rows:
            _empty(ax, "no visitors")
            continue
        y = np.arange(len(rows))
        share = np.array([100 * r["share_matched"] for r in rows])
        ax.barh(y, share, color=MODE_COLOURS["physical"], height=0.7)
        for yi, x, r in zip(y, share, rows):
            ax.text(x + 1, yi, f"{r['exchanges']}/{r['visitors']}", va="center", fontsize=6, color="#555555",
                    zorder=3, bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.4})  # over the dashed line
        ax.set_yticks(y, [_plain(r["group"] if len(r["group"]) <= 34 else r["group"][:31] + "...") for r in rows],
                      fontsize=7)
        if overall is not None:
            ax.vlines(100 * overall, -0.5, len(rows) - 0.5, color="#555555", ls="--", lw=1)
        ax.set_xlim(0, 115)
        ax.set_xticks([0, 25, 50, 75, 100])
        ax.set_ylim(len(rows) - tallest - 0.5, len(rows) - 0.5)
        ax.set_xlabel("visitors matched (%)")
        ax.set_title(f"per {spread[key]['grouping']}", fontsize=10)
        ax.spines[["top", "right"]].set_visible(False)
    fig.suptitle("Share of visitors matched, exchanges/visitors per group (dashed: the whole round)", fontsize=11)
    return fig
