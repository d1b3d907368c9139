"""Every lesson has the shape the course promises: one title, headings in order, learning
objectives first, References last (with links), and a text alternative for every figure."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS_ALL = sorted(NOTEBOOKS.glob("*.ipynb"))  # the lessons and the appendix
LESSONS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
HEADING = re.compile(r"^(#{1,6})\s+(.*\S)\s*$")


def cells(path: Path) -> list[dict]:
    return json.loads(path.read_text())["cells"]


def source(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def headings(path: Path) -> list[tuple[int, str]]:
    found = []
    for cell in cells(path):
        if cell["cell_type"] != "markdown":
            continue
        in_code = False
        for line in source(cell).splitlines():
            in_code ^= line.startswith("```")
            match = None if in_code else HEADING.match(line)
            if match:
                found.append((len(match.group(1)), match.group(2)))
    return found


@pytest.mark.parametrize("path", NOTEBOOKS_ALL, ids=lambda p: p.name)
def test_one_title_and_headings_in_order(path):
    levels = [level for level, _ in headings(path)]
    assert levels and levels[0] == 1, "the first heading must be the notebook's title (#)"
    assert levels.count(1) == 1, "exactly one H1 per notebook"
    skips = [(a, b) for a, b in zip(levels, levels[1:], strict=False) if b > a + 1]
    assert not skips, f"headings skip a level: {skips}"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_learning_objectives_first(path):
    markdown = [source(c) for c in cells(path) if c["cell_type"] == "markdown"]
    assert re.search(r"learning objectives", " ".join(markdown[:2]), re.IGNORECASE), \
        "the first cells must state the learning objectives"


@pytest.mark.parametrize("path", NOTEBOOKS_ALL, ids=lambda p: p.name)
def test_references_last_with_links(path):
    markdown = [source(c) for c in cells(path) if c["cell_type"] == "markdown"]
    last_heading = headings(path)[-1][1]
    assert last_heading.lower() == "references", f"last section is {last_heading!r}"
    references = markdown[-1]
    assert len(re.findall(r"\]\(https?://", references)) >= 1, "References need links"


@pytest.mark.parametrize("path", NOTEBOOKS_ALL, ids=lambda p: p.name)
def test_every_figure_has_a_text_alternative(path):
    missing = []
    for index, cell in enumerate(cells(path)):
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "image/png" not in data:
                continue
            alt = output.get("metadata", {}).get("image/png", {}).get("alt", "")
            outputs = cell["outputs"]
            after = outputs[outputs.index(output) + 1] if output is not outputs[-1] else {}
            caption = "course-figure-caption" in "".join(after.get("data", {}).get("text/html", ""))
            if not alt.strip() or not caption:
                missing.append(index)
    assert not missing, (f"figures without alt text and caption in cells {missing} "
                         "(use course_lib.plots.show)")
