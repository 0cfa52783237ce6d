"""The document model of a Commitment to Quality draft, shared by the .docx and HTML writers.

A draft is a title and a list of blocks (:class:`Heading`, :class:`Paragraph`,
:class:`Bullets`, :class:`Table`); every piece of text is a tuple of :class:`Run` s, and a
run with ``todo=True`` is a part people must finish, shown as ``[to complete: ...]``
(highlighted in both documents). :mod:`matchmaker.building.ctq_content` builds the blocks,
:mod:`matchmaker.building.ctq_docx` and :mod:`matchmaker.building.ctq_html` render them.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

import pandas as pd

#: How a part for people to finish starts and ends in both documents.
TODO_OPEN, TODO_CLOSE = "[to complete: ", "]"


@dataclass(frozen=True)
class Run:
    """A piece of text; ``todo``: a part people must finish (written ``[to complete: text]``)."""

    text: str
    todo: bool = False

    def shown(self) -> str:
        """The text as the documents show it."""
        return f"{TODO_OPEN}{self.text}{TODO_CLOSE}" if self.todo else self.text


Text = tuple[Run, ...]


def text(*parts: str | Run) -> Text:
    """Runs from plain strings (pre-filled) and :class:`Run` s (kept as they are)."""
    return tuple(p if isinstance(p, Run) else Run(str(p)) for p in parts if p != "")


def todo(what: str) -> Run:
    """A part people must finish: ``[to complete: what]``."""
    return Run(what, todo=True)


def plain(runs: Text) -> str:
    """The runs as one string, as the documents show them."""
    return "".join(r.shown() for r in runs)


@dataclass(frozen=True)
class Heading:
    """A section heading (level 1) or sub-heading (level 2)."""

    text: str
    level: int = 1


@dataclass(frozen=True)
class Paragraph:
    """One paragraph; ``note``: an explanatory remark (smaller, in italics)."""

    runs: Text
    note: bool = False


@dataclass(frozen=True)
class Bullets:
    """A bulleted list, one :data:`Text` per item."""

    items: tuple[Text, ...]


@dataclass(frozen=True)
class Table:
    """A table with a header row; each cell a :data:`Text`."""

    header: tuple[str, ...]
    rows: tuple[tuple[Text, ...], ...]


Block = Heading | Paragraph | Bullets | Table


@dataclass(frozen=True)
class CtqDraft:
    """The draft Commitment to Quality of one exchange (an accepted or locked pair).

    Attributes
    ----------
    visitor_id, host_id : str
        The pair.
    status : str
        Its state in the ledger's list (``accepted`` or ``locked``).
    round_id : int
        The ledger's round whose list the pair was taken from.
    mode, form : str
        ``physical``/``virtual`` and ``individual``/``grouped``.
    title : str
    blocks : tuple of Block
        The document, in order.
    stamp : str
        When the pair was decided (ISO), written as the .docx's creation time, so the same
        ledger gives the same bytes.
    """

    visitor_id: str
    host_id: str
    status: str
    round_id: int
    mode: str
    form: str
    title: str
    blocks: tuple[Block, ...] = field(default_factory=tuple)
    stamp: str = ""

    @property
    def file_stem(self) -> str:
        """``ctq_<visitor>_<host>``: file names from the ids (characters outside ``A-Za-z0-9.-`` become ``-``,
        and a short hash of the ids is added then, so two pairs never share a name)."""
        return file_stem(self.visitor_id, self.host_id)

    def to_complete(self) -> list[str]:
        """Every part left for people to finish, in document order (without the brackets)."""
        found = []
        for block in self.blocks:
            for runs in _texts(block):
                found.extend(r.text for r in runs if r.todo)
        return found


def _texts(block: Block) -> list[Text]:
    if isinstance(block, Paragraph):
        return [block.runs]
    if isinstance(block, Bullets):
        return list(block.items)
    if isinstance(block, Table):
        return [cell for row in block.rows for cell in row]
    return []


_UNSAFE = re.compile(r"[^A-Za-z0-9.-]")  # "_" separates the two ids


def file_stem(visitor_id: str, host_id: str) -> str:
    """The draft's file name without its suffix (see :attr:`CtqDraft.file_stem`)."""
    v, h = _UNSAFE.sub("-", str(visitor_id)), _UNSAFE.sub("-", str(host_id))
    stem = f"ctq_{v}_{h}"
    if (v, h) != (str(visitor_id), str(host_id)) or v.startswith("."):
        stem += "_" + hashlib.sha256(f"{visitor_id}\x00{host_id}".encode()).hexdigest()[:8]
    return stem


def present(value: object) -> bool:
    """False for a missing value (``None``, NaN, NaT, ``pd.NA``, an empty string)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return False
    try:
        return not bool(pd.isna(value))
    except (TypeError, ValueError):
        return True
