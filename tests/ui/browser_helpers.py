"""A real JupyterLab on loopback and a headless Chromium driven by Playwright.

Used by ``tests/ui/test_browser.py`` and ``scripts/screenshots.py``. Nothing is downloaded:
the browser is Debian's ``chromium`` (``$MATCHMAKER_CHROMIUM`` or ``chromium`` on the
PATH); ``playwright install`` is never called.

* :func:`chromium_path` finds the browser (``None`` when there is none);
* :class:`JupyterLab` starts ``jupyter lab`` on 127.0.0.1, a free port and a random token,
  with its config, data, runtime, settings and workspace folders in a temporary folder
  (so nothing of the user's is read or written), and always stops it;
* :func:`launch_chromium`, :func:`open_notebook`, :func:`run_all_cells` and
  :func:`wait_idle` drive the page.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

#: Chromium flags: headless, no sandbox (root in a container), nothing from the network.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

#: JupyterLab user settings for a quiet, deterministic page (no news pop-up, every cell
#: rendered so that widgets below the fold exist in the page).
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                         "checkForUpdates": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/themes.jupyterlab-settings": {"theme": "JupyterLab Light"},
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autoStartDefaultKernel": True},
}


def chromium_path() -> str | None:
    """``$MATCHMAKER_CHROMIUM`` if set (it must exist), else ``chromium`` on the PATH, else ``None``."""
    env = os.environ.get("MATCHMAKER_CHROMIUM")
    if env:
        if not Path(env).exists():
            raise FileNotFoundError(f"MATCHMAKER_CHROMIUM={env} does not exist")
        return env
    return shutil.which("chromium") or shutil.which("chromium-browser")


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class JupyterLab:
    """``jupyter lab`` serving ``root_dir`` on 127.0.0.1 with a random token.

    Use as a context manager; :attr:`url` is the base URL, :attr:`token` the token.
    The server's log is in :attr:`log_path`.
    """

    def __init__(self, root_dir: str | Path, startup_timeout: float = 90.0):
        self.root_dir = Path(root_dir).resolve()
        self.startup_timeout = startup_timeout
        self.token = secrets.token_hex(24)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._home = Path(tempfile.mkdtemp(prefix="mm-jupyter-"))
        self.log_path = self._home / "jupyter.log"
        self.proc: subprocess.Popen | None = None

    def _env(self) -> dict:
        env = dict(os.environ)
        settings = self._home / "lab-settings"
        for rel, content in LAB_SETTINGS.items():
            path = settings / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(content), encoding="utf-8")
        for name, sub in (("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_DATA_DIR", "data"),
                          ("JUPYTER_RUNTIME_DIR", "runtime"), ("JUPYTERLAB_WORKSPACES_DIR", "workspaces"),
                          ("IPYTHONDIR", "ipython")):
            (self._home / sub).mkdir(exist_ok=True)
            env[name] = str(self._home / sub)
        env["JUPYTERLAB_SETTINGS_DIR"] = str(settings)
        env["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
        return env

    def start(self) -> JupyterLab:
        jupyter = Path(sys.executable).with_name("jupyter")
        cmd = [str(jupyter), "lab", "--no-browser", "--ip=127.0.0.1", f"--port={self.port}",
               f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={self.root_dir}",
               "--ServerApp.port_retries=0", "--LabApp.news_url=", "--LabApp.check_for_updates_class="
               "jupyterlab.NeverCheckForUpdate"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.append("--allow-root")
        log = open(self.log_path, "w")
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=self._env(),
                                     cwd=self.root_dir, start_new_session=True)
        log.close()
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with code {self.proc.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/status?token={self.token}", timeout=2) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise TimeoutError(f"jupyter lab did not answer within {self.startup_timeout}s:\n{self.log()}")

    def log(self) -> str:
        """The server's log so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        """Stop the server and its kernels (the whole process group), then remove its folders."""
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=15)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(timeout=5)
        shutil.rmtree(self._home, ignore_errors=True)

    def lab_url(self, path: str) -> str:
        """URL opening ``path`` (relative to the root) in JupyterLab."""
        return f"{self.url}/lab/tree/{path}?token={self.token}&reset"

    def __enter__(self) -> JupyterLab:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def launch_chromium(playwright, executable: str):
    """Headless Chromium from ``executable`` with :data:`CHROMIUM_ARGS`."""
    return playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)


def open_notebook(page, lab: JupyterLab, path: str, timeout_ms: int = 90_000) -> None:
    """Open ``path`` in JupyterLab and wait until its kernel is idle."""
    page.goto(lab.lab_url(path), timeout=timeout_ms)
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=timeout_ms)
    dialog = page.locator(".jp-Dialog button.jp-mod-accept", has_text="Select")
    try:  # the kernel choice dialog, if this JupyterLab asks anyway
        dialog.click(timeout=3000)
    except Exception:  # no dialog (a timeout): nothing to do
        pass
    wait_idle(page, timeout_ms)


def wait_idle(page, timeout_ms: int = 90_000) -> None:
    """Wait until the notebook's kernel is connected and idle."""
    page.wait_for_selector(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator[data-status='idle']",
                           state="attached", timeout=timeout_ms)


def run_all_cells(page) -> None:
    """Run → Run All Cells, from the menu bar, as a user does."""
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()


def wait_for_cells(page, timeout_ms: int = 180_000) -> None:
    """Wait until every code cell of the open notebook has run (no ``[*]`` left, kernel idle)."""
    page.wait_for_function(
        """() => {
            const prompts = [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) '
                + '.jp-CodeCell .jp-InputPrompt')];
            return prompts.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p.textContent));
        }""", timeout=timeout_ms)
    wait_idle(page, timeout_ms)


def cell_errors(page) -> list[str]:
    """Text of any error output in the open notebook (tracebacks)."""
    stderr = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").all()
    return [e.inner_text() for e in stderr if "Traceback" in e.inner_text() or "Error" in e.inner_text()]


def tracebacks(page) -> list[str]:
    """Any output of the open notebook (text, HTML, widgets) showing a traceback or an exception's name."""
    outputs = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output").all()
    bad = ("Traceback", "Error:", "Exception:")
    return [t for t in (o.inner_text() for o in outputs) if any(b in t for b in bad)]
