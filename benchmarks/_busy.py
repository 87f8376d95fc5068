"""One process keeping a core busy beside a benchmark (``--busy``), as a student's
laptop or an instructor's bulk run would have."""

from __future__ import annotations

import contextlib
import subprocess
import sys


@contextlib.contextmanager
def beside_busy(enabled: bool):
    """Within the block, one process spins on a core when ``enabled``."""
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if enabled else None
    try:
        yield
    finally:
        if spinner is not None:
            spinner.kill()
            spinner.wait()
