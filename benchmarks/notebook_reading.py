"""How long reading a notebook with large saved outputs takes, and its peak memory.

Writes a notebook of about ``--megabytes`` MB (code cells, each with a saved PNG
output of random bytes, as a Colab notebook full of plots saves them), then reads it
in a fresh interpreter, once per way: ``handed_in.read_source`` (the autograder's way:
outputs dropped before validation), and ``nbformat.read`` validating everything, for
comparison. Prints the wall time (imports included) and the child's peak resident memory
(VmHWM, Linux) of each, and
the memory of a child that only imports what reading needs.

    python benchmarks/notebook_reading.py                  # 50 MB
    python benchmarks/notebook_reading.py --megabytes 10
"""

from __future__ import annotations

import argparse
import base64
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

READERS = {
    "imports only": "import nbformat, grader.core.handed_in",
    "handed_in.read_source + extract": (
        "import nbformat\nfrom grader.core import handed_in\n"
        "source = handed_in.read_source(PATH)\nhanded_in.extract(source)"),
    "nbformat.read, all validated": (
        "import nbformat\nnb = nbformat.read(PATH, as_version=4)\nnbformat.validate(nb)"),
}
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over an exec from the parent.
CHILD = """
import sys, time
PATH = sys.argv[1]
start = time.perf_counter()
{code}
elapsed = time.perf_counter() - start
peak = next(line.split()[1] for line in open("/proc/self/status")
            if line.startswith("VmHWM:"))
print(elapsed, peak)
"""


def write_notebook(path: Path, megabytes: float, seed: int = 0) -> int:
    """A notebook of code cells with ~250 kB PNG outputs; returns its size in bytes."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook, new_output
    generator = __import__("random").Random(seed)
    cells, per_image = [], 187_500          # 250 kB once base64-encoded
    for index in range(max(1, int(megabytes * 1e6 / 250_000))):
        image = base64.b64encode(generator.randbytes(per_image)).decode()
        output = new_output("display_data", data={"image/png": image,
                                                  "text/plain": "<Figure>"})
        cells.append(new_code_cell(f"def f{index}(x):\n    return x + {index}\n"
                                   f"plt.plot(f{index}(range(10)))",
                                   execution_count=index + 1, outputs=[output]))
    nbformat.write(new_notebook(cells=cells), str(path))
    return path.stat().st_size


def measure(code: str, path: Path) -> tuple[float, float]:
    """(seconds, peak resident MB) of a fresh interpreter running ``code``."""
    child = subprocess.run([sys.executable, "-c", CHILD.format(code=code), str(path)],
                           cwd=ROOT, capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONPATH": str(ROOT)})
    seconds, kilobytes = child.stdout.split()
    return float(seconds), int(kilobytes) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--megabytes", type=float, default=50.0,
                        help="size of the generated notebook (default 50)")
    parser.add_argument("--repeats", type=int, default=3,
                        help="reads per way; the fastest is printed (default 3)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "plots.ipynb"
        size = write_notebook(path, args.megabytes)
        print(f"notebook: {size / 1e6:.1f} MB, {int(args.megabytes * 4)} code cells "
              "with a PNG output each")
        for name, code in READERS.items():
            runs = [measure(code, path) for _ in range(args.repeats)]
            seconds = min(run[0] for run in runs)
            peak = max(run[1] for run in runs)
            print(f"{name:34s} {seconds:6.2f} s   peak {peak:6.0f} MB resident")


if __name__ == "__main__":
    main()
