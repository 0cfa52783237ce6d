"""Open the notebooks in JupyterLab without touching the tracked ones: ``bash scripts/lab.sh``.

The notebooks in ``notebooks/`` are the product's; people use copies of them in
``out/notebooks/`` (:data:`matchmaker.common.locations.WORKSPACE`, ignored by git), made
when missing (``--refresh`` replaces them with the current versions, keeping the old
ones as ``NAME.old.ipynb``). JupyterLab is started there, with
``$MATCHMAKER_PROJECT`` set to the project folder so that the notebooks find the
rounds and put their results under ``out/``. Running a notebook, saving it, its
ledgers and outputs: nothing changes a tracked file.

    python -m matchmaker.ui.lab [--project DIR] [--refresh] [-- JUPYTER LAB OPTIONS]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

from matchmaker.common.locations import PROJECT_ENV, WORKSPACE, project_dir


def prepare_workspace(project: Path, refresh: bool = False) -> tuple[Path, list[Path]]:
    """Copy ``project/notebooks/*.ipynb`` into ``project/out/notebooks`` where missing (or all, ``refresh``).

    Returns the workspace folder and the notebooks copied. A copy replaced by
    ``refresh`` is kept as ``NAME.old.ipynb``.
    """
    source = project / "notebooks"
    if not source.is_dir():
        raise FileNotFoundError(f"{source}: no notebooks folder (run this from the matchmaker project)")
    workspace = project / WORKSPACE
    workspace.mkdir(parents=True, exist_ok=True)
    copied = []
    for nb in sorted(source.glob("*.ipynb")):
        dest = workspace / nb.name
        if dest.exists() and not refresh:
            continue
        if dest.exists():
            shutil.copy2(dest, dest.with_suffix(".old.ipynb"))
        shutil.copy2(nb, dest)
        copied.append(dest)
    return workspace, copied


def lab_command(workspace: Path, extra: list[str]) -> list[str]:
    """The ``jupyter lab`` command serving ``workspace`` (the ``jupyter`` beside this Python)."""
    jupyter = Path(sys.executable).with_name("jupyter")
    return [str(jupyter if jupyter.exists() else "jupyter"), "lab", f"--ServerApp.root_dir={workspace}", *extra]


def main(argv: list[str] | None = None) -> int:
    """Prepare the workspace and run JupyterLab in it (until it is stopped)."""
    parser = argparse.ArgumentParser(prog="scripts/lab.sh", description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, default=None, help="the project folder (default: this one)")
    parser.add_argument("--refresh", action="store_true",
                        help="replace the copies with the current notebooks (old copies kept as NAME.old.ipynb)")
    parser.add_argument("--dry-run", action="store_true", help="prepare the copies, print the command, stop")
    parser.add_argument("jupyter_args", nargs="*", help="options for jupyter lab (after --)")
    args = parser.parse_args(argv)
    project = (args.project or project_dir()).resolve()
    workspace, copied = prepare_workspace(project, args.refresh)
    for path in copied:
        print(f"copied {path.relative_to(project)}")
    cmd = lab_command(workspace, args.jupyter_args)
    print(f"notebooks in {workspace.relative_to(project)} (ignored by git); results and ledgers go under out/")
    if args.dry_run:
        print(" ".join(cmd))
        return 0
    env = dict(os.environ, **{PROJECT_ENV: str(project)})
    try:
        return subprocess.call(cmd, env=env, cwd=workspace)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
