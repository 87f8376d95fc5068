"""How far honest but weaker course solutions spread across seeds: the figures step
17's retry policy is set from (which failures a retry can save, and which it cannot).

The staff solution passes every seed with room to spare
(``benchmarks/calibrate_staff.py``); students' solutions are often written to stop as
soon as a figure they can see reaches the threshold, as the writeup allows ("You may
use the training loss to determine when to stop training"; "set a slightly higher
stopping threshold on validation accuracy"). Those are the solutions whose grade can
hinge on a seed. Each design below is the staff solution with one training function
(and where said, one model) written that way; each is graded through
``python -m grader calibrate`` (``autograder.py --json --attempts 1`` per question and
seed), and the table gives per design the figure's min, median and max over the
seeds, its spread (max - min), the pass rate and the worst seed's distance to the
threshold. Designs marked "far" never pass on any seed: how far below the threshold
their figures sit shows where a retry cannot help. "retried" counts the failing seeds
the grader would train again (``judge/grading.py``'s ``within_reach``, with the
check's reach from the course's table): the reach should take in every failure of a
design that passes on some seeds, and none of the far ones. "3 attempts" plays the
policy over the measured seeds: of the runs starting at seed s = 0..N-3, how many
pass on s, or on s+1 or s+2 when the failures before are within reach.

    python benchmarks/seed_spread.py                          # 10 seeds, every design
    python benchmarks/seed_spread.py --seeds 3 --designs q2-batch-stop,q3-val-97
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader import assignments  # noqa: E402
from grader.core.results import CheckResult  # noqa: E402
from grader.instructor.grading import calibrate  # noqa: E402
from grader.judge.grading import within_reach  # noqa: E402

STAFF = ROOT / "tests" / "reference"
CHECKS = {(question.id, check.key): check for question in assignments.get("current").questions
          for check in question.checks}

# name -> (question, what the design does, code appended to train.py, to models.py).
# Appended definitions replace the staff ones of the same name.
DESIGNS: dict[str, tuple[str, str, str, str]] = {
    "q2-batch-stop": ("q2", "Adam 1e-3, batch 20; stops once one batch's loss is under 0.02", '''
def train_regression(model, dataset):
    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    loader = DataLoader(dataset, batch_size=20, shuffle=True)
    while True:
        for batch in loader:
            optimizer.zero_grad()
            loss = regression_loss(model(batch["x"]), batch["label"])
            loss.backward()
            optimizer.step()
            if loss.item() < 0.02:
                return
''', ""),
    "q2-epoch-stop": ("q2", "Adam 1e-3, batch 20; stops once an epoch's mean batch loss is "
                            "under 0.02", '''
def train_regression(model, dataset):
    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    loader = DataLoader(dataset, batch_size=20, shuffle=True)
    while True:
        losses = []
        for batch in loader:
            optimizer.zero_grad()
            loss = regression_loss(model(batch["x"]), batch["label"])
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        if sum(losses) / len(losses) < 0.02:
            return
''', ""),
    "q2-sgd-fixed": ("q2", "1-64-1 ReLU, SGD 0.01, batch 10, 500 epochs", '''
def train_regression(model, dataset):
    optimizer = optim.SGD(model.parameters(), lr=0.01)
    loader = DataLoader(dataset, batch_size=10, shuffle=True)
    for _ in range(500):
        for batch in loader:
            optimizer.zero_grad()
            regression_loss(model(batch["x"]), batch["label"]).backward()
            optimizer.step()
''', '''
class RegressionModel(Module):
    def __init__(self):
        super().__init__()
        self.hidden = Linear(1, 64)
        self.output = Linear(64, 1)

    def forward(self, x):
        return self.output(relu(self.hidden(x)))
'''),
    "q2-far": ("q2", "far: 1-16-1 ReLU, SGD 0.01, batch 20, 20 epochs", '''
def train_regression(model, dataset):
    optimizer = optim.SGD(model.parameters(), lr=0.01)
    loader = DataLoader(dataset, batch_size=20, shuffle=True)
    for _ in range(20):
        for batch in loader:
            optimizer.zero_grad()
            regression_loss(model(batch["x"]), batch["label"]).backward()
            optimizer.step()
''', '''
class RegressionModel(Module):
    def __init__(self):
        super().__init__()
        self.hidden = Linear(1, 16)
        self.output = Linear(16, 1)

    def forward(self, x):
        return self.output(relu(self.hidden(x)))
'''),
    "q3-val-97": ("q3", "SGD 0.1, batch 100; stops once validation accuracy is 97% "
                        "(checked each epoch)", '''
def train_digitclassifier(model, dataset):
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    loader = DataLoader(dataset, batch_size=100, shuffle=True)
    while dataset.get_validation_accuracy() < 0.97:
        for batch in loader:
            optimizer.zero_grad()
            digitclassifier_loss(model(batch["x"]), batch["label"]).backward()
            optimizer.step()
''', ""),
    "q3-val-97-often": ("q3", "Adam 1e-3, batch 64; stops once validation accuracy is 97% "
                              "(checked every 100 batches)", '''
def train_digitclassifier(model, dataset):
    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    loader = DataLoader(dataset, batch_size=64, shuffle=True)
    step = 0
    while True:
        for batch in loader:
            optimizer.zero_grad()
            digitclassifier_loss(model(batch["x"]), batch["label"]).backward()
            optimizer.step()
            step += 1
            if step % 100 == 0 and dataset.get_validation_accuracy() >= 0.97:
                return
''', ""),
    "q3-far": ("q3", "far: one linear layer 784-10, SGD 0.05, batch 100, 1 epoch", '''
def train_digitclassifier(model, dataset):
    optimizer = optim.SGD(model.parameters(), lr=0.05)
    for batch in DataLoader(dataset, batch_size=100, shuffle=True):
        optimizer.zero_grad()
        digitclassifier_loss(model(batch["x"]), batch["label"]).backward()
        optimizer.step()
''', '''
class DigitClassificationModel(Module):
    def __init__(self):
        super().__init__()
        self.output = Linear(28 * 28, 10)

    def forward(self, x):
        return self.output(x)
'''),
    "q4-val-81": ("q4", "the staff network, Adam 3e-3, batch 128; stops once validation "
                        "accuracy is 81% (checked each epoch)", '''
def train_languageid(model, dataset):
    optimizer = optim.Adam(model.parameters(), lr=3e-3)
    loader = DataLoader(dataset, batch_size=128, shuffle=True)
    while dataset.get_validation_accuracy() < 0.81:
        for batch in loader:
            optimizer.zero_grad()
            x = movedim(batch["x"], 0, 1)
            languageid_loss(model(x), batch["label"]).backward()
            optimizer.step()
''', ""),
    "q4-val-82-often": ("q4", "hidden 128, Adam 1e-3, batch 64; stops once validation "
                              "accuracy is 82% (checked every 50 batches)", '''
def train_languageid(model, dataset):
    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    loader = DataLoader(dataset, batch_size=64, shuffle=True)
    step = 0
    while True:
        for batch in loader:
            optimizer.zero_grad()
            x = movedim(batch["x"], 0, 1)
            languageid_loss(model(x), batch["label"]).backward()
            optimizer.step()
            step += 1
            if step % 50 == 0 and dataset.get_validation_accuracy() >= 0.82:
                return
''', '''
class LanguageIDModel(Module):
    def __init__(self):
        super().__init__()
        self.num_chars = 47
        self.languages = ["English", "Spanish", "Finnish", "Dutch", "Polish"]
        self.letter = Linear(self.num_chars, 128)
        self.recur = Linear(128, 128)
        self.output = Linear(128, len(self.languages))

    def forward(self, xs):
        h = relu(self.letter(xs[0]))
        for x in xs[1:]:
            h = relu(self.letter(x) + self.recur(h))
        return self.output(h)
'''),
    "q4-far": ("q4", "far: the staff network, SGD 0.05, batch 128, 1 epoch", '''
def train_languageid(model, dataset):
    optimizer = optim.SGD(model.parameters(), lr=0.05)
    for batch in DataLoader(dataset, batch_size=128, shuffle=True):
        optimizer.zero_grad()
        x = movedim(batch["x"], 0, 1)
        languageid_loss(model(x), batch["label"]).backward()
        optimizer.step()
''', ""),
}


def make_solution(name: str, where: Path) -> Path:
    """The staff solution with the design's code appended; its folder."""
    _, _, train_code, models_code = DESIGNS[name]
    folder = where / name
    shutil.copytree(STAFF, folder, ignore=shutil.ignore_patterns("__pycache__"))
    for file, code in (("train.py", train_code), ("models.py", models_code)):
        if code:
            path = folder / file
            path.write_text(path.read_text(encoding="utf-8") + "\n" + code, encoding="utf-8")
    return folder


def run(names: list[str], seeds: int, jobs: int) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="seed-spread-") as scratch:
        for name in names:
            question, what, _, _ = DESIGNS[name]
            folder = make_solution(name, Path(scratch))
            started = time.monotonic()
            figures, problems = calibrate.calibrate(folder, "current", [question], seeds, jobs,
                                                    "none", timeout=900)
            for problem in problems:
                print(f"  {name}: {problem}", flush=True)
            for spread in calibrate.spreads(figures, seeds):
                measured = spread.measured
                if not measured:
                    continue
                failing = [f for f in figures if f.check == spread.check and not f.passed
                           and f.figure is not None]
                reach = CHECKS[(question, spread.check)].retry_within
                by_seed = {f.seed: f for f in figures if f.check == spread.check}

                def in_reach(f) -> bool:
                    return f.figure is not None and within_reach(CheckResult(
                        question, f.check, f.name, 0, 0, "failed", metric=f.figure,
                        unit=f.unit, at_least=f.at_least, at_most=f.at_most), reach)
                retried = sum(in_reach(f) for f in failing)
                starts = range(max(seeds - 2, 0))
                policy = sum(_graded_pass([by_seed.get(s + k) for k in range(3)], in_reach)
                             for s in starts)
                rows.append({"design": name, "what": what, "check": spread.name,
                             "threshold": spread.threshold, "min": min(measured),
                             "median": statistics.median(measured), "max": max(measured),
                             "spread": max(measured) - min(measured),
                             "passes": f"{spread.passes}/{len(spread.figures)}",
                             "margin": spread.margin, "pass_count": spread.passes,
                             "retried": f"{retried}/{len(failing)}",
                             "policy": f"{policy}/{len(starts)}",
                             "seconds": time.monotonic() - started})
                print(_line(rows[-1]), flush=True)
    return rows


def _graded_pass(attempts: list, in_reach) -> bool:
    """Whether the policy passes: the first attempt that passes, each failure before
    it measured and within reach."""
    for figure in attempts:
        if figure is None:
            return False
        if figure.passed:
            return True
        if not in_reach(figure):
            return False
    return False


def _line(row: dict) -> str:
    return (f"{row['design']:<17} {row['threshold']:>9} {row['min']:>9.4g} "
            f"{row['median']:>9.4g} {row['max']:>9.4g} {row['spread']:>9.4g} "
            f"{row['passes']:>6} {row['margin']:>9.4g} {row['retried']:>7} "
            f"{row['policy']:>10}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=10, help="seeds 0..N-1 (default 10)")
    parser.add_argument("--designs", default=",".join(DESIGNS),
                        help="comma-separated designs (default: every one)")
    parser.add_argument("--jobs", type=int, default=2, help="runs at once (default 2)")
    args = parser.parse_args(argv)
    names = [name.strip() for name in args.designs.split(",") if name.strip()]
    unknown = [name for name in names if name not in DESIGNS]
    if unknown:
        parser.error(f"no design {', '.join(unknown)}; designs: {', '.join(DESIGNS)}")
    for name in names:
        print(f"{name:<17} {DESIGNS[name][1]}")
    print(f"\nseeds 0-{args.seeds - 1}, {args.jobs} runs at once\n")
    print(f"{'design':<17} {'threshold':>9} {'min':>9} {'median':>9} {'max':>9} "
          f"{'spread':>9} {'passes':>6} {'margin':>9} {'retried':>7} {'3 attempts':>10}")
    started = time.monotonic()
    rows = run(names, args.seeds, args.jobs)
    near = [row for row in rows if row["pass_count"] > 0]
    if near:
        print("\nwidest spread of the designs that pass on some seed, per question:")
        for question in sorted({row["check"] for row in near}):
            widest = max((row for row in near if row["check"] == question),
                         key=lambda row: row["spread"])
            print(f"  {question}: {widest['spread']:.4g} ({widest['design']})")
    print(f"\n({time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
