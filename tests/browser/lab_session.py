"""A JupyterLab server and a Chromium page for the browser tests: start, open, Run All, inspect.

Everything here drives JupyterLab the way a learner does (menus, keyboard), so a passing test
means the course works in a real browser, not just under nbval.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium"))
# Without these, Chromium keeps trying to reach Google's services, which this machine refuses.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
# Settings a fresh JupyterLab needs for a test: no news toast over the page, and every cell in
# the DOM (windowing off), so outputs far down a notebook can be inspected.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {
        "windowingMode": "none", "autoStartDefaultKernel": True},
}
COURSE_FOLDERS = ("notebooks", "exercises", "solutions")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def copy_course(root: Path) -> None:
    """Serve a copy: JupyterLab autosaves, and the repository's notebooks must stay as stored."""
    for folder in COURSE_FOLDERS:
        shutil.copytree(REPO / folder, root / folder,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints"))


def write_settings(settings_dir: Path) -> None:
    for name, values in LAB_SETTINGS.items():
        path = settings_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


@dataclass
class LabServer:
    url: str
    token: str
    root: Path
    process: subprocess.Popen

    def tree_url(self, path: str) -> str:
        # ?reset: start from an empty workspace, not with the tabs an earlier page left open
        return f"{self.url}/lab/tree/{path}?reset&token={self.token}"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start_lab(root: Path, work: Path, env_overrides: dict[str, str]) -> LabServer:
    port, token = free_port(), "course-browser-test"
    write_settings(work / "settings")
    env = {**os.environ, **env_overrides,
           "JUPYTERLAB_SETTINGS_DIR": str(work / "settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(work / "workspaces")}
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}",
           f"--ServerApp.token={token}", f"--ServerApp.root_dir={root}",
           "--ServerApp.ip=127.0.0.1"]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    log = (work / "lab.log").open("w")
    process = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = LabServer(f"http://127.0.0.1:{port}", token, root, process)
    wait_until_listening(port, process, work / "lab.log")
    return server


def wait_until_listening(port: int, process: subprocess.Popen, log: Path,
                         timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"jupyter lab exited early:\n{log.read_text()[-2000:]}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"jupyter lab did not listen on port {port} within {timeout} s")


def tagged_cells(path: Path) -> list[bool]:
    """For each cell of the stored notebook: is it tagged raises-exception?"""
    cells = json.loads(path.read_text())["cells"]
    return ["raises-exception" in c.get("metadata", {}).get("tags", []) for c in cells]


def stored_image_count(path: Path) -> int:
    cells = json.loads(path.read_text())["cells"]
    return sum("image/png" in out.get("data", {})
               for c in cells if c["cell_type"] == "code" for out in c.get("outputs", []))


# --- the page -------------------------------------------------------------------------------
KERNEL_IDLE_JS = """() => {
  const el = document.querySelector(
    '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator');
  return el ? el.getAttribute('data-status') : null;
}"""

BUSY_CELLS_JS = """() => Array.from(document.querySelectorAll(
  '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputPrompt'))
  .filter(p => p.textContent.includes('*')).length"""

UNRUN_CELLS_JS = """() => Array.from(document.querySelectorAll(
  '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputPrompt'))
  .filter(p => !/\\[\\d+\\]/.test(p.textContent)).length"""

CELL_ERRORS_JS = """() => Array.from(document.querySelectorAll(
  '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell')).map(cell =>
  Array.from(cell.querySelectorAll('.jp-OutputArea-output'))
    .filter(o => o.getAttribute('data-mime-type') === 'application/vnd.jupyter.stderr'
                 || o.querySelector(
                      '.jp-RenderedText[data-mime-type="application/vnd.jupyter.stderr"]'))
    .map(o => o.innerText.slice(0, 300)))"""

IMAGES_JS = """() => Array.from(document.querySelectorAll(
  '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-RenderedImage img')).map(img => {
    const r = img.getBoundingClientRect();
    return {w: img.naturalWidth, h: img.naturalHeight, bw: r.width, bh: r.height,
            alt: img.getAttribute('alt') || ''};
  })"""


def open_notebook(page: Any, server: LabServer, path: str, timeout_s: float = 90) -> None:
    page.goto(server.tree_url(path))
    page.wait_for_selector(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook",
                           timeout=timeout_s * 1000)
    wait_for(lambda: page.evaluate(KERNEL_IDLE_JS) == "idle"
             and "No Kernel" not in page.inner_text(".jp-StatusBar-Widget, .jp-StatusBar"),
             timeout_s, f"the kernel of {path} to be idle")
    page.click(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell >> nth=0")  # focus the notebook


def start_run_all(page: Any) -> None:
    page.click(".lm-MenuBar-itemLabel:text-is('Run')")
    page.click(".lm-Menu-item[data-command='runmenu:run-all']")


def run_all(page: Any, timeout_s: float = 300) -> float:
    """Run > Run All Cells, then wait until every code cell has run, or the run stopped at an
    error (the test then says which cells show it); returns the seconds it took."""
    unrun_before = page.evaluate(UNRUN_CELLS_JS)
    start = time.monotonic()
    start_run_all(page)
    wait_for(lambda: page.evaluate(BUSY_CELLS_JS) > 0
             or page.evaluate(UNRUN_CELLS_JS) < unrun_before, 30, "Run All to start")

    def finished() -> bool:
        if page.evaluate(BUSY_CELLS_JS) or page.evaluate(KERNEL_IDLE_JS) != "idle":
            return False
        return page.evaluate(UNRUN_CELLS_JS) == 0 or any(page.evaluate(CELL_ERRORS_JS))

    wait_for(finished, timeout_s, "Run All to finish")
    return time.monotonic() - start


def wait_for(condition: Any, timeout_s: float, what: str, every: float = 0.25) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")
