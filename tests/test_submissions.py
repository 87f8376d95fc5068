"""grader.instructor.intake: finding student submissions for bulk grading (inputs built in tmp_path)."""

import zipfile
from pathlib import Path

import pytest

from grader.instructor.common.submission import Submission, SubmissionsError, Submitter
from grader.instructor.intake import folders, gradescope
from grader.instructor.intake.files import MAX_ENTRY_BYTES
from grader.instructor.intake.find import discover

FOUR = ("models.py", "losses.py", "train.py", "gpt_model.py")

METADATA = """\
submission_111:
  :submitters:
  - :name: Ada Lovelace
    :sid: '1815'
    :email: ada@example.edu
  :created_at: 2026-11-01 10:00:00.000000000 -07:00
  :score: 0.0
submission_222:
  :submitters:
  - :name: Alan Turing
    :sid: 1912
    :email: alan@example.edu
  - :name: Grace Hopper
    :sid: '1906'
    :email: grace@example.edu
  :created_at: 2026-11-02 09:30:00.000000000 -07:00
  :score: !ruby/object:BigDecimal 18:0.0
"""


def write(folder: Path, names=FOUR) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_text(f"# {name}\n", encoding="utf-8")
    return folder


def zip_folder(folder: Path, archive: Path, prefix: str = "") -> Path:
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in sorted(folder.rglob("*")):
            zipped.write(path, prefix + path.relative_to(folder).as_posix())
    return archive


def listing(folder: Path) -> list[str]:
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*"))


def by_id(submissions: list[Submission]) -> dict[str, Submission]:
    return {sub.id: sub for sub in submissions}


def test_folder_of_folders(tmp_path):
    root = tmp_path / "in"
    write(root / "alice")
    write(root / "bob" / "hw" / "code")  # two levels down
    (root / "bob" / "__MACOSX").mkdir()
    write(root / "bob" / "__MACOSX", ["models.py"])  # ignored, not a second copy
    (root / "carol").mkdir()
    write(root / "dave", ["models (1).py", "losses.py"])
    write(root / "erin" / "a", ["models.py"])
    write(root / "erin" / "b", ["models.py"])
    write(root / "frank", ["Models.py"])
    write(root / "gina" / "old")
    write(root / "gina", ["models.py"])  # the shallower copy wins
    before = listing(root)

    layout, submissions = discover(root, tmp_path / "work")

    assert layout == folders.FOLDERS
    assert [sub.id for sub in submissions] == sorted(sub.id for sub in submissions)
    subs = by_id(submissions)
    assert subs["alice"].status == "ok" and set(subs["alice"].files) == set(FOUR)
    assert subs["alice"].problem == ""
    assert subs["bob"].status == "ok"
    assert subs["bob"].files["models.py"] == root / "bob" / "hw" / "code" / "models.py"
    assert subs["carol"].status == "no-files" and subs["carol"].files == {}
    assert "models.py, losses.py" in subs["carol"].problem
    # a near-miss name is still a script: carried, read for what it defines
    assert subs["dave"].status == "ok"
    assert set(subs["dave"].files) == {"losses.py", "models (1).py"}
    assert "'models (1).py'" in subs["dave"].problem
    assert "graded as a script standing in for models.py" in subs["dave"].problem
    assert "rename it to models.py" in subs["dave"].problem
    assert subs["erin"].status == "unreadable"
    assert "a/models.py" in subs["erin"].problem and "b/models.py" in subs["erin"].problem
    assert subs["frank"].status == "ok" and set(subs["frank"].files) == {"Models.py"}
    assert "'Models.py' but no models.py" in subs["frank"].problem
    assert subs["gina"].files["models.py"] == root / "gina" / "models.py"
    assert subs["gina"].files["train.py"] == root / "gina" / "old" / "train.py"
    assert listing(root) == before


def test_folder_of_zips(tmp_path):
    root = tmp_path / "in"
    root.mkdir()
    zip_folder(write(tmp_path / "src" / "good"), root / "good.zip")
    write(tmp_path / "src" / "nested" / "x" / "y")
    zip_folder(tmp_path / "src" / "nested", root / "nested.zip")
    (root / "broken.zip").write_bytes(b"this is not a zip")
    with zipfile.ZipFile(root / "evil.zip", "w") as zipped:
        zipped.writestr("models.py", "# fine\n")
        zipped.writestr("../evil.py", "# escapes\n")
    before = listing(root)
    work = tmp_path / "work"

    layout, submissions = discover(root, work)

    assert layout == folders.ZIPS
    subs = by_id(submissions)
    assert [sub.id for sub in submissions] == ["broken", "evil", "good", "nested"]
    assert subs["good"].status == "ok" and set(subs["good"].files) == set(FOUR)
    assert subs["good"].source == root / "good.zip"
    assert all(work in path.parents for path in subs["good"].files.values())
    assert subs["nested"].status == "ok"
    assert subs["nested"].files["train.py"].parts[-3:] == ("x", "y", "train.py")
    assert subs["broken"].status == "unreadable" and "not a readable zip" in subs["broken"].problem
    assert subs["evil"].status == "unreadable" and "../evil.py" in subs["evil"].problem
    assert listing(root) == before
    assert not (tmp_path / "evil.py").exists() and not (work / "evil.py").exists()


def test_huge_entry_refused(tmp_path, monkeypatch):
    monkeypatch.setattr("grader.instructor.intake.files.MAX_ENTRY_BYTES", 10)
    root = tmp_path / "in"
    root.mkdir()
    with zipfile.ZipFile(root / "big.zip", "w", zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr("models.py", "x" * 1000)
    (_, [sub]) = discover(root, tmp_path / "work")
    assert sub.status == "unreadable" and "uncompressed" in sub.problem
    assert MAX_ENTRY_BYTES == 50 * 1024 * 1024


def test_mixed_folder(tmp_path):
    root = tmp_path / "in"
    write(root / "alice")
    zip_folder(write(tmp_path / "src" / "bob"), root / "bob.zip")
    layout, submissions = discover(root, tmp_path / "work")
    assert layout == folders.MIXED
    assert [sub.id for sub in submissions] == ["alice", "bob"]


def make_export(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "submission_metadata.yml").write_text(METADATA, encoding="utf-8")
    write(folder / "submission_222", ["models.py", "train.py"])
    write(folder / "submission_111")
    return folder


def check_export(layout, submissions):
    assert layout == gradescope.NAME
    assert [sub.id for sub in submissions] == ["111", "222"]
    ada, group = submissions
    assert ada.submitters == (Submitter("Ada Lovelace", "ada@example.edu", "1815"),)
    assert ada.status == "ok" and set(ada.files) == set(FOUR)
    assert group.submitters == (Submitter("Alan Turing", "alan@example.edu", "1912"),
                                Submitter("Grace Hopper", "grace@example.edu", "1906"))
    assert set(group.files) == {"models.py", "train.py"} and group.status == "ok"


def test_gradescope_folder(tmp_path):
    export = make_export(tmp_path / "export")
    before = listing(export)
    check_export(*discover(export, tmp_path / "work"))
    assert listing(export) == before


@pytest.mark.parametrize("prefix", ["", "assignment_42_export/"])
def test_gradescope_zip(tmp_path, prefix):
    archive = zip_folder(make_export(tmp_path / "export"), tmp_path / "export.zip", prefix)
    work = tmp_path / "work"
    layout, submissions = discover(archive, work)
    check_export(layout, submissions)
    assert all(work in sub.source.parents for sub in submissions)


def test_gradescope_bad_yaml(tmp_path):
    export = make_export(tmp_path / "export")
    (export / "submission_metadata.yml").write_text("a: [unclosed\n", encoding="utf-8")
    with pytest.raises(SubmissionsError, match="submission_metadata.yml"):
        discover(export, tmp_path / "work")


def test_errors(tmp_path):
    with pytest.raises(SubmissionsError, match="does not exist"):
        discover(tmp_path / "nowhere", tmp_path / "work")
    (tmp_path / "empty").mkdir()
    with pytest.raises(SubmissionsError, match="is empty"):
        discover(tmp_path / "empty", tmp_path / "work")
    (tmp_path / "notes.txt").write_text("hello", encoding="utf-8")
    with pytest.raises(SubmissionsError, match="neither a folder nor a .zip"):
        discover(tmp_path / "notes.txt", tmp_path / "work")
    write(tmp_path / "in" / "alice")
    with pytest.raises(SubmissionsError, match="inside the submissions folder"):
        discover(tmp_path / "in", tmp_path / "in" / "work")


def test_never_overwrites_workdir(tmp_path):
    root = tmp_path / "in"
    root.mkdir()
    zip_folder(write(tmp_path / "src" / "good"), root / "good.zip")
    work = tmp_path / "work"
    (work / "good").mkdir(parents=True)
    (work / "good" / "mine.txt").write_text("keep me", encoding="utf-8")
    _, [first] = discover(root, work)
    _, [second] = discover(root, work)
    assert (work / "good" / "mine.txt").read_text(encoding="utf-8") == "keep me"
    assert first.files["models.py"] != second.files["models.py"]
