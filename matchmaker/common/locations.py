"""Where runtime files go by default: the ledger, the outputs, the notebooks' workspace.

One place for these decisions, so that the command line, the ledger and the notebooks
agree (docs: README "Notebooks"):

* a round's ledger is ``ROUND_DIR/ledger.sqlite`` (:func:`default_ledger_path`,
  :func:`default_ledger_url`); ``.gitignore`` ignores ``*.sqlite`` so a ledger beside a
  tracked round (``data/sample``) is never committed;
* outputs go under ``out/`` of the project (ignored by git): a round's results in
  ``out/<round folder name>-round`` (:func:`default_output_dir`), exports and re-solved
  rounds in ``out/exports`` and ``out/resolved``;
* the notebooks people use are copies in ``out/notebooks/`` (:data:`WORKSPACE`), made by
  ``scripts/lab.sh``; the tracked ``notebooks/`` stay untouched.

The project folder is ``$MATCHMAKER_PROJECT`` when set (``scripts/lab.sh`` sets it), else
the nearest folder, from the current one upwards, that holds ``data/`` or
``pyproject.toml``, else the current folder.
"""

from __future__ import annotations

import os
from pathlib import Path

#: File name of the default SQLite ledger inside a round folder.
LEDGER_FILE = "ledger.sqlite"
#: The folder, inside the project, for every runtime file (ignored by git).
OUT = "out"
#: Where the notebooks people open live (copies of ``notebooks/``), inside the project.
WORKSPACE = "out/notebooks"
#: The environment variable naming the project folder.
PROJECT_ENV = "MATCHMAKER_PROJECT"


def default_ledger_path(round_dir: str | Path) -> Path:
    """The default ledger file of a round: ``ROUND_DIR/ledger.sqlite`` (absolute)."""
    return Path(round_dir).expanduser().resolve() / LEDGER_FILE


def default_ledger_url(round_dir: str | Path) -> str:
    """The default ledger URL of a round: ``sqlite:///ROUND_DIR/ledger.sqlite`` (absolute path)."""
    return f"sqlite:///{default_ledger_path(round_dir)}"


def project_dir(start: str | Path | None = None) -> Path:
    """The project folder (see the module docstring), absolute."""
    env = os.environ.get(PROJECT_ENV)
    if env:
        return Path(env).expanduser().resolve()
    here = Path(start if start is not None else Path.cwd()).expanduser().resolve()
    for folder in (here, *here.parents):
        if (folder / "data").is_dir() or (folder / "pyproject.toml").is_file():
            return folder
    return here


def default_output_dir(round_dir: str | Path, project: str | Path | None = None) -> Path:
    """Where a round's results go by default: ``PROJECT/out/<round folder name>-round``."""
    base = Path(project) if project is not None else project_dir()
    return base / OUT / f"{Path(round_dir).expanduser().resolve().name}-round"


def out_folder(name: str, project: str | Path | None = None) -> Path:
    """``PROJECT/out/<name>``: exports, re-solved rounds and other runtime files."""
    base = Path(project) if project is not None else project_dir()
    return base / OUT / name
