"""Honest designs for "first networks", scored exactly as the autograder scores them:
the thresholds of q2 (quadrants, accuracy on fresh points) and q4 (MNIST, accuracy
on the 5000 test digits students never see) and the time limits come from here.

Each design is the staff solution (tests/reference_first_networks/) with the network
and its training replaced; every design is run through ``autograder.py --course
first-networks -q q2,q4 --seed S --json`` and the table shows the accuracies the
grader measured and the seconds each question took.

    python benchmarks/first_networks_designs.py                 # all designs, seeds 0-2
    python benchmarks/first_networks_designs.py --seeds 0 --designs tiny-sgd
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "tests" / "reference_first_networks"

QUADRANT_NETS = {
    # name: (hidden width, activation, optimizer, learning rate, epochs, batch size)
    "reference": (16, "ReLU", "Adam", 0.01, 30, 32),
    "tiny-sgd": (4, "ReLU", "SGD", 0.1, 20, 32),
    "tanh-8": (8, "Tanh", "SGD", 0.05, 50, 16),
    "short": (16, "ReLU", "Adam", 0.001, 10, 32),
    "wide-one-epoch": (64, "ReLU", "Adam", 0.01, 3, 64),
}
MNIST_NETS = {
    # name: (hidden widths, optimizer, learning rate, epochs, batch size)
    "reference": ((128,), "SGD", 0.05, 2, 64),
    "linear-sgd": ((), "SGD", 0.01, 1, 64),
    "linear-adam": ((), "Adam", 0.001, 2, 64),
    "seed-like": ((), "SGD", 0.001, 20, 64),
    "mlp-adam": ((256, 64), "Adam", 0.001, 1, 128),
}
PAIRS = dict(zip(QUADRANT_NETS, MNIST_NETS))   # one submission per pair


def quadrant_code(width, activation, optimizer, rate, epochs, batch) -> str:
    return f'''

class QuadrantNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(2, {width}), nn.{activation}(),
                                    nn.Linear({width}, {width}), nn.{activation}(),
                                    nn.Linear({width}, 4))

    def forward(self, x):
        return self.layers(x)


def train_quadrants(model, dataset):
    optimizer = torch.optim.{optimizer}(model.parameters(), lr={rate})
    loader = DataLoader(dataset, batch_size={batch}, shuffle=True)
    for epoch in range({epochs}):
        for x, y in loader:
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
'''


def mnist_code(widths, optimizer, rate, epochs, batch) -> str:
    sizes = (784, *widths, 10)
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
        layers.append(f"nn.Linear({n_in}, {n_out})")
        if i < len(sizes) - 2:
            layers.append("nn.ReLU()")
    return f'''

class DigitNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential({", ".join(layers)})

    def forward(self, x):
        return self.layers(x)


def train_mnist(model, train_data, test_data, eval_every=500):
    optimizer = torch.optim.{optimizer}(model.parameters(), lr={rate})
    loader = DataLoader(train_data, batch_size={batch}, shuffle=True)
    history = []
    for epoch in range({epochs}):
        for batch, (x, y) in enumerate(loader):
            if batch % eval_every == 0:
                train, test = evaluate(model, train_data), evaluate(model, test_data)
                print(f"[{{epoch:2}}][{{batch:4}}] -> {{train:.3f}}% training accuracy "
                      f"{{test:.3f}}% testing accuracy")
                history.append((epoch, batch, train, test))
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
    return history
'''


def grade(folder: Path, seed: int) -> tuple[dict, float]:
    results = folder / f"results-{seed}.json"
    started = time.monotonic()
    subprocess.run([sys.executable, str(ROOT / "autograder.py"), "--course", "first-networks",
                    "-q", "q2,q4", "--seed", str(seed), "--student-dir", str(folder),
                    "--no-graphics", "--mute", "-j", "1", "--json", str(results)],
                   check=True, capture_output=True)
    return json.loads(results.read_text()), time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--designs", nargs="+", choices=list(PAIRS), default=list(PAIRS),
                        help="quadrant designs (each is paired with one MNIST design)")
    args = parser.parse_args()
    print(f"{'quadrant design':16} {'MNIST design':12} seed  q2 fresh   q2 s   q4 test   "
          "q4 s  history")
    worst: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for quadrant in args.designs:
            mnist = PAIRS[quadrant]
            folder = Path(tmp, quadrant)
            folder.mkdir()
            (folder / "quadrants.py").write_text(
                (REFERENCE / "quadrants.py").read_text() + quadrant_code(*QUADRANT_NETS[quadrant]))
            (folder / "mnist_linear.py").write_text(
                (REFERENCE / "mnist_linear.py").read_text() + mnist_code(*MNIST_NETS[mnist]))
            for seed in args.seeds:
                results, _ = grade(folder, seed)
                tests = {(t["question"], t["check"]): t for t in results["tests"]}
                q2, q4 = tests[("q2", "train")], tests[("q4", "train")]
                seconds = results["questions"]
                print(f"{quadrant:16} {mnist:12} {seed:4}  {q2['metric']:8.2%} "
                      f"{seconds['q2']['seconds']:6.1f}  {q4['metric']:8.2%} "
                      f"{seconds['q4']['seconds']:6.1f}  {tests[('q4', 'history')]['status']}",
                      flush=True)
                for key, value in ((f"q2 {quadrant}", q2["metric"]), (f"q4 {mnist}", q4["metric"])):
                    worst[key] = min(worst.get(key, 1.0), value)
    print("\nworst accuracy per design over the seeds:")
    for key, value in worst.items():
        print(f"  {key:24} {value:.2%}")


if __name__ == "__main__":
    main()
