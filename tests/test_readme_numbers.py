"""Every number the README's gallery and notebook table state about a result is one the notebook behind the row
prints (in its stored outputs): a changed result cannot leave a stale README line behind.

The rules are those of ``tests/test_prose_numbers.py``: decimals within 5% of a printed value, integers exactly,
settings (frequencies, grid sizes and schedules, point counts, counts of the configurations run) skipped. Checked
is the column that describes the result ("what matches, what differs"; "what it shows"), not the paper item or the
measured runtimes, which the README's runtime section accounts for.
"""

import json
import re
from pathlib import Path

import pytest

from test_prose_numbers import (DECIMAL, INTEGER, NOT_FINDINGS, NOTEBOOKS, SETTINGS, printed, printed_integers,
                                same, values)

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()
BY_NUMBER = {path.stem[:2]: path for path in NOTEBOOKS}
README_SETTINGS = [re.compile(p) for p in (r"<img[^>]*>", r"\d+\s*(->|→)\s*\d+", r"(amplitudes|amplitude)\s+[\d.]+\s*i",
                                           r"the\s+(authors'\s+)?\d+\s+(KANs|MLPs|fields|configurations)", r"Adam\s+[\d.e-]+")]


def rows(section: str, notebook_pattern: str, column: int) -> list[tuple[str, str]]:
    """``(notebook number, cell text)`` for every table row of the README section naming a notebook."""
    body = README.split(f"\n## {section}\n")[1].split("\n## ")[0]
    found = []
    for line in body.splitlines():
        cells = line.split("|")
        match = re.search(notebook_pattern, line)
        if line.startswith("|") and match and len(cells) > column:
            found.append((match.group(1), cells[column]))
    return found


TABLE_ROWS = rows("Gallery", r"figures/(\d\d)_", 3) + rows("Notebooks", r"`(\d\d)_\w+\.ipynb`", 3)


def unprinted(text: str, notebook: dict) -> list[str]:
    for pattern in NOT_FINDINGS + README_SETTINGS:
        text = pattern.sub(" ", text)
    shown = printed(notebook)
    missing = [str(v) for v in values(text) if not any(same(v, w) for w in shown)]
    for pattern in SETTINGS + [DECIMAL]:
        text = pattern.sub(" ", text)
    integers = printed_integers(notebook)
    return missing + [s for s in INTEGER.findall(text) if int(s.replace(",", "")) not in integers]


def test_the_tables_are_found():
    numbers = sorted({number for number, _ in TABLE_ROWS})
    assert len(TABLE_ROWS) >= 2 * len(NOTEBOOKS) and numbers == sorted(BY_NUMBER), numbers     # every notebook


@pytest.mark.parametrize("number,text", TABLE_ROWS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(TABLE_ROWS)])
def test_every_number_in_a_readme_row_is_printed_by_its_notebook(number, text):
    missing = unprinted(text, json.loads(BY_NUMBER[number].read_text()))
    assert not missing, f"README row of notebook {number}: numbers none of its outputs print: {missing}\n{text}"


def test_a_stale_readme_number_is_found():
    notebook = {"cells": [{"cell_type": "code", "source": [], "outputs": [{"text": "50 Hz at 23600; ratio 0.96\n"}]}]}
    assert unprinted("50 Hz at iteration 23,600, rank order 0.96, grids 5 -> 40", notebook) == []
    assert unprinted("50 Hz at iteration 23,700, rank order 0.91", notebook) == ["0.91", "23,700"]


def test_the_paper_budget_column_is_the_archives_coverage():
    """The notebook table's last column says how many of each notebook's paper-budget runs the archive holds: the
    count ``python -m kanpaper.archive --coverage`` prints, so it cannot go stale; notebooks without runs say so."""
    from kanpaper.archive import coverage
    held = {row["notebook"]: (row["archived"], row["runs"]) for row in coverage()}
    section = README.split("## Notebooks", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `(\d\d_\w+)\.ipynb` \|.*\| ([^|]+) \|$", section, flags=re.M)
    assert len(rows) == len(NOTEBOOKS)
    for name, cell in rows:
        counted = re.match(r"`(\d+) / (\d+)` archived", cell.strip())
        if name in held:
            assert counted and tuple(map(int, counted.groups())) == held[name], (name, cell, held[name])
        else:
            assert not counted and "runs" in cell, (name, cell)


COVERAGE_BLOCK = re.compile(r"\n  ```\n(  notebook +archived +wall hours.*?)\n  ```\n(.*?)\n\n## ", flags=re.S)


def test_the_readme_coverage_block_is_what_the_archive_prints():
    """The README quotes ``python -m kanpaper.archive --coverage``: its counts and wall hours are the manifest's."""
    from kanpaper.archive import coverage_table
    quoted = "\n".join(line[2:] for line in COVERAGE_BLOCK.search(README).group(1).splitlines())
    assert quoted == coverage_table(), ("the README's coverage block is stale; paste what "
                                        "`python -m kanpaper.archive --coverage` prints now:\n" + coverage_table())


def test_every_decimal_of_the_archive_paragraph_is_printed_by_a_notebook_it_names():
    """The paragraph under the coverage block says what each notebook's archived runs took and what is still to come
    (hours, ratios): each decimal is one that a notebook it names prints."""
    paragraph = COVERAGE_BLOCK.search(README).group(2)
    named = sorted(set(re.findall(r"\b(\d\d)'s\b", paragraph)))
    assert named and set(named) <= set(BY_NUMBER), named
    shown = [w for number in named for w in printed(json.loads(BY_NUMBER[number].read_text()))]
    for pattern in NOT_FINDINGS + README_SETTINGS + [re.compile(r"σ\s*=\s*[\d.]+")]:
        paragraph = pattern.sub(" ", paragraph)
    missing = [str(v) for v in values(paragraph) if not any(same(v, w) for w in shown)]
    assert not missing, f"decimals in the README's archive paragraph that notebooks {named} do not print: {missing}"
