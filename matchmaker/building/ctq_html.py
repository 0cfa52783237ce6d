"""A Commitment to Quality draft as a readable, self-contained HTML preview.

One file, no scripts, no outside resources: inline CSS, every text escaped
(:func:`html.escape`, quotes included). Parts to finish are ``<mark>[to complete: ...]</mark>``.
"""

from __future__ import annotations

import html

from matchmaker.building.draft import Bullets, CtqDraft, Heading, Paragraph, Table, Text

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Arial, sans-serif; max-width: 60rem; margin: 2rem auto;
       padding: 0 1rem; color: #1d1d1f; line-height: 1.45; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 1.6rem; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; }
th, td { border: 1px solid #bbb; padding: .35rem .5rem; text-align: left; vertical-align: top; }
th { background: #eef2f7; }
td:empty { min-width: 7rem; height: 2.2rem; }
mark { background: #fff1a8; font-style: italic; }
.note { font-size: .9rem; color: #444; font-style: italic; }
.banner { background: #fff8d6; border: 1px solid #e6cf6b; padding: .5rem .75rem; }
"""


def _runs(runs: Text) -> str:
    return "".join(f"<mark>{html.escape(r.shown())}</mark>" if r.todo else html.escape(r.text) for r in runs)


def _block(block: object) -> str:
    if isinstance(block, Heading):
        level = min(block.level + 1, 6)
        return f"<h{level}>{html.escape(block.text)}</h{level}>"
    if isinstance(block, Paragraph):
        return f'<p class="note">{_runs(block.runs)}</p>' if block.note else f"<p>{_runs(block.runs)}</p>"
    if isinstance(block, Bullets):
        return "<ul>" + "".join(f"<li>{_runs(item)}</li>" for item in block.items) + "</ul>"
    if isinstance(block, Table):
        head = "".join(f"<th>{html.escape(h)}</th>" for h in block.header)
        body = "".join("<tr>" + "".join(f"<td>{_runs(c)}</td>" for c in row) + "</tr>" for row in block.rows)
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    raise TypeError(f"not a block of a draft: {type(block).__name__}")


def html_text(draft: CtqDraft) -> str:
    """The draft as one self-contained HTML page."""
    parts = [f"<h1>{html.escape(draft.title)}</h1>",
             '<p class="banner">Preview of the editable Word draft. Highlighted parts '
             "<mark>[to complete: ...]</mark> are for host and visitor to finish.</p>",
             *(_block(b) for b in draft.blocks)]
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{html.escape(draft.title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
            + "\n".join(parts) + "\n</body>\n</html>\n")


__all__ = ["html_text"]
