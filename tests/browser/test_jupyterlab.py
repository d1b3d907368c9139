"""The course in a real JupyterLab, in Debian's Chromium driven by Playwright (`make test-browser`).

For every lesson: open it, Run All, wait for the kernel, and require that every code cell ran,
that no cell shows an error unless it is tagged ``raises-exception``, and that every stored
figure is drawn and visible. Also: the widget redraws when a slider moves; an exercise sheet
shows the pass line for a right answer and the targeted message for a wrong one; a long run
shows a progress bar. One screenshot per notebook goes to ``build/screenshots/``.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from lab_session import (
    CELL_ERRORS_JS,
    IMAGES_JS,
    REPO,
    UNRUN_CELLS_JS,
    open_notebook,
    run_all,
    start_run_all,
    stored_image_count,
    tagged_cells,
    wait_for,
)

SCREENSHOTS = REPO / "build" / "screenshots"
LESSONS = sorted(p.name for p in (REPO / "notebooks").glob("*.ipynb"))


def screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{Path(name).stem}.png"))


@pytest.mark.parametrize("lesson", LESSONS)
def test_lesson_runs_all_in_the_browser(page, lab, lesson, run_all_times):
    open_notebook(page, lab, f"notebooks/{lesson}")
    seconds = run_all(page)
    run_all_times[lesson] = seconds
    print(f"\nRun All {lesson}: {seconds:.1f} s")
    screenshot(page, lesson)
    assert page.evaluate(UNRUN_CELLS_JS) == 0, "some code cells never ran"
    tagged = tagged_cells(lab.root / "notebooks" / lesson)
    errors = page.evaluate(CELL_ERRORS_JS)
    assert len(errors) == len(tagged), "the page's cells do not match the notebook's"
    unexpected = {i: e for i, e in enumerate(errors) if e and not tagged[i]}
    assert not unexpected, f"cells show errors without the raises-exception tag: {unexpected}"
    images = page.evaluate(IMAGES_JS)
    assert len(images) == stored_image_count(lab.root / "notebooks" / lesson)
    hidden = [im for im in images if not (im["w"] > 0 and im["bw"] > 0 and im["bh"] > 0)]
    assert not hidden, f"figures not drawn or not visible: {hidden}"


def test_widget_slider_redraws_the_figure(page, lab):
    open_notebook(page, lab, "notebooks/05_rmsprop.ipynb")
    run_all(page)
    slider = page.locator(".widget-slider .ui-slider-handle, .widget-slider .noUi-handle").first
    slider.wait_for(state="visible", timeout=30_000)
    explorer = page.locator(".jupyter-widgets img").first
    before = explorer.get_attribute("src")
    slider.scroll_into_view_if_needed()
    slider.focus()
    page.keyboard.press("ArrowRight")
    wait_for(lambda: explorer.get_attribute("src") != before, 20, "the explorer to redraw")
    shown = explorer.evaluate("img => [img.naturalWidth, img.clientWidth, img.naturalHeight,"
                              " img.clientHeight, img.getBoundingClientRect().right]")
    assert shown[0] == shown[1] and shown[2] == shown[3], f"the PNG is rescaled: {shown}"
    assert shown[4] <= 1400, f"the explorer does not fit a 1400-pixel window: {shown}"
    screenshot(page, "widget_after_slider")


def _sheet_with_answer(lab, sheet: str, exercise: str, answer: str | None) -> str:
    """A copy of the solution sheet, optionally with one answer cell replaced."""
    nb = json.loads((lab.root / "solutions" / f"{sheet}.ipynb").read_text())
    for cell in nb["cells"]:
        course = cell.get("metadata", {}).get("course", {})
        if answer is not None and course.get("exercise") == exercise \
                and course.get("role") == "answer":
            cell["source"] = answer
    name = f"browser_{exercise}_{'right' if answer is None else 'wrong'}.ipynb"
    (lab.root / "exercises" / name).write_text(json.dumps(nb))
    return f"exercises/{name}"


WRONG_ADAGRAD_STEP = '''import numpy as np


def adagrad_step(p, g, s, lr, eps=1e-10):
    s = s + g * g
    return p - lr * g / np.sqrt(s + eps), s
'''


def _outputs_text(page) -> str:
    return page.inner_text(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook")


def test_exercise_sheet_shows_pass_line_and_targeted_message(page, lab):
    right = _sheet_with_answer(lab, "04_adagrad", "adagrad_step", None)
    open_notebook(page, lab, right)
    run_all(page)
    assert re.search(r"\[adagrad_step\] passed", _outputs_text(page))
    screenshot(page, "exercise_right_answer")
    wrong = _sheet_with_answer(lab, "04_adagrad", "adagrad_step", WRONG_ADAGRAD_STEP)
    open_notebook(page, lab, wrong)
    run_all(page)
    text = _outputs_text(page)
    assert "eps outside the square root" in text
    assert not re.search(r"\[adagrad_step\] passed", text)
    screenshot(page, "exercise_wrong_answer")


LONG_RUN = """from course_lib import minimize, ill_conditioned_quadratic
from course_lib.optim import SGD
import time
start = time.perf_counter()
run = minimize(ill_conditioned_quadratic(10.0), SGD(lr=0.01), [1.0, 1.0], steps=400_000)
print("finished", run.steps, "steps")
"""


def test_a_long_run_shows_a_progress_bar(page, lab):
    nb = {"cells": [{"cell_type": "code", "execution_count": None, "id": "long-run",
                     "metadata": {}, "outputs": [], "source": LONG_RUN}],
          "metadata": {"kernelspec": {"display_name": "Python 3 (ipykernel)",
                                      "language": "python", "name": "python3"}},
          "nbformat": 4, "nbformat_minor": 5}
    (lab.root / "notebooks" / "browser_progress.ipynb").write_text(json.dumps(nb))
    open_notebook(page, lab, "notebooks/browser_progress.ipynb")
    start_run_all(page)
    bar = page.locator(".widget-hprogress")
    bar.first.wait_for(state="visible", timeout=60_000)
    screenshot(page, "progress_bar")
    wait_for(lambda: "finished 400000 steps" in _outputs_text(page), 180, "the long run")
    time.sleep(0.5)
    assert bar.count() == 0, "the bar should go away when the run ends (leave=False)"
