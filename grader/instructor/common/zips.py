"""Writing the zips instructors hand out (student release, Gradescope bundle):
byte-identical for the same files, written atomically, never over a file the user
did not ask to replace."""

from __future__ import annotations

import os
import tempfile
import zipfile
from pathlib import Path
from typing import Callable

# The zip format's earliest date: fixed so that two builds are byte-identical.
FIXED_DATE = (1980, 1, 1, 0, 0, 0)
FILE_MODE, SCRIPT_MODE = 0o644, 0o755


def check_output(output: Path, force: bool, error: type[Exception]) -> Path:
    """``output`` as a Path, or ``error`` saying why it must not be written."""
    output = Path(output)
    if output.exists() and not force:
        raise error(f"{output} already exists; pass --force to overwrite it")
    if not output.parent.is_dir():
        raise error(f"folder {output.parent} does not exist; create it or choose another "
                    "output path")
    return output


def _entry(name: str, mode: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=FIXED_DATE)
    info.create_system = 3  # Unix, so that the mode below is honoured everywhere
    info.external_attr = (0o100000 | mode) << 16   # a regular file with this mode
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def write_zip(output: Path, contents: dict[str, tuple[bytes, int]],
              check: Callable[[Path], None] | None = None) -> Path:
    """Write ``contents`` (name -> (bytes, mode)) to ``output``, entries sorted, with
    fixed dates. ``check(temporary_zip)`` may raise to stop before anything replaces
    ``output``; no partial file is ever left behind."""
    handle, temporary = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".tmp",
                                         dir=output.parent)
    os.close(handle)
    temporary = Path(temporary)
    try:
        with zipfile.ZipFile(temporary, "w") as archive:
            for name in sorted(contents):
                data, mode = contents[name]
                archive.writestr(_entry(name, mode), data)
        if check is not None:
            check(temporary)
        os.chmod(temporary, FILE_MODE)
        os.replace(temporary, output)
    finally:
        temporary.unlink(missing_ok=True)
    return output
