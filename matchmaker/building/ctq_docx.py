"""A Commitment to Quality draft as an editable Word document (python-docx), byte for byte reproducible.

Parts to finish (:class:`~matchmaker.building.draft.Run` with ``todo``) are written
``[to complete: ...]``, highlighted in yellow. The document's creation time is the pair's
decision time and the zip entries carry a fixed date, so the same ledger gives the same bytes
(``matchmaker ctq`` can then tell a draft left as it was from one that people edited).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile

import docx
from docx.enum.text import WD_COLOR_INDEX
from docx.shared import Pt

from matchmaker.building.draft import Bullets, CtqDraft, Heading, Paragraph, Run, Table, Text

#: The zip entries' date (the earliest a zip file can hold).
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
#: Characters XML 1.0 cannot hold (control characters, lone surrogates, U+FFFE/U+FFFF): shown as U+FFFD.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def clean(value: str) -> str:
    """``value`` with every character a Word document cannot hold replaced by U+FFFD."""
    return _NOT_XML.sub("\ufffd", str(value))


def _runs(paragraph, runs: Text) -> None:
    for r in runs:
        run = paragraph.add_run(clean(r.shown()))
        if r.todo:
            run.font.highlight_color = WD_COLOR_INDEX.YELLOW
            run.italic = True


def _table(document, block: Table) -> None:
    table = document.add_table(rows=1, cols=len(block.header))
    table.style = "Table Grid"
    for cell, title in zip(table.rows[0].cells, block.header):
        cell.paragraphs[0].add_run(clean(title)).bold = True
    for row in block.rows:
        cells = table.add_row().cells
        for cell, runs in zip(cells, row):
            _runs(cell.paragraphs[0], runs)
    document.add_paragraph()


def _stamp(draft: CtqDraft) -> dt.datetime:
    try:
        when = dt.datetime.fromisoformat(draft.stamp) if draft.stamp else dt.datetime(2020, 1, 1)
    except ValueError:
        when = dt.datetime(2020, 1, 1)
    return when.replace(tzinfo=None, microsecond=0)


def _deterministic(data: bytes) -> bytes:
    """The same zip with every entry dated :data:`ZIP_DATE`, in the same order."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=ZIP_DATE)
            entry.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(entry, src.read(info.filename))
    return out.getvalue()


def docx_bytes(draft: CtqDraft) -> bytes:
    """The draft as a ``.docx`` file's bytes."""
    document = docx.Document()
    document.styles["Normal"].font.size = Pt(10.5)
    props = document.core_properties
    props.title, props.author, props.last_modified_by = clean(draft.title)[:255], "matchmaker", "matchmaker"
    props.subject = "ClusterXchange Commitment to Quality (draft)"
    props.created = props.modified = _stamp(draft)
    props.revision = 1
    document.add_heading(clean(draft.title), level=0)
    for block in draft.blocks:
        if isinstance(block, Heading):
            document.add_heading(clean(block.text), level=block.level)
        elif isinstance(block, Paragraph):
            paragraph = document.add_paragraph()
            _runs(paragraph, block.runs)
            if block.note:
                for run in paragraph.runs:
                    run.font.size = Pt(9)
                    run.italic = True
        elif isinstance(block, Bullets):
            for item in block.items:
                _runs(document.add_paragraph(style="List Bullet"), item)
        elif isinstance(block, Table):
            _table(document, block)
    buffer = io.BytesIO()
    document.save(buffer)
    return _deterministic(buffer.getvalue())


def docx_text(path_or_bytes: object) -> str:
    """Every paragraph and table cell of a ``.docx`` as text, one per line (to read a draft back)."""
    source = io.BytesIO(path_or_bytes) if isinstance(path_or_bytes, bytes) else path_or_bytes
    document = docx.Document(source)
    lines = [p.text for p in document.paragraphs]
    for table in document.tables:
        lines += [" | ".join(c.text for c in row.cells) for row in table.rows]
    return "\n".join(lines)


__all__ = ["Run", "clean", "docx_bytes", "docx_text"]
