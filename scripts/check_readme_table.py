#!/usr/bin/env python3
"""Checks that README.md's "Python -> pyconc" table compiles as written.

Every code span (`...`) of the table's C++ column, and the code block that opens the section,
must appear verbatim in the table's compiled twin, tests/readme/readme_table_test.cpp, so that
the README and the code the test suite compiles cannot drift apart.

Usage: scripts/check_readme_table.py [--readme README.md] [--twin tests/readme/readme_table_test.cpp]
Prints each missing span and exits 1 if there is one; prints a summary and exits 0 otherwise.
"""
import argparse
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
SECTION = "## Python → pyconc"

# Spans not yet twinned, each with its reason. Keep this list short and remove an entry as soon
# as its row compiles with every supported compiler.
NOT_YET_TWINNED = {}


def split_row(line):
    """Splits a markdown table row on the | outside code spans."""
    cells, cur, in_code = [], "", False
    for ch in line.strip().strip("|"):
        if ch == "`":
            in_code = not in_code
        if ch == "|" and not in_code:
            cells.append(cur.strip())
            cur = ""
        else:
            cur += ch
    cells.append(cur.strip())
    return cells


def table_section(text):
    start = text.index(SECTION)
    end = text.find("\n## ", start + len(SECTION))
    return text[start:end if end != -1 else len(text)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--readme", default=ROOT / "README.md", type=pathlib.Path)
    ap.add_argument("--twin", default=ROOT / "tests/readme/readme_table_test.cpp", type=pathlib.Path)
    args = ap.parse_args()
    section = table_section(args.readme.read_text(encoding="utf-8"))
    twin = args.twin.read_text(encoding="utf-8")

    problems, checked, skipped = [], 0, 0
    block = re.search(r"```cpp\n(.*?)```", section, re.S)
    if block and block.group(1) not in twin:
        problems.append("the section's code block is not in the twin verbatim")
    rows = [line for line in section.splitlines() if line.startswith("|")][2:]  # header, rule
    for line in rows:
        cells = split_row(line)
        if len(cells) != 2:
            problems.append(f"row has {len(cells)} cells, not 2: {line}")
            continue
        spans = re.findall(r"`([^`]+)`", cells[1])
        if not spans:
            problems.append(f"row has no C++ code span: {line}")
        for span in spans:
            if span in NOT_YET_TWINNED:
                skipped += 1
            elif span in twin:
                checked += 1
            else:
                problems.append(f"not in {args.twin.name}: `{span}`  (row: {cells[0]})")
    for span, why in NOT_YET_TWINNED.items():
        if span not in section:
            problems.append(f"NOT_YET_TWINNED entry no longer in the README (remove it): `{span}`")
        print(f"not yet twinned: `{span}` -- {why}")
    for p in problems:
        print(p)
    print(f"{len(rows)} rows, {checked} code spans found in the twin, {skipped} not yet twinned, "
          f"{len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
