"""chargpt.py: a smoke run with the reference model, and clear messages otherwise."""

import shutil
import subprocess
import sys

from helpers import REFERENCE, ROOT


def run_chargpt(folder, *args):
    return subprocess.run([sys.executable, str(folder / "chargpt.py"), *args], cwd=folder,
                          capture_output=True, text=True, timeout=300)


def test_dry_run_with_the_reference_model_trains_and_samples(tmp_path):
    for name in ("chargpt.py", "backend.py"):
        shutil.copy2(ROOT / name, tmp_path / name)
    for name in ("models.py", "gpt_model.py"):
        shutil.copy2(REFERENCE / name, tmp_path / name)
    process = run_chargpt(tmp_path, "--dry-run", "--input", str(ROOT / "data" / "shakespeare.txt"))
    assert process.returncode == 0, process.stderr
    assert "iter     20/20 | loss" in process.stdout and "it/s" in process.stdout
    assert "--- sample after 20 iterations ---\nROMEO:\n" in process.stdout


def test_learning_rate_flag_is_used(tmp_path):
    for name in ("chargpt.py",):
        shutil.copy2(ROOT / name, tmp_path / name)
    for name in ("models.py", "gpt_model.py"):
        shutil.copy2(REFERENCE / name, tmp_path / name)
    text = str(ROOT / "data" / "shakespeare.txt")
    frozen = run_chargpt(tmp_path, "--dry-run", "--input", text, "--lr", "0")
    learning = run_chargpt(tmp_path, "--dry-run", "--input", text, "--lr", "0.01")
    last = [float(p.stdout.split("iter     20/20 | loss ")[1].split()[0]) for p in (frozen, learning)]
    assert last[1] < last[0] - 0.3, (frozen.stdout, learning.stdout)


def test_unfinished_skeleton_gets_a_clear_message():
    process = run_chargpt(ROOT, "--dry-run")
    assert process.returncode == 1
    assert "models.AttentionBlock.forward (question 6) returned None: it is not filled in yet" \
        in process.stderr
    assert "Traceback" not in process.stderr


def test_bad_input_file_and_prompt():
    process = run_chargpt(ROOT, "--dry-run", "--input", "/no/such/file.txt")
    assert process.returncode == 2 and "cannot read --input /no/such/file.txt" in process.stderr
    process = run_chargpt(ROOT, "--dry-run", "--prompt", "\u2603")
    assert process.returncode == 2 and "--prompt has characters not in the training text" \
        in process.stderr
