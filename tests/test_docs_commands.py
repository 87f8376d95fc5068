"""Every command the docs show parses with the real argument parser, so a renamed flag
breaks this test rather than a reader's command.

The commands are the ``python autograder.py ...``, ``python -m grader ...``,
``python chargpt.py ...`` and ``python benchmarks/NAME.py ...`` found in README.md and
docs/*.md: in code blocks (a ``text`` or ``python`` block is output or code, not
commands; ``#`` comments and lines continued with ``\\`` are handled) and in inline code,
after any prefix (``$ ``, ``taskset -c 0``, ``time``, ``VAR=value``) and up to ``&&``,
``;``, ``|`` or ``:::``. Placeholders are filled in: ``...`` and the brackets of a usage
line (``[--archive DIR ...]``) are dropped, shell variables and GNU parallel's ``{}``
become 1, and the few tokens in PLACEHOLDERS get a value of their type. A command
named alone in prose (``python -m grader similarity``) must exist (its ``--help``).

Nothing is graded or run: one child process imports each parser's module and calls
the entry point (``grader.judge.cli.parse_args``, ``grader.instructor.commands.main.
build_parser``, ``chargpt.parse_args``, a benchmark's ``main``) with
``ArgumentParser.parse_args`` replaced by one that parses the documented words (no
abbreviated flags), then stops the program. The child keeps the benchmarks' imports (torch, their
sys.path changes) out of the test process.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])

# Tokens that stand for a value in the docs, and a value of the right type.
PLACEHOLDERS = {"K/N": "1/2", "N": "2", "X": "1.5", "MB": "4096", "SEED": "0",
                "NAME": "current"}

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})\s*([\w+-]*)")
NOT_COMMANDS = {"text", "python", "py", "json", "csv", "yaml", "toml", "html"}
START = re.compile(r"(?<![\w/.-])python3?\s+(autograder\.py|chargpt\.py|-m\s+grader\b|"
                   r"benchmarks/\w+\.py)")
ENDS = {"&&", "||", ";", "|", "&", ":::", "(", ")"}


def snippets(text: str) -> list[str]:
    """The command lines of a page's code blocks, and its inline code spans."""
    found, prose, fence, language, lines = [], [], "", "", []
    for line in text.split("\n"):
        opener = FENCE.match(line)
        if fence:
            if opener and line.strip() == opener.group(1) and opener.group(1)[0] == fence[0] \
                    and len(opener.group(1)) >= len(fence):
                if language not in NOT_COMMANDS:
                    found += block_commands(lines)
                fence, lines = "", []
            else:
                lines.append(line)
            prose.append("")
        elif opener:
            fence, language = opener.group(1), opener.group(2).lower()
            prose.append("")
        else:
            prose.append(line)
    for match in re.finditer(r"(`+)(.+?)\1", "\n".join(prose), re.DOTALL):
        found.append(" ".join(match.group(2).split()))
    return found


def block_commands(lines: list[str]) -> list[str]:
    """A code block's commands: comment lines dropped, continued lines joined."""
    commands, current = [], ""
    for line in lines:
        if not current and line.lstrip().startswith("#"):
            continue
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
        else:
            commands.append(current + line)
            current = ""
    return commands + ([current] if current else [])


def commands_in(snippet: str) -> list[list[str]]:
    """Each documented command in a snippet, as words from "python" on, filled in."""
    found = []
    for match in START.finditer(snippet):
        rest = snippet[match.start():]
        lexer = shlex.shlex(rest, posix=True, punctuation_chars=";&|()")
        lexer.whitespace_split = True
        words = []
        try:
            for word in lexer:
                if word in ENDS:
                    break
                words.append(word)
        except ValueError:        # an unclosed quote: the snippet is not a command
            continue
        found.append(fill_in(words))
    return found


def fill_in(words: list[str]) -> list[str]:
    filled = []
    for word in words:
        word = word.strip("[]")
        if word in ("...", "") or word.endswith("..."):
            continue
        word = re.sub(r"\$\{?\w+\}?|\{\}", "1", word)
        filled.append(PLACEHOLDERS.get(word, word))
    return filled


def documented() -> list[tuple[str, list[str]]]:
    found = []
    for page in PAGES:
        for snippet in snippets(page.read_text(encoding="utf-8")):
            for words in commands_in(snippet):
                found.append((page.relative_to(ROOT).as_posix(), words))
    unique = {(page, shlex.join(words)): (page, words) for page, words in found}
    return list(unique.values())


COMMANDS = documented()


class _Parsed(Exception):
    pass


def _entry(program: str):
    """The function that builds program's parser and parses: called with no arguments."""
    sys.path.insert(0, str(ROOT))
    if program == "autograder.py":
        from grader.judge import cli
        return cli.parse_args
    if program == "grader":
        from grader.instructor.commands.main import build_parser
        return lambda: build_parser().parse_args()
    path = ROOT / program
    spec = importlib.util.spec_from_file_location(f"_documented_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module          # as an import would (dataclasses need it)
    spec.loader.exec_module(module)
    return module.parse_args if program == "chargpt.py" else module.main


def _exact(parser: argparse.ArgumentParser) -> None:
    """No abbreviated flags: a doc's --memory-limit must not pass as the abbreviation of
    a renamed --memory-limit-mb."""
    parser.allow_abbrev = False
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for subparser in action.choices.values():
                _exact(subparser)


def parse(words: list[str]) -> str:
    """'' when the documented words parse with their program's parser, else why not."""
    program, argv = (("grader", words[3:]) if words[1] == "-m" else (words[1], words[2:]))
    if program == "grader" and len(argv) == 1:
        argv = [*argv, "--help"]     # a command named in prose: it must exist
    original = argparse.ArgumentParser.parse_args

    def documented_words(parser, args=None, namespace=None):
        _exact(parser)
        raise _Parsed(original(parser, argv, namespace))

    said, program_name = io.StringIO(), sys.argv
    sys.argv = [program, *argv]          # a benchmark's usage line names itself
    argparse.ArgumentParser.parse_args = documented_words
    try:
        with contextlib.redirect_stdout(said), contextlib.redirect_stderr(said):
            _entry(program)()
    except _Parsed:
        return ""
    except SystemExit as exit:
        return "" if exit.code == 0 else said.getvalue().strip() or f"exit status {exit.code}"
    except Exception as error:  # noqa: BLE001 - reported as the test's failure
        return f"{type(error).__name__}: {error}"
    finally:
        argparse.ArgumentParser.parse_args, sys.argv = original, program_name
    return "its program never reached its argument parser"


def _child() -> None:
    """In the child: parse each command of stdin's JSON list, print the verdicts."""
    print(json.dumps([parse(words) for words in json.load(sys.stdin)]))


@pytest.fixture(scope="module")
def verdicts() -> dict[str, str]:
    words = [w for _, w in COMMANDS]
    done = subprocess.run([sys.executable, __file__], input=json.dumps(words), cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return dict(zip((shlex.join(w) for w in words), json.loads(done.stdout)))


def test_the_docs_show_commands_of_every_kind():
    programs = {" ".join(words[1:3]) if words[1] == "-m" else words[1] for _, words in COMMANDS}
    assert {"autograder.py", "-m grader"} <= programs, programs
    assert any(p.startswith("benchmarks/") for p in programs), programs


@pytest.mark.parametrize("page,words", COMMANDS,
                         ids=[f"{page}: {shlex.join(words)}" for page, words in COMMANDS])
def test_a_documented_command_parses(page, words, verdicts):
    verdict = verdicts[shlex.join(words)]
    assert not verdict, f"{page} shows `{shlex.join(words)}`, which does not parse:\n{verdict}"


def test_the_extraction_handles_prefixes_continuations_and_placeholders():
    page = "\n".join([
        "Run `python autograder.py -q q3` or",
        "`python -m grader merge OUT1 OUT2 ... --out ALL`, split",
        "`python -m grader similarity",
        "SUBMISSIONS --out MERGED`.",
        "```",
        "# python autograder.py --in-a-comment",
        "$ taskset -c 0 python benchmarks/threads.py --questions q1 \\",
        "    --repeats 1   # a comment",
        "python -m pip install -e . && python autograder.py --mute; echo done",
        "```",
        "```text",
        "python autograder.py --output-not-a-command",
        "```",
        "`parallel python -m grader bulk s/ --out out{} --shard {}/2 ::: 1 2` and",
        "`python -m grader bulk s/ --out o$SLURM_ARRAY_TASK_ID --shard K/N [--force]`",
    ])
    found = [words for snippet in snippets(page) for words in commands_in(snippet)]
    assert found == [
        ["python", "benchmarks/threads.py", "--questions", "q1", "--repeats", "1"],
        ["python", "autograder.py", "--mute"],
        ["python", "autograder.py", "-q", "q3"],
        ["python", "-m", "grader", "merge", "OUT1", "OUT2", "--out", "ALL"],
        ["python", "-m", "grader", "similarity", "SUBMISSIONS", "--out", "MERGED"],
        ["python", "-m", "grader", "bulk", "s/", "--out", "out1", "--shard", "1/2"],
        ["python", "-m", "grader", "bulk", "s/", "--out", "o1", "--shard", "1/2", "--force"],
    ]


if __name__ == "__main__":
    _child()
