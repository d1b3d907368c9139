"""Shared test settings."""

import pytest
from hypothesis import settings

# The same examples on every run, so a CI failure can be reproduced locally.
settings.register_profile("course", derandomize=True, deadline=None, print_blob=True)
settings.load_profile("course")


@pytest.fixture(autouse=True)
def _fresh_help_levels() -> None:
    """Each test starts at the first level of a check's help (the runner counts failures)."""
    from course_lib.cases import _runner

    _runner.FAILURES.clear()
