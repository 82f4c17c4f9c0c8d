"""Every decimal number in a notebook's prose is one its own outputs print: a finding written by hand beside
computed outputs goes stale when a result changes, and this makes that a test failure instead of a review finding.

A number counts as printed when an output of the same notebook shows the same value, at its precision or at
another (within 5%: 3.4e-3 in prose, 3.38e-03 printed). Formulas (``$...$``), arXiv identifiers and section or
theorem numbers are not findings and are skipped, except a number written in a formula as ``$a\\cdot10^{b}$``,
which is a finding typeset. Settings quoted in prose (a threshold, a budget) must be printed
too, for instance by the verdict that uses them.

Integers are checked in the "What we found" sections, where they are findings (an iteration, a count of runs), and
must be printed exactly. Integers that name a setting of the experiment rather than a result are skipped there:
a frequency of the target (``50 Hz``), a grid size (``G = 40``, ``grid 10``), a number of data points
(``4,000 points``) and section numbers.
"""

import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))
DECIMAL = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?[eE][-+−]?\d+|\d+\.\d+)(?![^\Wx]|\.)")
TYPESET = re.compile(r"(\d+(?:\.\d+)?)\s*\\cdot\s*10\^\{?([-−]?\d+)\}?")
NOT_FINDINGS = [re.compile(p) for p in (r"\$[^$]*\$", r"arXiv[: ]\S+",
                                        r"(Theorem|Corollary|Lemma|Section|Figure|Table|Eq\.?|§|v)\s*\d+(\.\d+)*")]
INTEGER = re.compile(r"(?<![\w.,\-−])(\d{1,3}(?:,\d{3})+|\d+)(?![\w.]|,\d{3})")
SETTINGS = [re.compile(p) for p in (r"`[^`]*`", r"(Sections?|notebooks?)\s+\d+((,|\s+and|\s+to|-)\s*\d+)*",
                                    r"(\d+(,\s*|\s+and\s+|\s+or\s+|-))*\d+\s*Hz",
                                    r"\b(G\s*=|grids?)\s*\d+((,|\s+and|\s+or|/|-)\s*\d+)*",
                                    r"\d{1,3}(,\d{3})*\s+(training\s+|test\s+)?points")]


def values(text: str) -> list[float]:
    return [float(s.replace("−", "-")) for s in DECIMAL.findall(text)]


def output_text(notebook: dict) -> str:
    """Everything the notebook's stored outputs show, as text."""
    texts = []
    for cell in notebook["cells"]:
        for output in cell.get("outputs", []):
            texts.append("".join(output.get("text", "")))
            texts += ["".join(output.get("data", {}).get(kind, "")) for kind in ("text/plain", "text/markdown")]
    return "\n".join(texts)


def printed(notebook: dict) -> list[float]:
    return sorted(set(values(output_text(notebook))))


def printed_integers(notebook: dict) -> set[int]:
    text = output_text(notebook)
    return ({int(s.replace(",", "")) for s in INTEGER.findall(text)}
            | {int(v) for v in values(text) if v.is_integer()})


def unprinted_integers(notebook: dict) -> list[str]:
    """The integers of the "What we found" sections that no output prints (settings skipped, see the module)."""
    shown = printed_integers(notebook)
    missing = []
    for cell in notebook["cells"]:
        prose = "".join(cell["source"])
        if cell["cell_type"] != "markdown" or "What we found" not in prose:
            continue
        for pattern in NOT_FINDINGS + SETTINGS + [DECIMAL]:
            prose = pattern.sub(" ", prose)
        missing += [s for s in INTEGER.findall(prose) if int(s.replace(",", "")) not in shown]
    return missing


def same(a: float, b: float) -> bool:
    return a == b or (a != 0 and b != 0 and abs(a - b) <= 0.05 * max(abs(a), abs(b)))


def unprinted(notebook: dict) -> list[str]:
    shown = printed(notebook)
    missing = []
    for cell in notebook["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        prose = "".join(cell["source"])
        typeset = [float(f"{a}e{b.replace('−', '-')}") for a, b in TYPESET.findall(prose)]
        missing += [str(v) for v in typeset if not any(same(v, w) for w in shown)]
        for pattern in NOT_FINDINGS:
            prose = pattern.sub(" ", prose)
        missing += [str(v) for v in values(prose) if not any(same(v, w) for w in shown)]
    return missing


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_number_in_the_prose_is_printed_by_the_notebook(path):
    missing = unprinted(json.loads(path.read_text()))
    assert not missing, f"{path.name}: numbers in its markdown that none of its outputs print: {missing}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_integer_in_the_findings_is_printed_by_the_notebook(path):
    missing = unprinted_integers(json.loads(path.read_text()))
    assert not missing, f"{path.name}: integers in its findings that none of its outputs print: {missing}"


def test_a_stale_integer_in_the_findings_is_found():
    finding = ("## 8. What we found\n- W256 D10 learns 5, 10 and 50 Hz at iterations 500, 2,000 and 23,600 on 4,000 "
               "points with G = 10 and 40 (Sections 5 and 6); the claim holds in 24 of 25 runs, `seed=3` aside")
    notebook = {"cells": [{"cell_type": "markdown", "source": [finding]},
                          {"cell_type": "code", "source": [], "outputs": [{"text": "first 500 2000 23600; 24/25\n"}]}]}
    assert unprinted_integers(notebook) == []
    notebook["cells"][1]["outputs"][0]["text"] = "first 500 2000 23500; 23/25\n"
    assert unprinted_integers(notebook) == ["23,600", "24"]
    notebook["cells"][0]["source"] = [finding.replace("What we found", "Setup")]      # integers elsewhere: settings
    assert unprinted_integers(notebook) == []


def test_a_stale_number_is_found():
    notebook = {"cells": [{"cell_type": "markdown", "source": ["test RMSE 3.0e-3 ($x = 0.5$, Section 4.3)"]},
                          {"cell_type": "code", "source": [], "outputs": [{"text": "test 3.38e-03\n"}]}]}
    assert unprinted(notebook) == ["0.003"]
    notebook["cells"][1]["outputs"][0]["text"] = "test 3.02e-03\n"
    assert unprinted(notebook) == []


def test_a_stale_ratio_is_found():
    """A ratio written ``1.5x`` is a finding like any decimal, in prose and in the outputs."""
    notebook = {"cells": [{"cell_type": "markdown", "source": ["test 20.9x train, against 1.5x at G = 50"]},
                          {"cell_type": "code", "source": [],
                           "outputs": [{"text": "(20.9x train)\n(1.6x train)\n"}]}]}
    assert unprinted(notebook) == ["1.5"]


def test_a_stale_number_typeset_in_a_formula_is_found():
    notebook = {"cells": [{"cell_type": "markdown", "source": ["depths 2, 3: $1.9\\cdot10^{-5}$, $7.8 \\cdot 10^{-5}$"]},
                          {"cell_type": "code", "source": [], "outputs": [{"text": "D2 1.8e-05, D3 7.8e-05\n"}]}]}
    assert unprinted(notebook) == ["1.9e-05"]
