"""Problems found in a round's input, reported all at once.

Every problem names the file, the row, the column, the value and the rule it breaks,
so that a user can find and fix it without reading code.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

#: Longest value a problem shows whole (longer ones: their start and their length).
SHOWN_CHARACTERS = 200


@dataclass(frozen=True, order=True)
class Problem:
    """One broken rule in one place of the input.

    Parameters
    ----------
    file : str
        File name as the user knows it (for example ``registrations.csv``).
    row : int or None
        1-based data row number as a spreadsheet shows it (the header is row 1, so the
        first data row is row 2); ``None`` when the problem concerns the whole file.
    column : str or None
        Column name, or ``None`` for a whole-row or whole-file problem.
    value : str
        The offending value as read (empty string when missing).
    rule : str
        What the value should have been, in plain words.
    severity : {"error", "warning"}
        Errors make the round unusable; warnings are shown but do not block.
    """

    file: str
    row: int | None
    column: str | None
    value: str
    rule: str
    severity: str = "error"

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column is not None:
            where += f", column '{self.column}'"
        shown = self.value != "" or (self.column is not None and self.row is not None)
        text = self.value if len(self.value) <= SHOWN_CHARACTERS else \
            f"{self.value[:SHOWN_CHARACTERS // 2]}... ({len(self.value):,} characters)"
        value = f" value {text!r}:" if shown else ""
        return f"{self.severity}: {where}:{value} {self.rule}"


@dataclass
class RoundDataError(Exception):
    """Raised when a round's files cannot be used; carries every problem found."""

    problems: list[Problem] = field(default_factory=list)

    def __str__(self) -> str:  # pragma: no cover - formatting only
        errors = [p for p in self.problems if p.severity == "error"]
        lines = [f"{len(errors)} problem(s) make this round unusable:"]
        lines += [f"  {p}" for p in self.problems]
        return "\n".join(lines)


def rows_text(rows: Iterable[int], limit: int = 10) -> str:
    """Row numbers for a message, in order, at most ``limit`` of them then how many more.

    Examples
    --------
    >>> rows_text([9, 2, 5])
    '2, 5, 9'
    >>> rows_text(range(2, 14), limit=3)
    '2, 3, 4 and 9 more'
    """
    rows = sorted(int(r) for r in rows)
    return ", ".join(map(str, rows[:limit])) + (f" and {len(rows) - limit} more" if len(rows) > limit else "")


class SettingsError(ValueError):
    """A settings file or option has an unknown key or a value outside its range.

    Parameters
    ----------
    message : str
        One problem in words (file, key, value, rule); with ``problems``, may be empty.
    problems : iterable of Problem, optional
        Every problem found at once (:func:`matchmaker.inputs.settings.load_settings`), each
        naming the settings file(s) in ``file`` and the whole message in ``rule``; ``str()``
        lists their messages one per line.
    """

    def __init__(self, message: str = "", problems: Iterable[Problem] = ()) -> None:
        self.problems = list(problems) or [Problem("settings", None, None, "", message)]
        super().__init__(message or "\n".join(p.rule for p in self.problems))


class UsageError(ValueError):
    """A command-line option or path that cannot be used (exit code 2); the message names the option."""


class OutputSetError(ValueError):
    """A solved round's output folder cannot be written, or read as one complete set.

    The set is ``proposals.csv``, ``unmatched.csv`` and ``summary.json``
    (:mod:`matchmaker.proposals.output_set`); the message names the folder or file, what
    is wrong and what to do (exit code 1).
    """


class OutputFolderError(OutputSetError, UsageError):
    """An output folder that cannot take an output set (a file, a folder holding other files, not
    writable): bad usage of ``--out`` (exit code 2)."""
