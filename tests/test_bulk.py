"""Bulk grading: python -m grader bulk / merge, end to end on small batches (q1 and
q6 only, to stay quick)."""

import csv
import io
import json
import os
import re
import signal
import subprocess
import sys
import zipfile

import pytest

from helpers import ROOT, STUDENT_FILES, make_submission, process_tree, still_running, wait_for

QUESTIONS = ["-q", "q1,q6", "--jobs", "2"]


def bulk(*args, timeout=600):
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    env.pop("DISPLAY", None)
    return subprocess.run([sys.executable, "-m", "grader", *map(str, args)], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=timeout)


def zip_folder(folder, target, prefix=""):
    with zipfile.ZipFile(target, "w") as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, prefix + path.relative_to(folder).as_posix())
    return target


@pytest.fixture(scope="module")
def submissions(tmp_path_factory):
    return mixed_submissions(tmp_path_factory.mktemp("bulk"))


def mixed_submissions(base):
    """A folder mixing every kind of entry an instructor meets (in ``base``)."""
    folder = base / "submissions"
    make_submission(folder / "alice")                                     # reference
    skeleton = folder / "bob"
    skeleton.mkdir(parents=True)
    for name in STUDENT_FILES:
        (skeleton / name).write_bytes((ROOT / name).read_bytes())
    make_submission(folder / "carol", {"models.py": "def broken(:\n    pass"})  # syntax error
    make_submission(base / "dan")
    zip_folder(base / "dan", folder / "dan.zip")                          # a zip
    make_submission(base / "erin" / "hw" / "project")
    zip_folder(base / "erin", folder / "erin.zip")                        # nested folders
    (folder / "frank.zip").write_bytes(b"this is not a zip")             # malformed
    (folder / "gina").mkdir()                                             # nothing in it
    return folder


def rows(out, drop_seconds=True):
    table = list(csv.DictReader(io.StringIO((out / "grades.csv").read_text())))
    for row in table:
        if drop_seconds:
            row.pop("seconds")
    return table


@pytest.fixture(scope="module")
def graded(submissions, tmp_path_factory):
    out = tmp_path_factory.mktemp("out") / "grades"
    process = bulk("bulk", submissions, "--out", out, *QUESTIONS)
    assert process.returncode == 0, process.stdout + process.stderr
    return out, process


def test_every_kind_of_entry_gets_its_row(graded):
    out, process = graded
    table = {row["id"]: row for row in rows(out)}
    assert table["points possible"]["total"] == "7"
    expected = {"alice": ("5", "2", "7", "graded"), "bob": ("0", "0", "0", "graded"),
                "carol": ("0", "0", "0", "graded"), "dan": ("5", "2", "7", "graded"),
                "erin": ("5", "2", "7", "graded"), "frank": ("0", "0", "0", "unreadable"),
                "gina": ("0", "0", "0", "no-files")}
    for name, (q1, q6, total, status) in expected.items():
        row = table[name]
        assert (row["q1"], row["q6"], row["total"], row["status"]) == (q1, q6, total, status), row
    assert len(table) == len(expected) + 1
    assert table["points possible"]["course"] == table["alice"]["course"] == "current"
    assert "folders" in process.stderr or "mixed" in process.stderr
    assert (out / "summary.png").read_bytes().startswith(b"\x89PNG")
    record = json.loads((out / "results" / "carol.json").read_text())
    assert "syntax error" in json.dumps(record["result"])
    assert "7 submissions" in process.stdout


def test_rerunning_resumes_and_gives_the_same_csv(graded, submissions):
    out, _ = graded
    before = rows(out)
    process = bulk("bulk", submissions, "--out", out, *QUESTIONS)
    assert process.returncode == 0, process.stderr
    assert "7 already graded with these settings; grading 0" in process.stderr
    assert rows(out) == before


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGKILL], ids=["SIGINT", "SIGKILL"])
def test_an_interrupted_run_finishes_on_the_next(graded, submissions, tmp_path, how):
    out = tmp_path / "grades"
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    env.pop("DISPLAY", None)
    process = subprocess.Popen([sys.executable, "-m", "grader", "bulk", str(submissions),
                                "--out", str(out), *QUESTIONS], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def grading_with_sandboxes():   # some results saved, and sandboxes running below
        tree = process_tree(process.pid)
        return len(list((out / "results").glob("*.json"))) >= 2 and len(tree) >= 4 and tree

    tree = wait_for(grading_with_sandboxes, 300)
    process.send_signal(how)
    _, stderr = process.communicate(timeout=120)
    assert tree, "the run never had sandboxes running"
    assert len(list((out / "results").glob("*.json"))) < 7, "the run ended before the signal"
    if how == signal.SIGINT:
        assert process.returncode == 130 and "Traceback" not in stderr, stderr
        assert not still_running(tree), "bulk exited before its children"
    wait_for(lambda: not still_running(tree), 60)
    assert not still_running(tree), f"left running: {still_running(tree)}"
    finished = bulk("bulk", submissions, "--out", out, *QUESTIONS)
    assert finished.returncode == 0, finished.stderr
    assert rows(out) == rows(graded[0])
    assert [p.name for p in (out / ".work").iterdir()] == ["bulk.lock"], "a run left files"


def test_shards_merge_into_the_whole(graded, submissions, tmp_path):
    for k in (1, 2):
        process = bulk("bulk", submissions, "--out", tmp_path / f"shard{k}", "--shard",
                       f"{k}/2", *QUESTIONS)
        assert process.returncode == 0, process.stderr
    process = bulk("merge", tmp_path / "shard1", tmp_path / "shard2", "--out", tmp_path / "all")
    assert process.returncode == 0, process.stderr
    assert rows(tmp_path / "all") == rows(graded[0])


def test_a_gradescope_export_gives_one_row_per_group_member(tmp_path):
    export = tmp_path / "export"
    make_submission(export / "submission_101", omit=("gpt_model.py",))
    make_submission(export / "submission_102" / "nested")
    (export / "submission_metadata.yml").write_text(
        "submission_101:\n"
        "  :submitters:\n"
        "  - :name: Ada Lovelace\n    :sid: '1815'\n    :email: ada@example.edu\n"
        "  - :name: Charles Babbage\n    :sid: '1791'\n    :email: cb@example.edu\n"
        "submission_102:\n"
        "  :submitters:\n"
        "  - :name: Grace Hopper\n    :sid: '1906'\n    :email: grace@example.edu\n")
    process = bulk("bulk", zip_folder(export, tmp_path / "export.zip"), "--out",
                   tmp_path / "out", "-q", "q6")
    assert process.returncode == 0, process.stderr
    assert "gradescope" in process.stderr
    table = rows(tmp_path / "out")[1:]
    assert [(r["id"], r["name"], r["sid"], r["email"], r["q6"]) for r in table] == [
        ("101", "Ada Lovelace", "1815", "ada@example.edu", "2"),
        ("101", "Charles Babbage", "1791", "cb@example.edu", "2"),
        ("102", "Grace Hopper", "1906", "grace@example.edu", "2")]


def test_bad_input_gets_a_usage_message(tmp_path):
    process = bulk("bulk", tmp_path / "missing", "--out", tmp_path / "out")
    assert process.returncode == 2 and "does not exist" in process.stderr
    assert "Traceback" not in process.stderr
    process = bulk("bulk", tmp_path, "--out", tmp_path / "out", "--shard", "3/2")
    assert process.returncode == 2 and "--shard" in process.stderr


def test_progress_redraws_on_a_terminal_and_prints_lines_elsewhere(monkeypatch):
    import tqdm.std

    from grader.instructor.grading import bulk as bulk_module

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    clock = [100.0]
    monkeypatch.setattr(tqdm.std, "time", lambda: clock[0])
    for stream in (Terminal(), io.StringIO()):
        progress = bulk_module.Progress(2, stream)
        clock[0] += 3
        progress.tick()                                   # nothing done yet
        progress.finished({"status": "graded"})
        clock[0] += 60
        progress.tick()
        progress.finished({"status": "grader-error"})
        progress.close()
        text = stream.getvalue()
        if isinstance(stream, Terminal):        # one line, redrawn: a bar, rate and ETA
            frames = text.split("\r")[1:]
            assert frames[0].startswith("graded:   0%|") and "0/2" in frames[0]
            assert "0/2 [00:03<?" in frames[1] and "0 not graded normally" in frames[1]
            assert frames[-1].startswith("graded: 100%|") and "2/2 [01:03<00:00" in frames[-1]
            assert "1 not graded normally" in frames[-1] and "\u2588" in frames[-1]
            assert text.count("\n") == 1 and text.endswith("\n")
        else:   # at the start, every PROGRESS_SECONDS (the 60 s tick) and at the end; no \r
            lines = text.splitlines()
            assert "\r" not in text and len(lines) == 3, lines
            assert "0/2" in lines[0] and "1/2 [01:03<01:03" in lines[1]
            assert re.match(r"graded: 100%\|#+\| 2/2 \[01:03<00:00", lines[2]), lines[2]
            assert lines[2].endswith("1 not graded normally]")


def test_a_bulk_run_in_a_terminal_shows_a_bar(submissions, tmp_path):
    out = tmp_path / "grades"
    command = (f"{sys.executable} -m grader bulk {submissions} --out {out} -q q1 --jobs 2 "
               "--force")
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", COLUMNS="100")
    env.pop("DISPLAY", None)
    shown = subprocess.run(["script", "-qefc", command, "/dev/null"], cwd=ROOT, env=env,
                           capture_output=True, timeout=600, stdin=subprocess.DEVNULL)
    text = shown.stdout.decode("utf-8", errors="replace")   # bytes: keep the \r
    assert shown.returncode == 0, text
    bars = [frame for frame in text.split("\r") if frame.startswith("graded:")]
    assert len(bars) >= 3, text[-2000:]        # redrawn in place, not line after line
    assert "7/7" in bars[-1] and "\u2588" in bars[-1], text[-2000:]
    assert "submission/s" in text or "s/submission" in text
