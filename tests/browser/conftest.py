"""Fixtures for the browser tests: one JupyterLab server and one Chromium page per session.

They run only under `make test-browser` (COURSE_TEST_BROWSER=1), and skip with the reason when
Playwright or Chromium is missing, so `pytest tests` stays fast and works anywhere.
"""

from __future__ import annotations

import os

import pytest
from lab_session import CHROMIUM, CHROMIUM_ARGS, copy_course, start_lab


def pytest_collection_modifyitems(config, items):
    if os.environ.get("COURSE_TEST_BROWSER") == "1":
        return
    skip = pytest.mark.skip(reason="browser tests run with `make test-browser`")
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("Playwright for Python is not installed (`make test-browser` installs it)")
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    root = tmp_path_factory.mktemp("course")
    work = tmp_path_factory.mktemp("lab")
    copy_course(root)
    # Progress bars on (the default); Agg is not forced: the lessons choose inline themselves.
    server = start_lab(root, work, {"COURSE_LIB_PROGRESS": "1", "PYTHONHASHSEED": "0"})
    yield server
    server.stop()


@pytest.fixture()
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(scope="session")
def run_all_times():
    times: dict[str, float] = {}
    yield times
    if times:
        print("\nRun All in JupyterLab (seconds):")
        for name, seconds in times.items():
            print(f"  {name:45s} {seconds:6.1f}")
