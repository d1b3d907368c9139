"""Peak memory of one learner's kernel, lesson by lesson: what a hub needs per learner.

    .venv/bin/python benchmarks/kernel_memory.py [notebooks/*.ipynb solutions/*.ipynb]

Each notebook runs top to bottom in a fresh kernel (nbclient, as JupyterLab's Run All would);
after its last cell the kernel's peak resident memory (VmHWM in /proc, Linux only) and that of
any child processes still alive are read. It prints one row per notebook and the maximum, with
an idle kernel's peak (the same kernel running nothing) as the reference in the same process.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent


def peak_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for process {pid}")


def run_and_measure(nb: nbformat.NotebookNode, folder: Path) -> float:
    client = NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(folder)}})
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            client.execute_cell(cell, index)
        return peak_rss_mb(client.km.provisioner.process.pid)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("*.ipynb"))
    os.environ.setdefault("COURSE_LIB_PROGRESS", "0")
    os.environ.setdefault("MPLBACKEND", "Agg")
    idle = run_and_measure(nbformat.v4.new_notebook(), ROOT)
    print(f"{'idle kernel (reference)':45s} {idle:7.0f} MB")
    peaks = {}
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        try:  # nbclient, like Run All, goes past cells tagged raises-exception
            peaks[path.name] = run_and_measure(nb, path.parent)
        except Exception as exc:  # report and go on: one broken notebook should not hide others
            print(f"{path.name:45s}  failed: {type(exc).__name__}: {str(exc)[:120]}")
            continue
        print(f"{path.name:45s} {peaks[path.name]:7.0f} MB  ({peaks[path.name] / idle:.1f} x idle)")
    if peaks:
        worst = max(peaks, key=peaks.get)
        print(f"{'peak over all notebooks: ' + worst:45s} {peaks[worst]:7.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
