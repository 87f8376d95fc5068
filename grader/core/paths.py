"""Where the project's data lives, for modules that may sit in two places: inside the
autograder's grader/ folder, or copied to the top of a student's release (an
assignment's support module, such as mlp_data.py)."""

from __future__ import annotations

from pathlib import Path


def data_folder(here: str | Path, name: str = "mnist.npz") -> Path:
    """The data/ folder of the first folder above ``here`` (a module's ``__file__``)
    that holds ``data/<name>``; FileNotFoundError, saying what to restore, if none."""
    start = Path(here).resolve()
    for folder in start.parents:
        if (folder / "data" / name).is_file():
            return folder / "data"
    raise FileNotFoundError(f"there is no data/{name} in any folder above {start}: copy "
                            f"data/{name} from a fresh download of the project")
