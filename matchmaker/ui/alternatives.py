"""Alternatives worth a look: the blocking pairs of a Partnership's visitors, in words (issue 13).

A blocking pair (:mod:`matchmaker.quality.stability`, docs/decisions.md §37) is a visitor
and a host, not proposed together, who would both gain from being matched: the visitor
scores higher with this host than in its proposal (or has none), and the host has room on
those dates or would release its lowest-scoring visitor for a higher score. The review
notebook (02) shows them for the reviewer's Partnership under the review panel, read from
the ledger's round as the panel reads it (:func:`matchmaker.ledger.exchanges.exchange_list`):

* the pairs that count are the round's exchanges that still stand (proposed, accepted or
  locked; not rejected or withdrawn);
* an accepted or locked pair is not given up: its visitor never moves and its host
  never releases it (they count as locked for the blocking pairs).

:func:`alternatives` finds them (:func:`all_alternatives` for every Partnership at once),
:func:`alternative_text` says one in words and :class:`AlternativesPanel` shows them beside
a :class:`~matchmaker.ui.review.ReviewPanel`, following its Partnership drop-down (CSS
class ``mm-alternatives``).
"""

from __future__ import annotations

import html

import ipywidgets as W
import pandas as pd

from matchmaker.inputs.instance import Round
from matchmaker.pairs.catalogue import Catalogue, build_catalogue
from matchmaker.proposals.wording import schedule_text
from matchmaker.quality.stability import COLUMNS, blocking_pairs
from matchmaker.ui.review import ReviewPanel
from matchmaker.ui.review_widgets import classed

#: Statuses of the ledger's list whose pairs still stand (the others free their visitor and host).
STANDING = ("proposed", "accepted", "locked")
#: Statuses whose pairs are kept whatever an alternative offers.
KEPT = ("accepted", "locked")
#: How many alternatives the panel lists at most (the largest gains first).
SHOWN = 20


def standing_pairs(exchanges: pd.DataFrame) -> pd.DataFrame:
    """The round's pairs that still stand, with ``locked`` set for the accepted and locked ones.

    Parameters
    ----------
    exchanges : DataFrame -- the ledger's list of a round (``exchange_list``), with ``status``.
    """
    status = exchanges["status"].astype(str) if "status" in exchanges else pd.Series("proposed", exchanges.index)
    out = exchanges[status.isin(STANDING)].copy()
    locked = out["locked"].fillna(False).astype(bool) if "locked" in out else False
    out["locked"] = locked | status[out.index].isin(KEPT)
    return out.reset_index(drop=True)


def alternatives(rnd: Round, catalogue: Catalogue, exchanges: pd.DataFrame, partnership: str,
                 every: pd.DataFrame | None = None) -> pd.DataFrame:
    """The blocking pairs of ``partnership``'s visitors against the round's standing pairs.

    Parameters
    ----------
    rnd : Round -- the round's files.
    catalogue : Catalogue -- its catalogue (the pairs the rules allow).
    exchanges : DataFrame -- the ledger's list of the round.
    partnership : str -- the reviewer's Partnership (its visitors' alternatives).
    every : DataFrame, optional -- :func:`all_alternatives` of the same list, if known.

    Returns
    -------
    DataFrame in :data:`matchmaker.quality.stability.COLUMNS` plus ``mode`` and
    ``working_days`` of the alternative pair, the largest total gain first.
    """
    every = all_alternatives(rnd, catalogue, exchanges) if every is None else every
    mine = rnd.visitors.loc[rnd.visitors["partnership"].astype(str) == str(partnership), "org_id"].astype(str)
    return every[every["visitor_id"].isin(set(mine))].reset_index(drop=True)


def all_alternatives(rnd: Round, catalogue: Catalogue, exchanges: pd.DataFrame) -> pd.DataFrame:
    """Every blocking pair of the round's standing pairs, with the pair's ``mode`` and ``working_days``."""
    table = blocking_pairs(rnd, catalogue, standing_pairs(exchanges))
    pairs = catalogue.pairs
    key = pd.DataFrame({"visitor_id": rnd.visitors["org_id"].astype(str).to_numpy()[pairs["v"].to_numpy()],
                        "host_id": rnd.hosts["org_id"].astype(str).to_numpy()[pairs["h"].to_numpy()],
                        "mode": pairs["mode"].astype(str).to_numpy(),
                        "working_days": pairs["working_days"].to_numpy()})
    return table.merge(key, on=["visitor_id", "host_id"], how="left")[list(COLUMNS) + ["mode", "working_days"]]


def alternative_text(row: dict, names: dict[str, str]) -> str:
    """One alternative in words: visitor, host, what each would gain, whom the host would release.

    ``names`` maps ids to organisation names (visitors and hosts); ``row`` is a row of
    :func:`alternatives`. For example: "Tex (V1) with Fibre (H1): score 90.00, 40.00 points more
    for the visitor than with Loom (H2) now; 10.00 points more for the host, which would
    release Wool (V2); 5 working days in a row on site, 1 Mar 2027 to 5 Mar 2027."
    """
    def who(i: str) -> str:
        return f"{names.get(i, i)} ({i})"

    now = (f"than with {who(row['current_host_id'])} now" if row["current_host_id"]
           else "than now (no exchange proposed)")
    host = (f"which would release {who(row['host_would_release'])}" if row["host_would_release"]
            else "which has room on those dates")
    when = schedule_text(row["mode"], row["start_date"], row["end_date"], row["working_days"])
    return (f"{row['visitor_name']} ({row['visitor_id']}) with {row['host_name']} ({row['host_id']}): "
            f"score {row['score']:.2f}, {row['visitor_gain']:.2f} points more for the visitor {now}; "
            f"{row['host_gain']:.2f} points more for the host, {host}; {when}.")


def alternatives_html(table: pd.DataFrame, rnd: Round, partnership: str, shown: int = SHOWN) -> str:
    """The panel's HTML: a sentence on what these are, then one item per alternative (escaped)."""
    head = (f"<b>Alternatives worth a look</b> for {html.escape(str(partnership))}: pairs of your visitors "
            "with a host where both would gain, under the same rules, dates and budgets, with every other "
            "exchange as it is. Accepted and locked pairs are kept.")
    if table.empty:
        return f"{head}<br>None: no visitor of yours and no host would both gain from another pair."
    names = dict(zip(rnd.visitors["org_id"].astype(str), rnd.visitors["name"].astype(str)))
    names |= dict(zip(rnd.hosts["org_id"].astype(str), rnd.hosts["name"].astype(str)))
    items = "".join(f"<li>{html.escape(alternative_text(r, names))}</li>"
                    for r in table.head(shown).to_dict("records"))
    more = f"<br>and {len(table) - shown} more." if len(table) > shown else ""
    return f"{head}<br>{len(table)} alternative(s), the largest gains first:<ol>{items}</ol>{more}"


class AlternativesPanel:
    """The alternatives of the review panel's Partnership, refreshed when its drop-down changes.

    Parameters
    ----------
    review : ReviewPanel -- the panel whose round (ledger) and Partnership are shown;
        it needs the round's files (``round_dir``).
    """

    def __init__(self, review: ReviewPanel):
        self.review = review
        self._catalogue: Catalogue | None = None
        self._every: tuple[pd.DataFrame, pd.DataFrame] | None = None  # (the list read, its blocking pairs)
        self.table = pd.DataFrame(columns=list(COLUMNS))
        self.widget = classed(W.HTML(), "mm-alternatives")
        review.partnership_box.observe(lambda _c: self.refresh(), names="value")
        self.refresh()

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    def refresh(self) -> None:
        """Recompute the alternatives of the Partnership selected in the review panel."""
        review, partnership = self.review, self.review.partnership_box.value
        if review.rnd is None:
            self.widget.value = ("<b>Alternatives worth a look</b>: the round's files are needed "
                                 "(open the review panel with its round folder).")
            return
        if partnership is None:
            self.widget.value = "<b>Alternatives worth a look</b>: this round has no proposals."
            return
        if self._catalogue is None:
            self._catalogue = build_catalogue(review.rnd)
        if self._every is None or self._every[0] is not review.proposals:  # the panel re-read its list
            self._every = (review.proposals, all_alternatives(review.rnd, self._catalogue, review.proposals))
        self.table = alternatives(review.rnd, self._catalogue, review.proposals, partnership, self._every[1])
        self.widget.value = alternatives_html(self.table, review.rnd, partnership)
