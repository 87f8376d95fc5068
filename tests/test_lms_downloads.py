"""bulk reads Canvas's and Moodle's downloads of every submission, as they come
(grader/instructor/intake/lms.py, canvas.py, moodle.py). The downloads are built here, named exactly as the LMS
names them:

Canvas, "Download Submissions": one zip (``submissions.zip``), flat. Each uploaded
file is ``<sortable name>_<user id>_<attachment id>_<file name>``. The sortable name
("Doe, Jane") is lowercased and keeps only letters, digits and ``_``: ``doejane``.
Late work has ``LATE`` between the name and the user id (older Canvas wrote the whole
name in lower case: ``late``): ``doejane_LATE_12345_67890_models.py``. Uploading a file
name the student already uploaded makes Canvas add ``-1``, ``-2``... before its
extension (``models-1.py``); attachment ids grow with each upload. A text entry or a
link comes as ``<sortable name>_<user id>_text.html`` (``_link.html``). Any file may be
a zip of the student's own (``xyz123_Project3.zip``).

Moodle, "Download all submissions": one zip; in it a folder per participant and
submission plugin, ``<full name>_<participant id>_assignsubmission_file_`` holding the
student's files (their own folders kept), and
``<full name>_<participant id>_assignsubmission_onlinetext_`` holding
``onlinetext.html``. With "Download submissions in folders" off, it is flat:
``<full name>_<participant id>_assignsubmission_file_<file name>``. The full name has
any ``_`` turned into a space; the participant id is the one Moodle's grading
worksheet shows as "Participant <id>".
"""

import csv
import io
import json
import zipfile
from pathlib import Path

import pytest

from grader.instructor.reports import grades
from grader.instructor.grading.bulk import Job
from grader.instructor.commands.main import main
from grader.instructor.common.submission import Submission, SubmissionsError
from grader.instructor.intake.find import discover, find
from helpers import REFERENCE, STUDENT_FILES
from test_bulk import bulk
from test_lms_export import read_csv, write_csv

THREE = ("models.py", "losses.py", "train.py")
NOTEBOOK = json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def put(folder: Path, name: str, text: str | bytes = "") -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text or f"# {name}\n", encoding="utf-8")
    return path


def zipped(folder: Path, archive: Path) -> Path:
    with zipfile.ZipFile(archive, "w") as out:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                out.write(path, path.relative_to(folder).as_posix())
    return archive


def canvas_download(base: Path) -> Path:
    """A Canvas download with every case an instructor meets."""
    folder = base / "canvas"
    for number, name in enumerate(THREE):                   # Jane Doe, on time
        put(folder, f"doejane_12345_{67890 + number}_{name}")
    put(folder, "doejane_12345_text.html", "<p>see my files</p>")
    for number, name in enumerate(THREE):                   # another Jane Doe, late
        put(folder, f"doejane_LATE_23456_{70000 + number}_{name}")
    put(folder, "doejane_LATE_23456_70010_Project3.ipynb", NOTEBOOK)
    put(folder, "smithbob_late_34567_70100_models.py", "# first upload\n")
    put(folder, "smithbob_late_34567_70150_losses.py")
    put(folder, "smithbob_late_34567_70200_models-1.py", "# second upload\n")
    put(folder, "smithbob_late_34567_70300_model.py", "# another name\n")
    own = base / "leeann_zip"                               # the student's own zip
    for name in THREE:
        put(own / "Project3", name)
    put(own / "Project3", "notes.ipynb", NOTEBOOK)
    zipped(own, folder / "leeann_45678_70400_xyz123_Project3.zip")
    put(folder, "kimsam_56789_70500_models.py", b"")        # an empty file
    put(folder, "kimsam_56789_70501_losses.py")
    put(folder, "parkmin_67890_70600_Project3.zip", b"this is not a zip")
    put(folder, "readme.txt", "not from Canvas")
    return folder


def student_folder(workdir: Path, submission) -> Path:
    """The folder a student's files were grouped into (the submission's files lie in it)."""
    path = next(iter(submission.files.values()))
    return workdir / path.relative_to(workdir).parts[0]


def listing(folder: Path) -> list[str]:
    return sorted(path.relative_to(folder).as_posix() for path in folder.rglob("*")
                  if path.is_file())


@pytest.mark.parametrize("zipped_download", [False, True], ids=["folder", "zip"])
def test_a_canvas_download_gives_one_submission_per_student(tmp_path, zipped_download):
    download = canvas_download(tmp_path)
    if zipped_download:
        download = zipped(download, tmp_path / "submissions.zip")
    work = tmp_path / "work"

    found = find(download, work)

    assert found.layout == "canvas"
    subs = {sub.id: sub for sub in found.submissions}
    assert sorted(subs) == ["doejane_12345", "doejane_23456", "kimsam_56789", "leeann_45678",
                            "parkmin_67890", "smithbob_34567"]
    jane, other_jane = subs["doejane_12345"], subs["doejane_23456"]
    assert jane.lms == {"system": "canvas", "user_id": "12345", "name": "doejane",
                        "late": False, "set_aside": []}
    assert [(s.name, s.sid) for s in jane.submitters] == [("doejane", "12345")]
    assert listing(student_folder(work, jane)) == sorted(THREE)
    assert "doejane_12345_text.html (online text or link) is not graded" in jane.problem
    assert other_jane.lms["late"] is True and other_jane.status == "ok"
    assert listing(student_folder(work, other_jane)) == sorted([*THREE, "Project3.ipynb"])
    assert (student_folder(work, other_jane) / "Project3.ipynb").read_text() == NOTEBOOK

    bob = subs["smithbob_34567"]
    assert bob.lms["late"] is True and bob.lms["set_aside"] == [
        "smithbob_late_34567_70100_models.py"]
    assert bob.files["models.py"].read_text() == "# second upload\n"
    assert listing(student_folder(work, bob)) == ["losses.py", "model.py", "models.py"]
    assert ("set aside older uploads smithbob_late_34567_70100_models.py: the newest upload "
            "of each file name is graded") in bob.problem
    assert "a file under another name is another file, kept as well" in bob.problem

    lee = subs["leeann_45678"]                          # a zip inside the zip
    assert lee.status == "ok" and set(lee.files) >= set(THREE)
    assert listing(student_folder(work, lee)) == [
        f"xyz123_Project3/Project3/{name}" for name in sorted([*THREE, "notes.ipynb"])]

    kim = subs["kimsam_56789"]
    assert kim.status == "ok" and kim.files["models.py"].read_bytes() == b""
    assert "models.py is empty (0 bytes) in the download: graded as it is" in kim.problem
    park = subs["parkmin_67890"]
    assert park.status == "unreadable" and park.files == {}
    assert "Project3.zip is not a readable zip" in park.problem
    assert park.lms["user_id"] == "67890"

    assert any("readme.txt" in note and "not graded" in note for note in found.notes)
    assert any(note.startswith("2 of 6 students' work is marked late by Canvas")
               and "no late penalty is applied" in note for note in found.notes)
    assert all(work in path.parents for sub in found.submissions for path in sub.files.values())


def test_the_same_download_gives_the_same_ids_sources_and_problems(tmp_path):
    download = canvas_download(tmp_path)
    first = find(download, tmp_path / "work")
    second = find(download, tmp_path / "work")
    assert [(s.id, s.source, s.problem, s.lms, s.status) for s in first.submissions] == \
           [(s.id, s.source, s.problem, s.lms, s.status) for s in second.submissions]
    assert {s.id: s.source for s in first.submissions}["smithbob_34567"] == \
        download / "smithbob_late_34567_70100_models.py"


def moodle_download(base: Path, flat: bool) -> Path:
    folder = base / ("moodle-flat" if flat else "moodle")

    def upload(person: str, name: str, text: str | bytes = "", plugin: str = "file"):
        prefix = f"{person}_assignsubmission_{plugin}_"
        put(folder, prefix + name if flat else f"{prefix}/{name}", text)

    for name in THREE:
        upload("Jane Doe_1234567", name)
    upload("Jane Doe_1234567", "onlinetext.html", "<p>hello</p>", plugin="onlinetext")
    for name in THREE:
        upload("Jane Doe_7654321", name)                    # another Jane Doe
    upload("Jane Doe_7654321", "Project3.ipynb", NOTEBOOK)
    own = base / "own"
    for name in THREE:
        put(own / "Project3", name)
    upload("Group A-Bob Smith_2222222", "xyz123_Project3.zip",
           zipped(own, base / "own.zip").read_bytes())
    if not flat:                                            # the student's own folders
        upload("Ann Lee_3333333", "hw/project/models.py")
        upload("Ann Lee_3333333", "hw/project/losses.py")
    return folder


@pytest.mark.parametrize("flat", [False, True], ids=["folders", "flat"])
def test_a_moodle_download_gives_one_submission_per_participant(tmp_path, flat):
    download = zipped(moodle_download(tmp_path, flat), tmp_path / "download.zip")
    work = tmp_path / "work"

    found = find(download, work)

    assert found.layout == "moodle"
    subs = {sub.id: sub for sub in found.submissions}
    expected = ["Group_A-Bob_Smith_2222222", "Jane_Doe_1234567", "Jane_Doe_7654321"]
    assert sorted(subs) == sorted(expected + ([] if flat else ["Ann_Lee_3333333"]))
    jane = subs["Jane_Doe_1234567"]
    assert jane.lms == {"system": "moodle", "user_id": "1234567", "name": "Jane Doe",
                        "late": False, "set_aside": []}
    assert [(s.name, s.sid) for s in jane.submitters] == [("Jane Doe", "1234567")]
    assert listing(student_folder(work, jane)) == sorted(THREE)
    assert "onlinetext" in jane.problem and "is not graded: read it in Moodle" in jane.problem
    other = subs["Jane_Doe_7654321"]
    assert listing(student_folder(work, other)) == sorted([*THREE, "Project3.ipynb"])
    bob = subs["Group_A-Bob_Smith_2222222"]
    assert bob.status == "ok" and bob.lms["name"] == "Group A-Bob Smith"
    assert listing(student_folder(work, bob)) == [
        f"xyz123_Project3/Project3/{name}" for name in sorted(THREE)]
    if not flat:
        ann = subs["Ann_Lee_3333333"]
        assert ann.files["models.py"].relative_to(student_folder(work, ann)).as_posix() == \
            "hw/project/models.py"
    assert found.notes == []


def test_the_layout_is_detected_from_most_names_and_forced_by_layout(tmp_path):
    folders = tmp_path / "folders"                  # per-student folders: not an LMS
    for student in ("alice", "bob"):
        for name in THREE:
            put(folders / student, name)
    assert discover(folders, tmp_path / "w1")[0] == "folders"
    with pytest.raises(SubmissionsError, match=r"--layout canvas: none of the 2 entries .*"
                       r"<sortable name>_<user id>_<attachment id>_<file name>"):
        find(folders, tmp_path / "w2", "canvas")
    with pytest.raises(SubmissionsError, match="--layout moodle: none of the 2 entries"):
        find(folders, tmp_path / "w3", "moodle")
    with pytest.raises(SubmissionsError, match="--layout gradescope: .* has no "
                       "submission_metadata.yml"):
        find(folders, tmp_path / "w4", "gradescope")

    # One Canvas name among two folders: not most of them, so folders; forced, the
    # folders are graded as they would be, each a submission of its own.
    put(folders, "doejane_LATE_12345_67890_models.py")
    assert find(folders, tmp_path / "w5").layout == "folders"
    forced = find(folders, tmp_path / "w7", "canvas")
    assert forced.layout == "canvas"
    assert [(s.id, bool(s.lms)) for s in forced.submissions] == [
        ("alice", False), ("bob", False), ("doejane_12345", True)]

    download = canvas_download(tmp_path)
    as_folders = find(download, tmp_path / "w8", "folders")   # the override is obeyed
    assert as_folders.layout == "zips" and [s.id for s in as_folders.submissions] == [
        "leeann_45678_70400_xyz123_Project3", "parkmin_67890_70600_Project3"]
    with pytest.raises(SubmissionsError, match="--layout moodle: none of the 17 entries"):
        find(download, tmp_path / "w9", "moodle")
    wrapped = tmp_path / "wrapped"                  # unzipped into a folder of its own
    wrapped.mkdir()
    download.rename(wrapped / "Course-Project 3 submissions")
    assert find(wrapped, tmp_path / "w10").layout == "canvas"


def test_a_zip_that_is_no_download_gets_a_clear_message(tmp_path):
    folder = tmp_path / "loose"
    put(folder, "models.py")
    put(folder, "notes.txt")
    with pytest.raises(SubmissionsError, match="names are not Canvas's or Moodle's"):
        find(zipped(folder, tmp_path / "loose.zip"), tmp_path / "work")


def test_the_record_and_the_csv_carry_the_lms_identity(tmp_path):
    found = find(canvas_download(tmp_path), tmp_path / "work")
    subs = {sub.id: sub for sub in found.submissions}
    record = Job(subs["smithbob_34567"], tmp_path, tmp_path, {"seed": 0}, [], 1,
                 crew=None).record()
    assert record["lms"] == {"system": "canvas", "user_id": "34567", "name": "smithbob",
                             "late": True, "set_aside": ["smithbob_late_34567_70100_models.py"]}
    plain = Job(subs["parkmin_67890"], tmp_path, tmp_path, {}, [], 1, crew=None).record()
    plain.pop("lms")
    assert "lms" not in Job(Submission("alice", tmp_path), tmp_path, tmp_path, {}, [], 1,
                            crew=None).record()
    rows = [dict(plain, status="unreadable"), dict(record, status="unreadable")]
    table = list(csv.reader(io.StringIO(grades.csv_text(rows))))
    assert table[0][:6] == ["id", "name", "email", "sid", "lms_id", "late"]
    assert [row[:6] for row in table[2:]] == [
        ["parkmin_67890", "parkmin", "", "67890", "", ""],
        ["smithbob_34567", "smithbob", "", "34567", "34567", "yes"]]
    assert len({len(row) for row in table}) == 1
    header = next(csv.reader(io.StringIO(grades.csv_text([plain]))))
    assert "lms_id" not in header and "late" not in header
    text, _ = grades.summary(rows)
    assert "1 marked late by the LMS (grades.csv's late column): no late penalty is " \
           "applied" in text
    assert "late" not in grades.summary([plain])[0]


def test_bulk_grades_a_canvas_download_into_the_csv(tmp_path):
    folder = tmp_path / "canvas"
    for number, name in enumerate(STUDENT_FILES):
        text = (REFERENCE / name).read_text(encoding="utf-8")
        put(folder, f"doejane_12345_{100 + number}_{name}", text)
        put(folder, f"doejane_LATE_23456_{200 + number}_{name}", text)
    download = zipped(folder, tmp_path / "submissions.zip")
    out = tmp_path / "out"
    process = bulk("bulk", download, "--out", out, "-q", "q1", "--jobs", "2")
    assert process.returncode == 0, process.stderr
    assert "Found 2 submissions (canvas layout, detected from the names" in process.stderr
    assert "1 of 2 students' work is marked late by Canvas" in process.stderr
    assert "no late penalty is applied" in process.stdout
    table = list(csv.DictReader(io.StringIO((out / "grades.csv").read_text())))
    assert [(r["id"], r["name"], r["lms_id"], r["late"], r["q1"], r["status"])
            for r in table[1:]] == [("doejane_12345", "doejane", "12345", "no", "5", "graded"),
                                    ("doejane_23456", "doejane", "23456", "yes", "5", "graded")]
    saved = json.loads((out / "results" / "doejane_23456.json").read_text())
    assert saved["lms"] == {"system": "canvas", "user_id": "23456", "name": "doejane",
                            "late": True, "set_aside": []}
    # The round trip: the grades back into the gradebook Canvas exported.
    gradebook = write_csv(tmp_path / "gradebook.csv", [
        "Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Project 3 (5501)",
        "Current Points"], [
        ["    Points Possible", "", "", "", "", "5.00", "(read only)"],
        ["Doe, Jane", "12345", "", "", "ML", "", "0"],
        ["Doe, Jane", "23456", "", "", "ML", "", "0"],
        ["Roe, Rick", "34567", "", "", "ML", "", "0"]])
    assert main(["export", "canvas", str(out), "--gradebook", str(gradebook)]) == 0
    filled = read_csv(out / "canvas-import.csv")
    assert [row[5] for row in filled] == ["Project 3 (5501)", "5.00", "5", "5", ""]
    forced = bulk("bulk", download, "--out", tmp_path / "out2", "--layout", "moodle", "-q", "q1")
    assert forced.returncode == 2 and "--layout moodle: none of the 8 entries" in forced.stderr
    assert "Traceback" not in forced.stderr
