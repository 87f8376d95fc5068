"""How long ``python -m grader similarity`` takes for a class of 500, and its memory.

Generates ``--students`` submissions of the course's four files, each a variant: the
staff solution or the independently written one (tests/similarity_fixtures/) with
names renamed, definitions reordered and random lines changed, dropped or added; the
skeleton with a few blanks filled; and some disguised copies of another generated
submission. Then times, pinned to ``--cores`` cores: ``compare`` in this process
(the fingerprints and the pairs; reading the files excluded), and the whole command
(discovering, reading, recognising the course, comparing, writing the CSV) in a
child. Prints each wall time and peak resident memory (ru_maxrss). ``--busy`` runs
a spinning process beside it, as a second job on the machine would.

    python benchmarks/similarity_scale.py                 # 500 students, 2 cores
    python benchmarks/similarity_scale.py --busy
"""

from __future__ import annotations

import argparse
import ast
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader import assignments  # noqa: E402
from grader.instructor.similarity.engine import compare, read_skeletons, student_code  # noqa: E402

WORDS = ("alpha", "beta", "gamma", "delta", "state", "value", "tmp", "acc", "item", "cur")
SPIN = "while True:\n    pass\n"


def rename(text: str, rng: random.Random) -> str:
    """Every local-looking name of two or more letters renamed, consistently."""
    names = sorted({m for m in re.findall(r"(?<![.\w])([a-z_][a-z0-9_]+)\s*=", text)})
    for name in rng.sample(names, k=len(names) // 2):
        new = f"{rng.choice(WORDS)}_{rng.randrange(100)}"
        text = re.sub(rf"(?<![.\w]){name}\b", new, text)
    return text


def reorder(text: str, rng: random.Random) -> str:
    try:
        nodes = [n for n in ast.parse(text).body if isinstance(n, (ast.FunctionDef,
                                                                     ast.ClassDef))]
    except SyntaxError:
        return text
    if len(nodes) < 2:
        return text
    lines = text.splitlines(keepends=True)
    blocks = ["".join(lines[n.lineno - 1:n.end_lineno]) for n in nodes]
    rng.shuffle(blocks)
    return ("".join(lines[:nodes[0].lineno - 1]) + "\n\n".join(blocks) + "\n"
            + "".join(lines[nodes[-1].end_lineno:]))


def edit(text: str, rng: random.Random, rate: float) -> str:
    """Random lines inside definitions dropped, changed or joined by new ones."""
    out = []
    for line in text.splitlines():
        indent = len(line) - len(line.lstrip())
        roll = rng.random()
        if indent >= 8 and roll < rate / 3:
            continue
        if indent >= 8 and roll < 2 * rate / 3:
            line = re.sub(r"\d+", lambda _: str(rng.randrange(1000)), line)
        out.append(line)
        if indent >= 8 and rng.random() < rate:
            parts = [rng.choice(WORDS) for _ in range(rng.randrange(2, 6))]
            ops = [rng.choice(("+", "*", "-", "/", ", ")) for _ in parts[1:]]
            expr = parts[0] + "".join(f" {op} {p}" for op, p in zip(ops, parts[1:]))
            out.append(" " * indent + f"{rng.choice(WORDS)} = {rng.choice(WORDS)}({expr})")
    return "\n".join(out) + "\n"


def generate(folder: Path, students: int, seed: int) -> None:
    rng = random.Random(seed)
    skeletons = read_skeletons(assignments.get("current"))
    staff = {n: (ROOT / "tests/reference" / n).read_text() for n in skeletons}
    other = {n: (ROOT / "tests/similarity_fixtures/independent" / n).read_text()
             for n in skeletons}
    made: list[dict[str, str]] = []
    for index in range(students):
        roll = rng.random()
        if roll < 0.1 and made:                          # a disguised copy of another
            files = {n: rename(reorder(t, rng), rng) for n, t in rng.choice(made).items()}
        elif roll < 0.3:                                 # the skeleton, a few blanks filled
            files = {n: edit(t, rng, 0.3) for n, t in skeletons.items()}
        else:                                            # a solution, much reworked
            base = staff if roll < 0.65 else other
            files = {n: edit(rename(reorder(t, rng), rng), rng, 0.35) for n, t in base.items()}
        made.append(files)
        student = folder / f"student{index:03d}"
        student.mkdir(parents=True)
        for name, text in files.items():
            (student / name).write_text(text)


def peak_mb(who=resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=500)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--busy", action="store_true",
                        help="run a spinning process on the same cores meanwhile")
    args = parser.parse_args()
    cores = sorted(os.sched_getaffinity(0))[:args.cores]
    os.sched_setaffinity(0, cores)
    busy = subprocess.Popen([sys.executable, "-c", SPIN]) if args.busy else None
    try:
        with tempfile.TemporaryDirectory(prefix="similarity-scale-") as scratch:
            folder = Path(scratch) / "class"
            started = time.perf_counter()
            generate(folder, args.students, args.seed)
            print(f"generated {args.students} submissions in "
                  f"{time.perf_counter() - started:.1f} s (cores {cores}, "
                  f"busy: {'yes' if busy else 'no'})")
            course = assignments.get("current")
            started = time.perf_counter()
            codes = [code for student in sorted(folder.iterdir())
                     for code in student_code(student, course, student.name)]
            read = time.perf_counter() - started
            before = peak_mb()
            started = time.perf_counter()
            comparison = compare(codes, [], read_skeletons(course))
            compared = time.perf_counter() - started
            flagged = sum(pair.flagged for pair in comparison.pairs)
            print(f"student_code: {read:.1f} s; compare: {compared:.1f} s, "
                  f"{len(comparison.pairs)} pair-files kept, {flagged} flagged; peak "
                  f"memory {peak_mb():.0f} MB (before compare {before:.0f} MB)")
            started = time.perf_counter()
            done = subprocess.run([sys.executable, "-m", "grader", "similarity", str(folder),
                                   "--out", str(Path(scratch) / "out"), "--course", "current"],
                                  cwd=ROOT, capture_output=True, text=True)
            whole = time.perf_counter() - started
            print(f"whole command: {whole:.1f} s, exit {done.returncode}, peak memory "
                  f"{peak_mb(resource.RUSAGE_CHILDREN):.0f} MB")
            print("\n".join(done.stdout.splitlines()[:3]))
            if done.returncode:
                print(done.stderr[-2000:])
    finally:
        if busy is not None:
            busy.kill()
            busy.wait()


if __name__ == "__main__":
    main()
