"""The repository needs nothing beside it: no code, test or build file reads a sibling folder.

A newcomer clones the repository alone and runs `make test` (README); CI step 1 does the same
in an empty temporary folder. This test catches a path out of the tree before CI does.
"""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SKIP = {".venv", "node_modules", ".git", "var", "__pycache__", ".pytest_cache", ".ruff_cache"}
# The name of the folder beside the repository, kept in pieces so this file never reads as
# a path out of the tree itself.
SIBLING = "sha" + "red"
UP = r"\.\."
OUTSIDE = re.compile(
    rf"{UP}/{SIBLING}"  # a relative path to the sibling folder
    rf"""|["']{UP}["']\s*/\s*["']{SIBLING}["']"""  # Path(...) joined with up, then the sibling
    rf"""|parents\[\d\]\s*/\s*["']{UP}["']"""  # climbing out of the tree from a file
)


def _files():
    for path in ROOT.rglob("*"):
        if path.is_file() and not SKIP.intersection(path.relative_to(ROOT).parts):
            if path.suffix in {".py", ".toml", ".cfg", ".ini", ".sh"} or path.name in {
                "Makefile",
                "Procfile",
                "run",
            }:
                yield path


def test_no_file_reads_outside_the_repository():
    offenders = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
        for path in _files()
        for n, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert not offenders, "paths outside the repository:\n" + "\n".join(offenders)


def test_the_pattern_catches_each_way_out():
    up = ".."
    for line in (
        f"open('{up}/{SIBLING}/spec/deadlines.md')",
        f'ROOT / "{up}" / "{SIBLING}" / "spec"',
        f'Path(__file__).parents[2] / "{up}" / "x"',
    ):
        assert OUTSIDE.search(line), line
    assert not OUTSIDE.search('ROOT / "tests" / "data" / "deadline_vectors.csv"')


def test_the_worked_examples_are_the_projects_own():
    vectors = ROOT / "tests" / "data" / "deadline_vectors.csv"
    header = vectors.read_text().splitlines()[0]
    assert header == "name,rule,at,second_at,expected"
