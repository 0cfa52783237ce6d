"""The round picker: which round folder, where its results go, which ledger; no code to edit.

:class:`RoundPicker` is the first widget of every notebook. Its boxes start from the
notebook's parameters (papermill ``-p``) or, when they are ``None``, from the defaults of
:mod:`matchmaker.common.locations`: the project's sample round (``data/sample``), its
results in ``out/<round>-round`` and its ledger beside it. A round folder box lists the
round folders found under the project's ``data/`` and ``out/`` (any folder holding
``registrations.csv`` or ``.xlsx``); choosing one moves the results folder along unless
it was typed. Then *Run → Run Selected Cell and All Below* runs the notebook on it.

CSS classes: ``mm-picker``, ``mm-round-dir``, ``mm-out-dir``, ``mm-ledger``.
"""

from __future__ import annotations

import html
from pathlib import Path

import ipywidgets as W

from matchmaker.common.locations import OUT, default_ledger_path, default_output_dir, project_dir

#: Files that make a folder a round folder.
ROUND_FILES = ("registrations.csv", "registrations.xlsx")
#: How deep under data/ and out/ round folders are looked for.
SEARCH_DEPTH = 3


def find_rounds(project: Path) -> list[Path]:
    """Round folders under ``project/data`` and ``project/out`` (sorted; ``data/sample`` first)."""
    found: set[Path] = set()
    for top in (project / "data", project / OUT):
        if not top.is_dir():
            continue
        for depth in range(SEARCH_DEPTH):
            for name in ROUND_FILES:
                found.update(p.parent for p in top.glob("/".join(["*"] * depth + [name])))
    sample = project / "data" / "sample"
    return sorted(found, key=lambda p: (p != sample, str(p)))


def _shown(path: Path, project: Path) -> str:
    try:
        return str(path.resolve().relative_to(project))
    except ValueError:
        return str(path)


class RoundPicker:
    """Boxes for the round folder, the results folder and the ledger (see the module docstring).

    Parameters
    ----------
    round_dir, out_dir : path-like, optional
        Start values (relative paths: to the folder the notebook runs in); ``None``: the
        defaults.
    ledger_url : str, optional
        A ledger URL; ``None`` or empty: the ledger beside the round.
    with_output : bool
        Show the results folder box (notebooks 01 and 03).
    """

    def __init__(self, round_dir: str | Path | None = None, out_dir: str | Path | None = None,
                 ledger_url: str | None = None, *, with_output: bool = True):
        self.project = project_dir()
        rounds = find_rounds(self.project)
        start = Path(round_dir).expanduser().resolve() if round_dir else (rounds[0] if rounds else
                                                                          self.project / "data" / "sample")
        options = [_shown(p, self.project) for p in rounds]
        style, layout = {"description_width": "120px"}, W.Layout(width="640px")
        self.round_box = W.Combobox(value=_shown(start, self.project), options=options, ensure_option=False,
                                    description="Round folder", placeholder="a folder with registrations.csv",
                                    style=style, layout=layout)
        self._out_typed = out_dir is not None
        out = Path(out_dir).expanduser().resolve() if out_dir else default_output_dir(start, self.project)
        self.out_box = W.Text(value=_shown(out, self.project), description="Results folder", style=style,
                              layout=layout)
        self.ledger_box = W.Text(value=ledger_url or "", description="Ledger", style=style, layout=layout,
                                 placeholder="empty: ledger.sqlite in the round folder (or a database URL)")
        self.note = W.HTML()
        for box, css in ((self.round_box, "mm-round-dir"), (self.out_box, "mm-out-dir"),
                         (self.ledger_box, "mm-ledger")):
            box.add_class(css)
        self.round_box.observe(self._round_changed, names="value")
        self.out_box.observe(self._out_changed, names="value")
        self.ledger_box.observe(lambda _c: self._describe(), names="value")
        boxes = [self.round_box, self.out_box] if with_output else [self.round_box]
        self.widget = W.VBox([*boxes, self.ledger_box, self.note])
        self.widget.add_class("mm-picker")
        self._describe()

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    def _path(self, text: str) -> Path:
        path = Path(text.strip()).expanduser()
        return path if path.is_absolute() else self.project / path

    @property
    def round_dir(self) -> Path:
        """The chosen round folder (absolute)."""
        return self._path(self.round_box.value)

    @property
    def out_dir(self) -> Path:
        """The chosen results folder (absolute)."""
        return self._path(self.out_box.value)

    @property
    def ledger_url(self) -> str | None:
        """The ledger URL typed, or ``None`` for the ledger beside the round."""
        return self.ledger_box.value.strip() or None

    def _round_changed(self, _change) -> None:
        if not self._out_typed:
            self.out_box.value = _shown(default_output_dir(self.round_dir, self.project), self.project)
            self._out_typed = False
        self._describe()

    def _out_changed(self, change) -> None:
        if change["new"] != _shown(default_output_dir(self.round_dir, self.project), self.project):
            self._out_typed = True
        self._describe()

    def _describe(self) -> None:
        folder = self.round_dir
        if not any((folder / f).is_file() for f in ROUND_FILES):
            self.note.value = (f"<span style='color:#b00020'>{html.escape(str(folder))} holds no registrations "
                               "file: choose a round folder.</span>")
            return
        ledger = self.ledger_url or _shown(default_ledger_path(folder), self.project)
        self.note.value = (f"<span style='color:#555'>Paths are relative to {html.escape(str(self.project))}. "
                           f"Decisions are kept in {html.escape(ledger)}. After changing a box, run "
                           "<i>Run &rarr; Run Selected Cell and All Below</i>.</span>")
