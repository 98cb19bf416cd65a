"""The student copy (`make student`): generated from the committed chapters without executing any, it keeps no
output and no worked solution, every stub still calls its check and fails it, and the committed solutions pass.
"""
from __future__ import annotations

import ast
import builtins
import json
from pathlib import Path

import nbformat
import pytest

from tsrec import book, classroom, cli, exercises

REPO = Path(__file__).resolve().parents[1]


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


# (chapter, exercise) pairs of the committed notebooks, read once at collection (plain JSON: fast)
CHAPTERS = book.chapters()
EXERCISES = [(p.name, ex) for p in CHAPTERS for ex in classroom.exercises_of(_load(p), p.name)]
WITH_SOLUTIONS = sorted({name for name, _ in EXERCISES})


@pytest.fixture(scope="module")
def student(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("student")
    written = classroom.student_copy(out)
    assert [p.name for p in written] == [p.name for p in CHAPTERS]
    return out


def _ids(pairs: list) -> list[str]:
    return [f"{chapter.split('_')[0]}-{ex.call.check}" for chapter, ex in pairs]


# --- the convention ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_solution_cells_follow_the_convention(path):
    nb = _load(path)
    found = classroom.exercises_of(nb, path.name)       # raises on a solution cell without its final check line
    if not found:
        pytest.skip(f"{path.name} has no solution cell yet")
    for ex in found:
        before = "".join(nb["cells"][ex.index - 1]["source"]) if ex.index else ""
        assert nb["cells"][ex.index - 1]["cell_type"] == "markdown" and "### Exercise" in before, \
            f"{path.name} cell {ex.index}: a solution follows its '### Exercise N — ...' cell"
        assert callable(getattr(exercises, ex.call.check, None)), f"{path.name}: no check {ex.call.check}"
        assert ex.call.check.startswith("ch" + path.name.split("_")[0]), f"{path.name}: {ex.call.check}"
    checks = [ex.call.check for ex in found]
    assert len(checks) == len(set(checks)), f"{path.name}: a check called by two solutions"


def test_a_solution_without_its_check_line_is_refused(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("### Exercise 1 — x"),
                nbformat.v4.new_code_cell("answer = 1 + 1\nexercises.ch01_ndcg(answer)\nprint(answer)",
                                          metadata={"tags": ["solution"]})]
    with pytest.raises(classroom.ExerciseError, match="must end with its check"):
        classroom.student_notebook(nb, "bad.ipynb")
    nb.cells[1].source = "answer = 2\nexercises.ch01_ndcg(2)"
    with pytest.raises(classroom.ExerciseError, match="`answer` as its first argument"):
        classroom.student_notebook(nb, "bad.ipynb")
    (tmp_path / "src").mkdir()
    nbformat.write(nb, str(tmp_path / "src" / "01_bad.ipynb"))
    with pytest.raises(classroom.ExerciseError, match="01_bad.ipynb cell 1"):
        classroom.student_copy(tmp_path / "out2", source_dir=tmp_path / "src")


def test_stub_of_a_predict_then_run_solution():
    src = ("prediction = 0.09   # written down first\n"
           "model = fit(split)\n"
           "answer = evaluate(model)['HR@10']\n"
           "exercises.ch04_1_decayed_pop_hr(answer, prediction=prediction, checkpoint=ckpt)\n")
    assert classroom.stub_source(src).splitlines() == [
        classroom.PREDICTION_STUB, classroom.ANSWER_STUB,
        "exercises.ch04_1_decayed_pop_hr(answer, prediction=prediction, checkpoint=ckpt)"]   # ckpt: an earlier cell


# --- the student copy --------------------------------------------------------------------------------------------

def test_student_copy_keeps_no_output_and_no_solution(student):
    for path in CHAPTERS:
        committed, copy = _load(path), _load(student / path.name)
        nbformat.validate(nbformat.reads(json.dumps(copy), as_version=4))
        assert "papermill" not in copy["metadata"] and "widgets" not in copy["metadata"]
        solutions = {ex.index: ex for ex in classroom.exercises_of(committed, path.name)}
        assert len(copy["cells"]) == len(committed["cells"])
        for i, (old, new) in enumerate(zip(committed["cells"], copy["cells"])):
            assert new["cell_type"] == old["cell_type"]
            assert not {"execution", "papermill"} & set(new["metadata"]), (path.name, i)
            assert "solution" not in new["metadata"].get("tags", []), (path.name, i)
            if new["cell_type"] != "code":
                assert new["source"] == old["source"]
                continue
            assert new["outputs"] == [] and new["execution_count"] is None, (path.name, i)
            src = "".join(new["source"])
            if i not in solutions:
                assert src == "".join(old["source"]), (path.name, i)
                continue
            ex = solutions[i]
            assert "exercise" in new["metadata"]["tags"]
            assert src == ex.stub and src.splitlines()[-1] == ex.call.line
            worked = [ln for ln in ex.source.splitlines()[:-1] if ln.strip() and not ln.lstrip().startswith("#")]
            assert not [ln for ln in worked if ln in src.splitlines()], f"{path.name} cell {i}: solution leaked"


def test_make_student_and_the_cli(tmp_path, capsys):
    assert cli.main(["book", "student", "--out", str(tmp_path), "--chapter", "01"]) == 0
    assert [p.name for p in tmp_path.iterdir()] == ["01_basics.ipynb"]
    assert "01_basics.ipynb" in capsys.readouterr().out
    assert (REPO / ".gitignore").read_text().splitlines().count("student/") == 1
    assert "\nstudent:" in (REPO / "Makefile").read_text()


class _Recorder:
    """Stands in for ``tsrec.exercises``: keeps the call a stub makes instead of running the check."""

    def __init__(self):
        self.calls = []

    def __getattr__(self, name):
        return lambda *args, **kwargs: self.calls.append((name, args, kwargs))


class _Namespace(dict):
    """A stub's namespace: a name from an earlier cell of the chapter (e.g. ``ckpt``) reads as a marker."""

    def __missing__(self, key):
        if hasattr(builtins, key):
            raise KeyError(key)                  # on to the builtins
        return _EarlierCell(key)


class _EarlierCell(str):
    pass


def _run_stub(ex: classroom.Exercise, checks: object) -> None:
    exec(compile(ex.stub, f"<stub {ex.call.check}>", "exec"), {}, _Namespace(exercises=checks))


@pytest.mark.parametrize("chapter, ex", EXERCISES, ids=_ids(EXERCISES))
def test_each_stub_hands_its_check_an_unfilled_answer(chapter, ex):
    recorder = _Recorder()
    _run_stub(ex, recorder)
    assert len(recorder.calls) == 1
    name, args, kwargs = recorder.calls[0]
    assert name == ex.call.check and args[0] is Ellipsis
    for value in [*args[1:], *kwargs.values()]:
        assert value is None or value is Ellipsis or isinstance(value, _EarlierCell)
    tree = ast.parse(ex.stub)
    assert isinstance(tree.body[-1], ast.Expr) and ast.unparse(tree.body[-1]) == ast.unparse(ast.parse(ex.call.line))


@pytest.mark.parametrize("chapter, ex", EXERCISES, ids=_ids(EXERCISES))
def test_each_stub_fails_its_check(chapter, ex, capsys):
    """The stub run against the real check: it says 'Not yet', returns False and records False (not an error)."""
    recorder = _Recorder()
    _run_stub(ex, recorder)
    name, args, kwargs = recorder.calls[0]
    earlier = sorted({v for v in [*args, *kwargs.values()] if isinstance(v, _EarlierCell)})
    if earlier:
        pytest.skip(f"the check needs {', '.join(earlier)} from an earlier cell of {chapter}")
    book.RECORDS.pop(f"exercise:{name}", None)
    assert getattr(exercises, name)(*args, **kwargs) is False
    assert book.RECORDS[f"exercise:{name}"] is False and "Not yet" in capsys.readouterr().out


# --- the committed solutions -------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", WITH_SOLUTIONS or ["(none)"])
def test_committed_solutions_pass_their_checks(name):
    if name == "(none)":
        pytest.skip("no chapter has solution cells yet")
    path = book.CHAPTERS_DIR / name
    records = book.read_records(path)
    failed = sorted(k for k, v in records.items() if k.startswith("exercise:") and v is not True)
    assert not failed, f"{name}: committed solutions that fail their check: {failed}"
    missing = [ex.call.check for c, ex in EXERCISES if c == name and f"exercise:{ex.call.check}" not in records]
    assert not missing, f"{name}: solutions without a recorded check (execute the chapter: make chapter " \
                        f"CH={name.split('_')[0] if name[0].isdigit() else name[0]}): {missing}"
