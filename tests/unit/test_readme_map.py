"""The README's map of the code ("How it is built") names only paths that exist."""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

REPOSITORY = Path(__file__).resolve().parents[2]
SECTION = "## How it is built"


def how_it_is_built() -> str:
    readme = (REPOSITORY / "README.md").read_text()
    start = readme.index(SECTION)
    end = readme.find("\n## ", start + len(SECTION))
    return readme[start : end if end != -1 else None]


def named_paths(section: str) -> list[PurePosixPath]:
    """Return every path the section names: each ``src/...`` path, each module named after
    one in the same line or table row (relative to that path's folder), and each
    ``domain/``, ``adapters/`` or ``entrypoints/`` path of the prose (under ``src/``)."""
    paths = []
    for line in section.splitlines():
        folder = None
        for cell in line.strip().strip("|").split("|"):
            for name in re.findall(r"`([^`\s]+)`", cell):
                if name.startswith("src/"):
                    path = PurePosixPath(name)
                    folder = path if name.endswith("/") or "." not in path.name else path.parent
                    paths.append(path)
                elif name.startswith(("domain/", "adapters/", "entrypoints/")):
                    paths.append(PurePosixPath("src", name))
                elif folder is not None and re.fullmatch(r"[\w/]+\.py", name):
                    paths.append(folder / name)
    return paths


def test_the_map_names_some_paths() -> None:
    paths = named_paths(how_it_is_built())

    assert len(paths) >= 30
    assert PurePosixPath("src/entrypoints/containers.py") in paths


def test_every_path_the_map_names_exists() -> None:
    missing = [str(path) for path in named_paths(how_it_is_built())]

    assert [path for path in missing if not (REPOSITORY / path).exists()] == []


def test_a_module_named_after_a_path_in_its_row_is_read_in_that_paths_folder() -> None:
    row = "`src/domain/backups/` | `dumping.py` (`dump`), `pruning.py`, `src/adapters/`, `clock.py`"

    paths = named_paths(row)

    assert paths == [
        PurePosixPath("src/domain/backups"),
        PurePosixPath("src/domain/backups/dumping.py"),
        PurePosixPath("src/domain/backups/pruning.py"),
        PurePosixPath("src/adapters"),
        PurePosixPath("src/adapters/clock.py"),
    ]
