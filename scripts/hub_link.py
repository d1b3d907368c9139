"""Print the links that open this course on a JupyterHub (nbgitpuller) or on Binder.

    python scripts/hub_link.py --hub https://hub.example.edu --repo https://github.com/ORG/REPO
    make hub-link HUB=https://hub.example.edu REPO=https://github.com/ORG/REPO [BRANCH=main]

nbgitpuller clones the repository into each learner's home on first click and, on later clicks,
merges the course's updates without overwriting what the learner changed.
"""

from __future__ import annotations

import argparse
import sys
from urllib.parse import quote, urlencode, urlsplit

FIRST_LESSON = "notebooks/01_welcome.ipynb"


def _checked_url(name: str, value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{name} must be an http(s) URL such as https://host/path, got {value!r}.")
    return value.rstrip("/")


def repo_folder(repo: str) -> str:
    """The folder nbgitpuller clones into: the repository's name."""
    name = urlsplit(repo).path.rstrip("/").rsplit("/", 1)[-1]
    return name[:-4] if name.endswith(".git") else name


def hub_link(hub: str, repo: str, branch: str = "main", path: str = FIRST_LESSON) -> str:
    hub, repo = _checked_url("hub", hub), _checked_url("repo", repo)
    query = urlencode({"repo": repo, "branch": branch,
                       "urlpath": f"lab/tree/{repo_folder(repo)}/{path}"})
    return f"{hub}/hub/user-redirect/git-pull?{query}"


def binder_link(repo: str, branch: str = "main", path: str = FIRST_LESSON) -> str:
    parts = urlsplit(_checked_url("repo", repo))
    if parts.netloc != "github.com":
        raise ValueError(f"the Binder link is written for GitHub repositories, got {repo!r}.")
    owner_repo = parts.path.strip("/").removesuffix(".git")
    return (f"https://mybinder.org/v2/gh/{owner_repo}/{quote(branch, safe='')}"
            f"?urlpath={quote(f'lab/tree/{path}', safe='')}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hub", help="the hub's address, e.g. https://hub.example.edu")
    parser.add_argument("--repo", required=True, help="the course repository's public URL")
    parser.add_argument("--branch", default="main")
    parser.add_argument("--path", default=FIRST_LESSON, help="the notebook to open")
    args = parser.parse_args(argv)
    try:
        repo = _checked_url("repo", args.repo)
        on_github = urlsplit(repo).netloc == "github.com"
        if not args.hub and not on_github:
            raise ValueError("give --hub (a Binder link needs a github.com repository), "
                             f"got repo {repo!r} and no hub.")
        if args.hub:
            print(f"JupyterHub: {hub_link(args.hub, repo, args.branch, args.path)}")
        if on_github:
            print(f"Binder:     {binder_link(repo, args.branch, args.path)}")
    except ValueError as exc:
        print(f"hub-link: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
