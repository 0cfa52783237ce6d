"""The review panel's widgets that need no state of the panel: the grid, the action row.

Used by :class:`matchmaker.ui.review.ReviewPanel`; the CSS classes are those its module
docstring lists (the browser test and the screenshots use them).
"""

from __future__ import annotations

import ipywidgets as W
import pandas as pd
from ipydatagrid import DataGrid

from matchmaker.ui.pairs_grid import GRID_COLUMNS
from matchmaker.ui.progress import SolveProgress

#: The grid's column headers, in words (the panel renames :func:`~matchmaker.ui.pairs_grid.grid_frame`'s
#: columns; the selection is read back through ``GRID_HEADERS["visitor_id"]`` and ``["host_id"]``).
GRID_HEADERS = {c: {"visitor_id": "visitor", "host_id": "host", "latest_comment": "latest comment",
                    "distance_km": "distance (km)", "lump_sum_eur": "lump sum (EUR)", "start_date": "start",
                    "end_date": "end"}.get(c, c.replace("_", " ")) for c in GRID_COLUMNS}


def classed(widget: W.Widget, css: str) -> W.Widget:
    """``widget`` with the CSS class ``css`` added."""
    widget.add_class(css)
    return widget


def make_grid() -> DataGrid:
    """The pairs' grid (``mm-grid``): one row selected at a time, read-only."""
    grid = DataGrid(pd.DataFrame({"visitor_id": pd.Series(dtype=str)}), selection_mode="row",
                    editable=False, base_column_size=110, base_row_size=24,
                    layout=W.Layout(height="300px", width="100%"))
    return classed(grid, "mm-grid")


def action_widgets(time_limit: float | None) -> dict[str, W.Widget]:
    """Re-solve and export: buttons, CSV options, status line, download links, the re-solve's progress bars.

    Keys: ``resolve_button``, ``record_button`` (hidden until a re-solve can be recorded), ``sep_box``,
    ``xlsx_box``, ``export_button``, ``status``,
    ``downloads``, ``progress`` (a :class:`SolveProgress`, hidden until a re-solve starts).
    """
    progress = SolveProgress(time_limit=time_limit)
    progress.widget.add_class("mm-resolve-progress")
    progress.widget.layout.display = "none"
    return {
        "resolve_button": classed(W.Button(description="Re-solve around decisions", icon="refresh",
                                           layout=W.Layout(width="230px")), "mm-resolve"),
        "record_button": classed(W.Button(description="Record this re-solve", icon="check", button_style="success",
                                          layout=W.Layout(width="200px", display="none")), "mm-record-resolve"),
        "sep_box": classed(W.Dropdown(options=[("comma ,", ","), ("semicolon ; (continental Excel)", ";")],
                                      value=",", description="CSV", layout=W.Layout(width="300px")), "mm-sep"),
        "xlsx_box": classed(W.Checkbox(value=False, description="also .xlsx", indent=False), "mm-xlsx"),
        "export_button": classed(W.Button(description="Export list", icon="download"), "mm-export"),
        "status": classed(W.HTML(), "mm-status"),
        "downloads": classed(W.HTML(), "mm-downloads"),
        "progress": progress,
    }
