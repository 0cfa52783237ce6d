"""Generate ``docs/data-format.md`` from :mod:`matchmaker.common.schema` and the vocabularies.

Usage::

    .venv/bin/python scripts/gen_data_format_doc.py          # rewrite the doc
    .venv/bin/python scripts/gen_data_format_doc.py --check  # exit 1 if it is stale

The doc is never edited by hand: change ``matchmaker/common/schema.py`` (or
``data/reference/vocabularies.csv``) and run this script; ``tests/inputs/test_loading.py``
fails when the committed doc differs from the generated one.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from matchmaker.common import schema
from matchmaker.inputs.columns import range_text
from matchmaker.inputs.reference import REFERENCE_DIR, load_vocabulary_labels

DOC = Path(__file__).resolve().parents[1] / "docs" / "data-format.md"

FILES = (
    ("registrations", "registrations.csv` or `registrations.xlsx",
     "One row per registration. An organisation registered as both host and visitor has one row "
     "per role. Columns marked *host* or *visitor* are required on rows of that role only; filled on "
     "rows of the other role they are ignored with a warning. A registration that is well-formed but "
     "not eligible (organisation type `other`, a country with `cosme = false`, ...) loads fine and is "
     "reported by `matchmaker validate` as unable to take part."),
    ("partnerships", "partnerships.csv",
     "One row per Partnership (ESCP-4x) taking part in the round; required. The reference file "
     "`data/reference/partnerships.csv` is a template (its budgets are illustrative)."),
    ("countries", "countries.csv",
     "Optional: when the round has none, `data/reference/countries.csv` is used and a warning says "
     "so. Lists every country a registration or partnership may name, with its COSME participation "
     "and the lump-sum threshold for hosts in it."),
    ("decisions", "decisions.csv",
     "Optional: decisions of the Partnerships carried into this round. A header without rows means "
     "no decisions. A pair may appear once; `visitor_id` must be a visitor row and `host_id` a host "
     "row of the registrations."),
)

SPECIAL = {
    "country": "a `country` of `countries.csv`",
    "partnership": "a `partnership_id` of `partnerships.csv`",
    "partnership_or_auto": "a `partnership_id` of `partnerships.csv`, or `auto` (automatic selection)",
}

TYPES = {"str": "text", "int": "whole number", "float": "number", "date": "ISO date",
         "bool": "boolean", "code": "code", "list": "`;`-list"}


def _required(col: schema.Column) -> str:
    if col.required is True:
        return "yes"
    if col.required is False:
        return "no"
    if col.required == "cosme":
        return "when `cosme`"
    return f"*{col.required}*"


def _allowed(col: schema.Column) -> str:
    if col.type == "bool":
        return "`true`/`false` (also `yes`/`no`, `1`/`0`, `y`/`n`; any case)"
    if col.vocabulary is None:
        return "free text" if col.type == "list" else ""
    if col.vocabulary in SPECIAL:
        return SPECIAL[col.vocabulary]
    if col.vocabulary in schema.FIXED_VOCABULARIES:
        return ", ".join(f"`{c}`" for c in schema.FIXED_VOCABULARIES[col.vocabulary])
    return f"vocabulary [`{col.vocabulary}`](#vocabulary-{col.vocabulary})"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _table(spec) -> list[str]:
    lines = ["| column | type | required | allowed values | range | example | meaning |",
             "|---|---|---|---|---|---|---|"]
    for c in spec:
        example = f"`{c.example}`" if c.example else ""
        lines.append(f"| `{c.name}` | {TYPES[c.type]} | {_required(c)} | {_cell(_allowed(c))} | "
                     f"{range_text(c)} | {_cell(example)} | {_cell(c.description)} |")
    return lines


#: The host row of the registrations example (the visitor row is the schema's examples).
EXAMPLE_HOST = {"org_id": "ORG-0420", "name": "Cluster Têxtil do Norte", "role": "host", "country": "PT",
                "city": "Porto", "latitude": "41.1579", "longitude": "-8.6291", "preferred_countries": "ES",
                "already_visited": "", "description": "We offer shadowing in our recycling lab."}
ROLE_ONLY = {role: {c.name for c in schema.REGISTRATIONS if c.required == role} for role in ("host", "visitor")}


def _example_csv(kind: str, spec) -> list[str]:
    def quote(v: str) -> str:
        return f'"{v}"' if "," in v else v

    rows = [{c.name: c.example for c in spec}]
    if kind == "registrations":
        host = rows[0] | {name: "" for name in ROLE_ONLY["visitor"]} | EXAMPLE_HOST
        rows = [rows[0] | {name: "" for name in ROLE_ONLY["host"]}, host]
    lines = [",".join(c.name for c in spec)]
    lines += [",".join(quote(r[c.name]) for c in spec) for r in rows]
    return ["```csv"] + lines + ["```"]


def render() -> str:
    """The full text of ``docs/data-format.md``."""
    out = [
        "# Data format of a matching round",
        "",
        "<!-- Generated by scripts/gen_data_format_doc.py from matchmaker/common/schema.py and "
        "data/reference/vocabularies.csv. Do not edit by hand. -->",
        "",
        "A round is a directory. `matchmaker validate DIR` checks every file, row and column and reports "
        "*all* problems at once, each with file, row, column, value and the rule it breaks.",
        "",
        "| file | needed |",
        "|---|---|",
        "| `registrations.csv` or `registrations.xlsx` | yes, exactly one of the two |",
        "| `partnerships.csv` | yes |",
        "| `countries.csv` | no (default: `data/reference/countries.csv`, with a warning) |",
        "| `decisions.csv` | no |",
        "| `settings.toml` | no (default: `matchmaker/defaults/settings.toml`) |",
        "",
        "## General rules",
        "",
        "- **Encoding**: CSV files are UTF-8 (a byte-order mark, as Excel's *CSV UTF-8* writes, is "
        "accepted). Any other encoding is reported with the byte position and line of the first "
        "undecodable byte.",
        "- **CSV**: comma-separated, first row is the header, fields with commas or line breaks in double "
        "quotes. Rows are numbered as a spreadsheet shows them: the header is row 1.",
        "- **Excel**: `registrations.xlsx` is read from its **first sheet** (other sheets are ignored "
        "with a warning), header in row 1. Number, date and boolean cells may be typed cells or text.",
        f"- **Lists**: values separated by `{schema.LIST_SEPARATOR}` inside one cell "
        "(`textile;advanced_manufacturing`); spaces around items and repeated items are ignored.",
        "- **Dates**: ISO `YYYY-MM-DD`. **Numbers**: decimal point, no thousands separator. "
        "**Booleans**: `true`/`false` (also `yes`/`no`, `1`/`0`, `y`/`n`, any case).",
        "- **Codes** are case-sensitive (`ES`, not `es`; `textile`, not `Textile`).",
        "- Spaces around a cell are ignored; completely blank rows are skipped (row numbers still "
        "count them). Columns may come in any order. A column not listed here is reported as a "
        "warning and ignored; a missing required column is an error.",
        "- *host* / *visitor* in the **required** column: required on rows of that role only.",
        "",
    ]
    for kind, file_text, intro in FILES:
        spec = schema.FILES[kind]
        out += [f"## `{file_text}`", "", intro, ""] + _table(spec) + ["", "Example:", ""]
        out += _example_csv(kind, spec) + [""]
        if kind == "registrations":
            out += [
                "Further rules, checked across columns and rows:",
                "",
                "- `org_id` is unique among the rows of each role.",
                "- `available_to` is not before `available_from`; `max_days` is not below `min_days`.",
                "- A host with `grouped = false` has `capacity = 1` (docs/decisions.md §7).",
                "",
            ]
        if kind == "countries":
            out += ["`country` is unique, two capital letters; `lump_sum_eur` is required when "
                    "`cosme` is true.", ""]
        if kind == "partnerships":
            out += ["`partnership_id` is unique.", ""]
    out += [
        "## `settings.toml`",
        "",
        "Optional. Any subset of the settings documented in `matchmaker/defaults/settings.toml` "
        "(rules, lump sum, scoring weights and options, solver). Applied in this order: defaults, the "
        "round's `settings.toml`, a file given with `--settings`, then overrides from a notebook. "
        "Unknown keys and values of the wrong type or range are errors.",
        "",
        "## Vocabularies",
        "",
        "From `data/reference/vocabularies.csv` (directory overridable with the environment variable "
        "`MATCHMAKER_REFERENCE`); fixed ones: "
        + "; ".join(f"`{k}`: " + ", ".join(f"`{c}`" for c in v) for k, v in schema.FIXED_VOCABULARIES.items())
        + ".",
        "",
    ]
    labels = load_vocabulary_labels(REFERENCE_DIR)
    for name, group in labels.groupby("vocabulary", sort=False):
        out += [f"### Vocabulary `{name}`", "", "| code | meaning |", "|---|---|"]
        out += [f"| `{c}` | {_cell(lab)} |" for c, lab in zip(group["code"], group["label"])]
        out.append("")
    return "\n".join(out)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--check", action="store_true", help="exit 1 if docs/data-format.md is not up to date")
    args = p.parse_args(argv)
    text = render()
    if args.check:
        if not DOC.is_file() or DOC.read_text(encoding="utf-8") != text:
            print(f"{DOC} is stale: run scripts/gen_data_format_doc.py", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(text, encoding="utf-8")
    print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
