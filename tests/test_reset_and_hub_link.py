"""`make reset` keeps the learner's work; `make hub-link` prints well-formed links."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import hub_link  # noqa: E402
import reset_notebook  # noqa: E402

COURSE = b'{"cells": [], "course": "version"}'
NOW = datetime(2026, 12, 1, 9, 30, 5)


@pytest.fixture()
def course(tmp_path, monkeypatch):
    (tmp_path / "exercises").mkdir()
    (tmp_path / "exercises" / "05_rmsprop.ipynb").write_bytes(COURSE)
    for cmd in (["init", "-q"], ["add", "."],
                ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "course"]):
        subprocess.run(["git", "-C", str(tmp_path), *cmd], check=True)
    monkeypatch.setattr(reset_notebook, "REPO", tmp_path)
    return tmp_path


def test_reset_keeps_a_timestamped_copy_and_restores_the_course_version(course):
    sheet = course / "exercises" / "05_rmsprop.ipynb"
    sheet.write_bytes(b"my work")
    message = reset_notebook.reset(str(sheet), now=NOW)
    backup = course / "exercises" / "backups" / "05_rmsprop-20261201-093005.ipynb"
    assert backup.read_bytes() == b"my work"
    assert sheet.read_bytes() == COURSE
    assert "backups/05_rmsprop-20261201-093005.ipynb" in message


def test_reset_works_with_a_path_relative_to_the_working_directory(course, monkeypatch):
    # `make reset NB=exercises/05_rmsprop.ipynb` passes the path as typed
    monkeypatch.chdir(course)
    Path("exercises/05_rmsprop.ipynb").write_bytes(b"my work")
    message = reset_notebook.reset("exercises/05_rmsprop.ipynb", now=NOW)
    assert message.startswith("Your version is kept as exercises/backups/05_rmsprop-")
    assert Path("exercises/05_rmsprop.ipynb").read_bytes() == COURSE


def test_two_resets_in_the_same_second_never_overwrite_a_copy(course):
    sheet = course / "exercises" / "05_rmsprop.ipynb"
    sheet.write_bytes(b"first")
    reset_notebook.reset(str(sheet), now=NOW)
    sheet.write_bytes(b"second")
    reset_notebook.reset(str(sheet), now=NOW)
    backups = course / "exercises" / "backups"
    assert (backups / "05_rmsprop-20261201-093005.ipynb").read_bytes() == b"first"
    assert (backups / "05_rmsprop-20261201-093005-1.ipynb").read_bytes() == b"second"


def test_an_unchanged_sheet_is_left_alone(course):
    sheet = course / "exercises" / "05_rmsprop.ipynb"
    assert "nothing to do" in reset_notebook.reset(str(sheet), now=NOW)
    assert not (course / "exercises" / "backups").exists()


@pytest.mark.parametrize("name, why", [("exercises/05_rmsprop.py", "must be a notebook"),
                                       ("tests/x.ipynb", "must be in notebooks/ or exercises/"),
                                       ("exercises/new.ipynb", "is not part of the course")])
def test_refusals_name_the_problem_and_change_nothing(course, name, why):
    before = sorted(p.name for p in course.rglob("*"))
    with pytest.raises(reset_notebook.ResetError, match=why):
        reset_notebook.reset(str(course / name), now=NOW)
    assert sorted(p.name for p in course.rglob("*")) == before


def test_hub_link_is_an_nbgitpuller_link_to_the_first_lesson():
    link = hub_link.hub_link("https://hub.example.edu/", "https://github.com/org/course.git")
    parts = urlsplit(link)
    assert (parts.netloc, parts.path) == ("hub.example.edu", "/hub/user-redirect/git-pull")
    query = parse_qs(parts.query)
    assert query == {"repo": ["https://github.com/org/course.git"], "branch": ["main"],
                     "urlpath": ["lab/tree/course/notebooks/01_welcome.ipynb"]}


def test_binder_link_opens_the_first_lesson():
    link = hub_link.binder_link("https://github.com/org/course", branch="dev")
    assert link == ("https://mybinder.org/v2/gh/org/course/dev"
                    "?urlpath=lab%2Ftree%2Fnotebooks%2F01_welcome.ipynb")


@pytest.mark.parametrize("argv", [["--repo", "github.com/org/course"],
                                  ["--repo", "https://gitlab.com/org/course"]])
def test_hub_link_command_refuses_what_it_cannot_link(argv, capsys):
    assert hub_link.main(argv) == 2
    assert "hub-link:" in capsys.readouterr().err


@pytest.mark.parametrize("hub", ["hub.example.edu", "ftp://hub", ""])
def test_hub_link_refuses_an_address_that_is_not_a_url(hub):
    with pytest.raises(ValueError, match="hub must be an http"):
        hub_link.hub_link(hub, "https://github.com/org/course")
