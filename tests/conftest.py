"""Shared test settings."""

from hypothesis import settings

# The same examples on every run, so a CI failure can be reproduced locally.
settings.register_profile("course", derandomize=True, deadline=None, print_blob=True)
settings.load_profile("course")
