"""``bulk --slurm N``: shards of about equal cost, the batch scripts, and one class graded
through a real one-node Slurm (tests/slurm_cluster.py): an array of 2 tasks and the
merge job after it, one task cancelled mid-way with scancel, reported by the merge
job and finished by running the same command again; the merged grades.csv equals a
single-machine run's."""

import json
import os
import re
import subprocess
import sys

import pytest

from grader import assignments
from grader.instructor.grading.shards import FAILS_AT_ONCE, cost, split
from grader.instructor.common.submission import NO_FILES, Submission
from helpers import ROOT, STUDENT_FILES, make_submission, wait_for
from slurm_cluster import Cluster, Unavailable
from test_bulk import bulk, rows

GRADING = ["-q", "q1", "--isolation", "none"]


# ------------------------------------------------------------ costs and parts

def test_parts_have_about_equal_cost_where_dealing_by_count_would_not():
    costs = [2520.0, 5.0] * 6                  # complete, empty, complete, empty...
    parts = split(costs, 2)
    by_index = [costs[0::2], costs[1::2]]      # dealt out one by one: all complete in one
    assert sum(by_index[0]) == 6 * 2520 and sum(by_index[1]) == 6 * 5
    assert [sum(costs[i] for i in part) for part in parts] == [3 * 2525.0, 3 * 2525.0]
    assert sorted(i for part in parts for i in part) == list(range(len(costs)))
    assert split(costs, 2) == parts            # the same every time, in every task
    assert split([1.0, 1.0], 3) == [[0], [1], []]


def test_a_submissions_cost_is_the_time_limits_of_what_it_can_run(tmp_path):
    questions = {q.id: q.time_limit for q in assignments.get("current").questions}
    files = {name: tmp_path / name for name in STUDENT_FILES}
    whole = Submission("a", tmp_path, files=files)
    assert cost(whole, "current", [], 1.0) == sum(questions.values())
    assert cost(whole, "current", ["q1", "q6"], 2.0) == 2 * (questions["q1"] + questions["q6"])
    no_gpt = Submission("b", tmp_path, files={k: v for k, v in files.items()
                                              if k != "gpt_model.py"})
    assert cost(no_gpt, "current", [], 1.0) == \
        sum(questions.values()) - questions["q7"] + FAILS_AT_ONCE
    notebook = Submission("c", tmp_path, files={"Project3.ipynb": tmp_path / "x.ipynb"})
    assert cost(notebook, "current", [], 1.0) == sum(questions.values())
    assert cost(Submission("d", tmp_path, status=NO_FILES), "current", [], 1.0) == FAILS_AT_ONCE


# ------------------------------------------------------------ without Slurm

@pytest.fixture(scope="module")
def small_class(tmp_path_factory):
    folder = tmp_path_factory.mktemp("slurm") / "submissions"
    for name in ("alice", "dan"):
        make_submission(folder / name)
    make_submission(folder / "carol", {"models.py": "def broken(:\n    pass"})
    (folder / "gina").mkdir()
    return folder


def test_a_dry_run_writes_the_plan_and_scripts_and_submits_nothing(small_class, tmp_path):
    out = tmp_path / "out dir"          # a space: the scripts quote their paths
    process = bulk("bulk", small_class, "--out", out, *GRADING, "--slurm", "3",
                   "--jobs", "2", "--memory-limit", "1000", "--slurm-dry-run",
                   "--slurm-option=--partition=short")
    assert process.returncode == 0, process.stderr
    assert "nothing submitted" in process.stdout
    assert "--partition=short" in process.stdout and "afterany" in process.stdout
    plan = json.loads((out / "slurm" / "plan.json").read_text())
    assert sorted(e["id"] for entries in plan["shards"].values() for e in entries) == \
        ["alice", "carol", "dan", "gina"]
    assert plan["settings"]["course"] == "current" and plan["settings"]["questions"] == ["q1"]
    script = (out / "slurm" / "grade.sbatch").read_text()
    assert "#SBATCH --cpus-per-task=2" in script
    assert "#SBATCH --mem=4048M" in script            # 2 x (1000 + 1024)
    assert re.search(r"#SBATCH --time=\d+\n", script)
    assert '--shard "$K/3"' in script and "--course current" in script
    assert "'" + str(out / "shards") + "'/\"$K\"" in script
    merge = (out / "slurm" / "merge.sbatch").read_text()
    assert "merge --plan" in merge
    for path in (out / "slurm" / "grade.sbatch", out / "slurm" / "merge.sbatch"):
        assert subprocess.run(["bash", "-n", str(path)]).returncode == 0
    assert not (out / "slurm" / "jobs.json").exists() and not (out / "shards").exists()


def test_without_sbatch_the_message_says_where_to_run_it(small_class, tmp_path):
    env = dict(os.environ, PATH=str(tmp_path), PYTHONDONTWRITEBYTECODE="1")
    process = subprocess.run([sys.executable, "-m", "grader", "bulk", str(small_class),
                              "--out", str(tmp_path / "out"), *GRADING, "--slurm", "2"],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert process.returncode == 2
    assert "needs Slurm's sbatch, which is not on PATH" in process.stderr
    assert "--slurm-dry-run" in process.stderr


@pytest.mark.parametrize("extra, said", [
    (["--slurm", "2", "--shard", "1/2"], "leave out --shard"),
    (["--slurm", "2", "--similarity"], "python -m grader similarity"),
    (["--slurm", "0"], "at least 1"),
    (["--slurm-dry-run"], "go with --slurm N"),
])
def test_options_that_do_not_go_together_are_refused(small_class, tmp_path, extra, said):
    process = bulk("bulk", small_class, "--out", tmp_path / "out", *extra)
    assert process.returncode == 2 and said in process.stderr, process.stderr


def test_merge_wants_folders_or_a_plan(tmp_path):
    process = bulk("merge", "--out", tmp_path / "out")
    assert process.returncode == 2 and "--plan" in process.stderr
    (tmp_path / "plan.json").write_text("{not json")
    process = bulk("merge", "--plan", tmp_path / "plan.json", "--out", tmp_path / "out")
    assert process.returncode == 2 and "is not a plan a --slurm run wrote" in process.stderr


# ------------------------------------------------------------ through Slurm

@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    try:
        running = Cluster.start(tmp_path_factory.mktemp("cluster"))
    except Unavailable as reason:
        pytest.skip(f"no one-node Slurm here: {reason}")
    yield running
    running.stop()


def gated_class(folder, gate):
    """Four submissions, an empty folder, and hana's: the reference, whose models.py
    waits for ``gate`` to exist (and says it started), so that her task is surely
    mid-way when the test cancels it."""
    for name in ("alice", "dan"):
        make_submission(folder / name)
    make_submission(folder / "carol", {"models.py": "def broken(:\n    pass"})
    (folder / "gina").mkdir()
    hana = make_submission(folder / "hana")
    waiting = (f"import pathlib as _pathlib, time as _time\n"
               f"_GATE = _pathlib.Path({str(gate)!r})\n"
               f"(_GATE.parent / 'hana-started').touch()\n"
               f"while not _GATE.exists():\n    _time.sleep(0.1)\n\n")
    models = hana / "models.py"
    models.write_text(waiting + models.read_text())
    return folder


def through_slurm(cluster, *args):
    env = dict(cluster.env, PYTHONDONTWRITEBYTECODE="1")
    env.pop("DISPLAY", None)
    return subprocess.run([sys.executable, "-m", "grader", *map(str, args)], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=300)


def submitted(process):
    array = re.search(r"Submitted array job (\d+): shards? ([\d,-]+) of 2", process.stdout)
    merge = re.search(r"Submitted job (\d+): the merge", process.stdout)
    assert array and merge, process.stdout + process.stderr
    return array.group(1), array.group(2), merge.group(1)


def test_a_class_graded_through_slurm_equals_one_machine_and_a_cancelled_task_resumes(
        cluster, tmp_path):
    gate = tmp_path / "gate"
    gate.touch()
    submissions = gated_class(tmp_path / "submissions", gate)
    single = bulk("bulk", submissions, "--out", tmp_path / "single", *GRADING, "--jobs", "2")
    assert single.returncode == 0, single.stderr
    expected = rows(tmp_path / "single")
    assert {row["id"]: row["total"] for row in expected}["hana"] == "5"

    gate.unlink()
    (tmp_path / "hana-started").unlink()
    out = tmp_path / "slurm"
    first = through_slurm(cluster, "bulk", submissions, "--out", out, *GRADING, "--slurm", "2")
    assert first.returncode == 0, first.stdout + first.stderr
    array, shards, merge = submitted(first)
    assert shards == "1-2" and f"squeue -j {array},{merge}" in first.stdout
    plan = json.loads((out / "slurm" / "plan.json").read_text())
    hanas = next(k for k, entries in plan["shards"].items()
                 if "hana" in [e["id"] for e in entries])
    assert wait_for(lambda: (tmp_path / "hana-started").exists(), 120), cluster.logs()
    twice = through_slurm(cluster, "bulk", submissions, "--out", out, *GRADING, "--slurm", "2")
    assert twice.returncode == 2 and "still in the queue" in twice.stderr, twice.stderr
    assert "Submitted" not in twice.stdout
    cluster.run("scancel", f"{array}_{hanas}", check=True)
    merge_log = out / "slurm" / "logs" / "merge.txt"
    assert wait_for(lambda: not cluster.queue() and merge_log.exists()
                    and "grader merge:" in merge_log.read_text(), 120), cluster.logs()
    said = merge_log.read_text()
    assert re.search(rf"shard {hanas} is incomplete: \d of \d submissions not graded "
                     rf"\([^)]*hana[^)]*\)", said), said
    assert "Run the same command again" in said and "--slurm 2" in said
    assert "hana" not in {row["id"] for row in rows(out)}

    gate.touch()
    second = through_slurm(cluster, "bulk", submissions, "--out", out, *GRADING, "--slurm", "2")
    assert second.returncode == 0, second.stdout + second.stderr
    _, shards, _ = submitted(second)
    assert shards == hanas and "(the 1 others are graded)" in second.stdout
    assert wait_for(lambda: not cluster.queue()
                    and "shards are complete" in merge_log.read_text(), 120), cluster.logs()
    assert "all 2 shards are complete: 5 of 5 submissions graded" in merge_log.read_text()
    assert rows(out) == expected
    assert (out / "index.html").is_file() and (out / "summary.png").is_file()

    dry = through_slurm(cluster, "bulk", submissions, "--out", out, *GRADING, "--slurm", "2",
                        "--slurm-dry-run")
    assert dry.returncode == 0 and "every shard is graded already" in dry.stdout, dry.stderr
    again = through_slurm(cluster, "bulk", submissions, "--out", out, *GRADING, "--slurm", "2")
    assert again.returncode == 0 and "merging them here" in again.stderr, again.stderr
    assert "Submitted" not in again.stdout and not cluster.queue()
    assert rows(out) == expected
