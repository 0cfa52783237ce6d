"""Settings widgets built from the documented defaults file, not from a hard-coded list.

:func:`settings_help` reads ``matchmaker/defaults/settings.toml`` and returns, for every
setting, the comment lines written above it (its documentation). :class:`SettingsPanel`
walks the same file and makes one control per setting, chosen by the default value's
type: weights (``scoring.weights``) are sliders, booleans check boxes, integers and
other numbers text boxes, dates date pickers, lists of dates a text box of ISO dates,
and text a drop-down when :mod:`matchmaker.inputs.settings` names its choices. A setting
added to the defaults file gets its control, and its help text, with no change here.

The panel's :meth:`~SettingsPanel.overrides` is the nested dict that
:func:`matchmaker.inputs.loading.load_round` and
:func:`matchmaker.inputs.settings.load_settings` accept; :meth:`~SettingsPanel.check` runs
it through the same checks as a settings file and shows any error under the controls.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import tomllib
from pathlib import Path

import ipywidgets as W

from matchmaker.common.errors import SettingsError
from matchmaker.inputs.settings import DEFAULTS_FILE, FAIRNESS_BY, OBJECTIVES, load_settings

#: Text settings whose choices :mod:`matchmaker.inputs.settings` defines.
CHOICES = {"solver.objective": OBJECTIVES, "solver.fairness_by": FAIRNESS_BY}
#: Sections shown, in order, with their titles (any other section of the file follows).
SECTION_TITLES = {
    "scoring.weights": "Weights of the criteria",
    "scoring.options": "Scoring options",
    "solver": "Solver",
    "rules": "Rules of the scheme",
    "lump_sum": "Lump sum",
    "quality": "Match quality (comparison with other ways)",
}
#: Upper end of a weight slider: the larger of this and twice the default weight.
WEIGHT_SLIDER_MAX = 10.0

_SECTION = re.compile(r"^\s*\[([A-Za-z0-9_.]+)\]\s*$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_]+)\s*=")


def settings_help(path: str | Path = DEFAULTS_FILE) -> dict[str, str]:
    """The comment block above each setting of a TOML file, by dotted key.

    Comments directly above a ``[section]`` header document the section (key
    ``"section"``). A key's help is the comment block right above it and nothing else:
    a key with no comment of its own has an empty help (it never borrows the previous
    key's, which documents something else). A blank line ends a comment block.
    """
    helps: dict[str, str] = {}
    section, block = "", []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            block.append(stripped.lstrip("#").strip())
            continue
        m = _SECTION.match(line)
        k = _KEY.match(line)
        if m:
            section = m.group(1)
            if block:
                helps[section] = "\n".join(block)
        elif k:
            helps[f"{section}.{k.group(1)}" if section else k.group(1)] = "\n".join(block)
        block = []
    return helps


def _leaves(d: dict, prefix: str = ""):
    for key, value in d.items():
        where = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from _leaves(value, where + ".")
        else:
            yield where, value


def _get(d: dict, dotted: str):
    for part in dotted.split("."):
        d = d[part]
    return d


def _set(d: dict, dotted: str, value) -> None:
    *parents, last = dotted.split(".")
    for part in parents:
        d = d.setdefault(part, {})
    d[last] = value


def _control(key: str, default, value, help_text: str) -> W.Widget:
    """One control for setting ``key`` chosen by its default's type."""
    label = key.rsplit(".", 1)[-1]
    style = {"description_width": "170px"}
    layout = W.Layout(width="430px")
    common = dict(description=label, tooltip=help_text or key, style=style, layout=layout)
    if key in CHOICES:
        return W.Dropdown(options=list(CHOICES[key]), value=value, **common)
    if isinstance(default, bool):
        return W.Checkbox(value=bool(value), indent=True, **common)
    if key.startswith("scoring.weights."):
        top = max(WEIGHT_SLIDER_MAX, 2 * float(default), float(value))
        return W.FloatSlider(value=float(value), min=0.0, max=top, step=0.1, readout_format=".1f",
                             continuous_update=False, **common)
    if isinstance(default, int):
        return W.IntText(value=int(value), **common)
    if isinstance(default, float):
        return W.FloatText(value=float(value), **common)
    if isinstance(default, dt.date):
        return W.DatePicker(value=value, **common)
    if isinstance(default, list):
        text = ", ".join(v.isoformat() if hasattr(v, "isoformat") else str(v) for v in value)
        return W.Text(value=text, placeholder="ISO dates, comma-separated", **common)
    return W.Text(value=str(value), **common)


def _read(key: str, default, widget: W.Widget):
    """The setting's value from its control (lists of dates parsed from ISO text)."""
    if isinstance(default, list):
        items = [t.strip() for t in widget.value.split(",") if t.strip()]
        out = []
        for t in items:
            try:
                out.append(dt.date.fromisoformat(t))
            except ValueError as exc:
                raise SettingsError(f"widgets: setting '{key}': {t!r} is not an ISO date (YYYY-MM-DD)") from exc
        return out
    return widget.value


class SettingsPanel:
    """Widgets for a round's settings, one per setting of the defaults file.

    Parameters
    ----------
    settings : dict, optional
        Initial values (for example ``Round.settings``: defaults merged with the
        round's ``settings.toml``); default: the defaults file.
    defaults_file : path-like
        The documented defaults (structure, types and help texts).

    Attributes
    ----------
    controls : dict
        Dotted setting key -> its widget; each widget has the CSS class
        ``mm-setting-<key with dots as dashes>``.
    widget : ipywidgets.Widget
        An accordion, one page per section, with a message line under it.
    """

    def __init__(self, settings: dict | None = None, defaults_file: str | Path = DEFAULTS_FILE):
        with open(defaults_file, "rb") as fh:
            self.defaults = tomllib.load(fh)
        self.initial = settings if settings is not None else load_settings()
        self.help = settings_help(defaults_file)
        self.controls: dict[str, W.Widget] = {}
        sections: dict[str, list[str]] = {}
        for key, default in _leaves(self.defaults):
            section = key.rsplit(".", 1)[0]
            try:
                value = _get(self.initial, key)
            except (KeyError, TypeError):
                value = default
            w = _control(key, default, value, self.help.get(key) or _listed_help(self.help.get(section, ""), key))
            w.add_class("mm-setting-" + key.replace(".", "-").replace("_", "-"))
            w.observe(lambda _change: self.check(), names="value")
            self.controls[key] = w
            sections.setdefault(section, []).append(key)
        order = [s for s in SECTION_TITLES if s in sections] + [s for s in sections if s not in SECTION_TITLES]
        pages, titles = [], []
        for section in order:
            rows = []
            if self.help.get(section):
                rows.append(W.HTML(_help_html(self.help[section], "#333")))
            for key in sections[section]:
                rows.append(W.HBox([self.controls[key], W.HTML(_help_html(self.help.get(key, "")),
                                                               layout=W.Layout(width="auto", max_width="680px"))]))
            pages.append(W.VBox(rows))
            titles.append(SECTION_TITLES.get(section, section))
        self.accordion = W.Accordion(children=pages, titles=tuple(titles), selected_index=0)
        self.message = W.HTML()
        self.message.add_class("mm-settings-message")
        self.widget = W.VBox([self.accordion, self.message])
        self.widget.add_class("mm-settings")

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    def apply(self, overrides: dict) -> None:
        """Set controls from a nested dict of settings (for example a notebook parameter).

        Raises
        ------
        SettingsError
            For a key that the defaults file does not have.
        """
        for key, value in _leaves(overrides or {}):
            if key not in self.controls:
                known = ", ".join(sorted(self.controls))
                raise SettingsError(f"overrides: unknown setting '{key}' (known: {known})")
            default = _get(self.defaults, key)
            if isinstance(default, list):
                value = ", ".join(v.isoformat() if hasattr(v, "isoformat") else str(v) for v in value)
            self.controls[key].value = value
        self.check()

    def overrides(self) -> dict:
        """Every setting's current value as a nested dict (for ``load_round(overrides=...)``)."""
        out: dict = {}
        for key, w in self.controls.items():
            _set(out, key, _read(key, _get(self.defaults, key), w))
        return out

    def changed(self) -> dict:
        """Only the settings whose value differs from the initial settings, as a nested dict."""
        out: dict = {}
        for key, w in self.controls.items():
            value = _read(key, _get(self.defaults, key), w)
            try:
                before = _get(self.initial, key)
            except (KeyError, TypeError):
                before = None
            if value != before:
                _set(out, key, value)
        return out

    def valid_overrides(self) -> dict:
        """:meth:`overrides`, checked; raises :class:`SettingsError` (also shown) when invalid."""
        if self.check() is None:
            settings = load_settings(overrides=self.overrides())  # raises the same error
            return settings  # pragma: no cover - check() and load_settings agree
        return self.overrides()

    def check(self) -> dict | None:
        """The complete checked settings, or ``None`` with the error shown under the controls."""
        try:
            settings = load_settings(overrides=self.overrides())
        except SettingsError as exc:
            lines = "<br>".join(f"&#9888; {_html(line)}" for line in str(exc).splitlines() or [""])
            self.message.value = f"<span style='color:#b00020'>{lines}</span>"  # every problem, one a line
            return None
        changed = self.changed()
        n = sum(1 for _ in _leaves(changed))
        self.message.value = (f"<span style='color:#2e7d32'>settings valid; {n} changed from the round's "
                              "settings</span>")
        return settings


def _listed_help(section_help: str, key: str) -> str:
    """A key's line in its section's comment (the weights are listed there, one per line)."""
    name = key.rsplit(".", 1)[-1]
    for line in section_help.splitlines():
        if line.split(" ", 1)[0] == name:
            return line[len(name):].strip()
    return ""


def _html(text: str) -> str:
    return html.escape(text)


def _help_html(text: str, colour: str = "#555") -> str:
    """Help text as compact HTML, its line breaks kept."""
    return (f"<div style='font-size:12px;line-height:1.35;color:{colour};white-space:pre-wrap;"
            f"margin:2px 0 4px 0'>{_html(text)}</div>")
