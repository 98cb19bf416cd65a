"""The student copy of the book: every chapter without outputs, its worked solutions replaced by stubs.

An exercise is a markdown cell ``### Exercise N — ...`` followed by one code cell tagged ``solution``: a worked
solution that computes ``answer`` and ends with the call of its check, ``exercises.ch<CH>_<name>(answer, ...)``.
``student_copy()`` (``tsrec book student``, ``make student``) writes each chapter to ``student/`` with that cell
replaced by a stub that keeps the check line::

    answer = ...  # your code here
    exercises.ch01_ndcg(answer)

and every output, execution count and papermill trace removed, so an instructor can hand it out as it is.
A name other than ``answer`` that the check line passes and the solution assigns gets a stub line too
(``prediction = None``: a predict-then-run exercise's written-down guess; anything else ``= ...``).
"""
from __future__ import annotations

import ast
import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tsrec.book import chapters
from tsrec.config import REPO_ROOT

SOLUTION_TAG = "solution"
STUB_TAG = "exercise"        # the tag a stub carries in the student copy
DROPPED_TAGS = {"injected-parameters"}      # papermill's cell of injected parameters is not part of the book
STUDENT_DIR = REPO_ROOT / "student"
DOCS_DIR = REPO_ROOT / "docs"
SITE_DIR = DOCS_DIR / "_build" / "html"
ANSWER_STUB = "answer = ...  # your code here"
PREDICTION_STUB = "prediction = None  # your prediction: write it down BEFORE you run anything"
CELL_METADATA_DROPPED = ("execution", "papermill", "collapsed", "scrolled")
NOTEBOOK_METADATA_DROPPED = ("papermill", "widgets")


class ExerciseError(ValueError):
    """A solution cell that breaks the convention (no final check line, or a check that is not given ``answer``)."""


@dataclass(frozen=True)
class CheckCall:
    """The final line of a solution cell: the check it calls and the names it passes."""

    check: str            # e.g. "ch01_ndcg"
    line: str             # the source of the call, as written
    names: tuple[str, ...]  # names the call reads, in order ("answer", "prediction", ...)


@dataclass(frozen=True)
class Exercise:
    """One solution cell of a chapter."""

    chapter: str          # file name, e.g. "01_basics.ipynb"
    index: int            # cell index in the notebook
    source: str           # the worked solution
    call: CheckCall
    stub: str             # what the student copy holds instead


def tags(cell: Any) -> list[str]:
    """The cell's tags (a list, possibly empty)."""
    return list(cell.get("metadata", {}).get("tags", []) or [])


def is_solution(cell: Any) -> bool:
    """Whether ``cell`` is a worked solution (a code cell tagged ``solution``)."""
    return cell.get("cell_type") == "code" and SOLUTION_TAG in tags(cell)


def _source(cell: Any) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def check_call(source: str) -> CheckCall:
    """Parse the last statement of a solution cell: it must be ``exercises.ch..._...(answer, ...)``."""
    try:
        tree = ast.parse(source)
    except SyntaxError as e:
        raise ExerciseError(f"the solution does not parse: {e}") from e
    last = tree.body[-1] if tree.body else None
    call = last.value if isinstance(last, ast.Expr) else None
    func = call.func if isinstance(call, ast.Call) else None
    if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "exercises"
            and func.attr.startswith("ch")):
        tail = source.rstrip().splitlines()[-1] if source.strip() else "(empty cell)"
        raise ExerciseError(f"a solution cell must end with its check, exercises.ch<CH>_<name>(answer); "
                            f"this one ends with {tail!r}")
    if not (call.args and isinstance(call.args[0], ast.Name) and call.args[0].id == "answer"):
        raise ExerciseError(f"the check {func.attr} must be given `answer` as its first argument")
    names = []
    for arg in [*call.args, *(k.value for k in call.keywords)]:
        for node in ast.walk(arg):
            if isinstance(node, ast.Name) and node.id not in names:
                names.append(node.id)
    return CheckCall(check=func.attr, line=ast.get_source_segment(source, last) or "", names=tuple(names))


def assigned_names(source: str) -> set[str]:
    """Names a cell binds at its top level (assignments, for targets, with, imports)."""
    bound: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            bound.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
    return bound


def stub_source(source: str) -> str:
    """The student's version of a solution cell: stub lines for what the solution computes, then its check line."""
    call = check_call(source)
    bound = assigned_names(source)
    lines = []
    for name in call.names:
        if name == "answer" or name not in bound:
            continue                       # `answer` comes last; names from earlier cells stay as they are
        lines.append(PREDICTION_STUB if name == "prediction" else f"{name} = ...  # your code here")
    return "\n".join([*lines, ANSWER_STUB, call.line])


def exercises_of(nb: Any, chapter: str = "") -> list[Exercise]:
    """The solution cells of a notebook (a dict or an ``nbformat`` node), in order."""
    found = []
    for i, cell in enumerate(nb["cells"]):
        if is_solution(cell):
            src = _source(cell)
            try:
                found.append(Exercise(chapter, i, src, check_call(src), stub_source(src)))
            except ExerciseError as e:
                raise ExerciseError(f"{chapter} cell {i}: {e}") from None
    return found


def _clean_cell(cell: Any) -> Any:
    """A copy of ``cell`` with outputs, execution count and run metadata removed."""
    cell = copy.deepcopy(cell)
    meta = cell.setdefault("metadata", {})
    for key in CELL_METADATA_DROPPED:
        meta.pop(key, None)
    if cell.get("cell_type") == "code":
        cell["outputs"] = []
        cell["execution_count"] = None
    return cell


def student_notebook(nb: Any, chapter: str = "") -> Any:
    """A student copy of one notebook: outputs stripped, each solution cell replaced by its stub."""
    out = copy.deepcopy(nb)
    for key in NOTEBOOK_METADATA_DROPPED:
        out.get("metadata", {}).pop(key, None)
    stubs = {ex.index: ex.stub for ex in exercises_of(nb, chapter)}
    cells = []
    for i, cell in enumerate(nb["cells"]):
        if DROPPED_TAGS & set(tags(cell)):
            continue
        cell = _clean_cell(cell)
        if i in stubs:
            cell["source"] = stubs[i]
            cell["metadata"]["tags"] = [STUB_TAG if t == SOLUTION_TAG else t for t in tags(cell)]
        cells.append(cell)
    out["cells"] = cells
    return out


def student_copy(out_dir: str | Path = STUDENT_DIR, pattern: str | None = None,
                 source_dir: str | Path | None = None) -> list[Path]:
    """Write the student copy of every chapter (or those whose name starts with ``pattern``) into ``out_dir``.

    Names stay the same; a stale notebook in ``out_dir`` from a chapter that no longer exists is left alone."""
    import nbformat

    paths = sorted(Path(source_dir).glob("[0-9A-Z]*.ipynb")) if source_dir else chapters(pattern)
    if source_dir and pattern:
        paths = [p for p in paths if p.name.startswith(pattern)]
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path in paths:
        nb = nbformat.read(str(path), as_version=4)
        student = student_notebook(nb, path.name)
        nbformat.validate(student)
        target = out_dir / path.name
        nbformat.write(student, str(target))
        written.append(target)
    return written


def summary(paths: list[Path]) -> str:
    """One line per written notebook: its name and how many exercises it holds."""
    import nbformat

    rows = []
    for path in paths:
        nb = nbformat.read(str(path), as_version=4)
        n = sum(STUB_TAG in tags(c) for c in nb.cells)
        rows.append(f"{path.name:34s} {n} exercise(s)")
    return "\n".join(rows)


def build_html(out_dir: str | Path = SITE_DIR, quiet: bool = True) -> Path:
    """Build the HTML book from the committed notebooks (Sphinx + MyST-NB, no execution) into ``out_dir``.

    Needs requirements-docs.txt (``make html`` installs it); returns the folder holding index.html."""
    import importlib.util
    import subprocess
    import sys

    missing = [m for m in ("sphinx", "myst_nb", "sphinx_book_theme") if importlib.util.find_spec(m) is None]
    if missing:
        raise FileNotFoundError(f"the HTML book needs {', '.join(missing)}: `make html`, or "
                                f"pip install -r requirements-docs.txt -c requirements.txt")
    out_dir = Path(out_dir)
    doctrees = out_dir.with_name(out_dir.name + ".doctrees")      # Sphinx's cache, kept out of the site
    cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-j", "auto", "-d", str(doctrees),
           *(["-q"] if quiet else []), str(DOCS_DIR), str(out_dir)]
    proc = subprocess.run(cmd, cwd=REPO_ROOT)
    if proc.returncode != 0:
        raise ValueError(f"sphinx-build failed (exit status {proc.returncode}): {' '.join(cmd)}")
    return out_dir


__all__ = ["ANSWER_STUB", "DOCS_DIR", "PREDICTION_STUB", "SITE_DIR", "SOLUTION_TAG", "STUB_TAG", "STUDENT_DIR",
           "CheckCall", "Exercise", "ExerciseError", "assigned_names", "build_html", "check_call", "exercises_of",
           "is_solution", "student_copy", "student_notebook", "stub_source", "summary", "tags"]
