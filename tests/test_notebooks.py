"""Jupyter notebooks: cells as one program, IPython syntax, positions, fixes."""
import json

import pytest

from kerasmode_lint import lint_source
from kerasmode_lint.frontends.cli import main
from kerasmode_lint.engine.notebooks import neutralise
from kerasmode_lint.rules import RULES_BY_CODE
from kerasmode_lint.engine.versions import KERAS2_ONLY, clear_caches

from helpers import BUILD, TRAIN


def cell(kind, source, as_list=True):
    data = {"cell_type": kind, "metadata": {}, "source": source.splitlines(keepends=True) if as_list else source}
    if kind == "code":
        data.update(execution_count=None, outputs=[])
    return data


def notebook(*cells):
    """Serialised as Jupyter writes it (nbformat: indent 1, sorted keys)."""
    document = {"cells": list(cells), "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    return json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def lint_nb(text, **kwargs):
    return lint_source(text.encode("utf-8"), "nb.ipynb", keras_version=kwargs.pop("keras_version", "3"), **kwargs)


def test_cells_are_one_program_and_cells_are_counted_like_jupyter():
    nb = notebook(
        cell("markdown", "# Training\n"),
        cell("code", BUILD),
        cell("raw", "notes"),
        cell("code", "print('hello')"),
        cell("code", TRAIN),
    )
    [diag] = lint_nb(nb)
    assert (diag.cell, diag.line, diag.column, diag.code) == (5, 3, 13, "KM101")


def test_text_output_names_the_cell(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "nb.ipynb").write_text(notebook(cell("markdown", "x"), cell("code", BUILD + TRAIN)))
    assert main(["--keras-version", "3", "nb.ipynb"]) == 1
    assert capsys.readouterr().out.startswith("nb.ipynb:cell_2:5:13: KM101 `model` runs in inference mode")


def test_folders_are_walked_for_notebooks_but_not_checkpoints(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "nbs" / ".ipynb_checkpoints").mkdir(parents=True)
    (tmp_path / "nbs" / "train.ipynb").write_text(notebook(cell("code", BUILD + TRAIN)))
    (tmp_path / "nbs" / ".ipynb_checkpoints" / "train-checkpoint.ipynb").write_text(
        notebook(cell("code", BUILD + TRAIN)))
    assert main(["-q", "--keras-version", "3", "."]) == 1
    assert [l.split(":")[0] for l in capsys.readouterr().out.splitlines()] == ["nbs/train.ipynb"]


def test_ipython_syntax_is_neutralised_without_shifting_lines():
    nb = notebook(
        cell("code", "%matplotlib inline\n!pip install tensorflow\n" + BUILD),
        cell("code", "%%bash\necho 'this ( is not python'\n"),
        cell("code", "files = !ls\nmodel?\n%time z = 1\n" + TRAIN.replace("    grads", "    !echo hi\n    grads")),
        cell("code", "%%time\n" + "y = model(x)\n"),
    )
    assert [(d.cell, d.line, d.code) for d in lint_nb(nb)] == [(3, 6, "KM101")]


@pytest.mark.parametrize("source, changed", [
    ("%matplotlib inline\nx = 1\n", {1}),
    ("x = (a\n     != b)\n", set()),
    ("s = '''\n!not a shell\n'''\n", set()),
    ("!pip install \\\n   keras\nx = 1\n", {1, 2}),
    ("if x:\n    !ls\n", {2}),
    ("%%writefile a.py\nprint(\n", {1, 2, 3}),
    ("%%capture\nx = 1\n", {1}),
    ("y = x ? 1 : 2\n", set()),
    ("help?\n", {1}),
])
def test_neutralise(source, changed):
    text, lines = neutralise(source)
    assert lines == changed
    assert text.count("\n") == source.count("\n")
    if "?" not in source or changed:
        compile(text, "cell", "exec")


def test_noqa_works_inside_a_cell():
    nb = notebook(cell("code", BUILD), cell("code", TRAIN.replace("model(x)", "model(x)  # noqa: KM101")))
    assert lint_nb(nb) == []


def test_km002_in_a_notebook_points_into_the_cell():
    nb = notebook(cell("markdown", "m"), cell("code", "x = 1  # noqa: KM101\n"))
    [diag] = lint_nb(nb)
    assert (diag.code, diag.cell, diag.line, diag.column) == ("KM002", 2, 1, 8)


@pytest.mark.parametrize("text, message, line", [
    ('{"cells": [', "notebook is not valid JSON: Expecting value", 1),
    ('{\n "nbformat": 3,\n "cells": []\n}', "not an nbformat 4 notebook: nbformat is 3", 1),
    ('{"nbformat": 4, "cells": [{"cell_type": "code", "source": 1}]}',
     "not an nbformat 4 notebook: cell 1 source is not text", 1),
    ("[1, 2]", "not an nbformat 4 notebook: the top level is not an object", 1),
])
def test_broken_notebooks_are_km001(text, message, line):
    [diag] = lint_nb(text)
    assert diag.code == "KM001" and diag.message.startswith(message) and diag.line == line


def test_a_syntax_error_in_a_cell_is_placed_in_that_cell():
    [diag] = lint_nb(notebook(cell("code", BUILD), cell("code", "x = 1\ndef f(:\n")))
    assert (diag.code, diag.cell, diag.line) == ("KM001", 2, 2)


def test_keras_version_is_read_from_the_cells_including_magics(tmp_path, monkeypatch):
    monkeypatch.setattr(RULES_BY_CODE["KM101"], "versions", KERAS2_ONLY)
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\ndependencies = ["keras==3.10"]\n')
    clear_caches()
    try:
        path = str(tmp_path / "nb.ipynb")
        keras3 = notebook(cell("code", BUILD), cell("code", TRAIN)).encode()
        legacy = notebook(cell("code", "%env TF_USE_LEGACY_KERAS=1\n" + BUILD), cell("code", TRAIN)).encode()
        assert lint_source(keras3, path) == []
        assert [d.code for d in lint_source(legacy, path)] == ["KM101"]
    finally:
        clear_caches()


@pytest.mark.parametrize("as_list", [True, False])
def test_fix_changes_only_the_edited_source_line(tmp_path, monkeypatch, capsys, as_list):
    monkeypatch.chdir(tmp_path)
    original = notebook(cell("markdown", "# caf\u00e9"), cell("code", BUILD, as_list),
                        cell("code", "%time 1\n" + TRAIN, as_list))
    path = tmp_path / "nb.ipynb"
    path.write_text(original, encoding="utf-8")
    assert main(["--fix", "--unsafe-fixes", "--keras-version", "3", "nb.ipynb"]) == 0
    fixed = path.read_text(encoding="utf-8")
    assert fixed == original.replace("y = model(x)", "y = model(x, training=True)")
    assert main(["--fix", "--unsafe-fixes", "--keras-version", "3", "nb.ipynb"]) == 0
    assert path.read_text(encoding="utf-8") == fixed


def test_diff_of_a_notebook_is_per_cell(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "nb.ipynb").write_text(notebook(cell("code", BUILD), cell("code", TRAIN)))
    assert main(["--diff", "--unsafe-fixes", "--keras-version", "3", "nb.ipynb"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == ["--- a/nb.ipynb:cell_2", "+++ b/nb.ipynb:cell_2"]
    assert "+        y = model(x, training=True)" in out


def test_add_noqa_in_a_notebook(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "nb.ipynb"
    path.write_text(notebook(cell("code", BUILD), cell("code", TRAIN)))
    assert main(["--add-noqa", "--keras-version", "3", "nb.ipynb"]) == 0
    sources = ["".join(c["source"]) for c in json.loads(path.read_text())["cells"]]
    assert sources[1] == TRAIN.replace("model(x)", "model(x)  # noqa: KM101")


def test_json_output_carries_the_cell(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "nb.ipynb").write_text(notebook(cell("markdown", "m"), cell("code", BUILD + TRAIN)))
    main(["--output-format", "json", "--keras-version", "3", "nb.ipynb"])
    [finding] = json.loads(capsys.readouterr().out)
    assert (finding["cell"], finding["line"], finding["column"]) == (2, 5, 13)
    assert finding["fix"]["edits"][0]["cell"] == 2


def test_fix_keeps_a_notebooks_bom_and_crlf(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    original = notebook(cell("code", BUILD), cell("code", TRAIN)).replace("\n", "\r\n")
    path = tmp_path / "nb.ipynb"
    path.write_bytes(b"\xef\xbb\xbf" + original.encode("utf-8"))
    assert main(["--fix", "--unsafe-fixes", "--keras-version", "3", "nb.ipynb"]) == 0
    expected = original.replace("y = model(x)", "y = model(x, training=True)")
    assert path.read_bytes() == b"\xef\xbb\xbf" + expected.encode("utf-8")


# -- cells IPython runs but Python cannot parse (the others are still linted) --

@pytest.mark.parametrize("odd", [
    "    x = 1\n    y = 2\n",           # a cell indented as a whole
    "pip install tensorflow-addons\n",  # automagic: IPython runs it as %pip
    "x = [1,\n",                        # really broken
])
def test_one_unparseable_cell_does_not_hide_the_others(odd):
    nb = notebook(cell("code", BUILD), cell("code", odd), cell("code", TRAIN))
    found = [(d.cell, d.line, d.code) for d in lint_nb(nb)]
    assert (3, 3, "KM101") in found
    broken = [d for d in lint_nb(nb) if d.code == "KM001"]
    if odd.startswith("x = [1"):
        assert [(d.cell, d.line) for d in broken] == [(2, 1)]
        assert "cell 2" in broken[0].message and "other cells were linted" in broken[0].message
    else:
        assert broken == []


def test_findings_in_a_dedented_cell_keep_their_columns():
    indented = "    " + TRAIN.replace("\n", "\n    ").rstrip() + "\n"
    nb = notebook(cell("code", BUILD), cell("code", indented))
    [finding] = [d for d in lint_nb(nb) if d.code == "KM101"]
    assert (finding.cell, finding.line, finding.column) == (2, 3, 4 + 13)
    assert finding.fix is None  # columns were moved: no fix is offered there


def test_cell_magic_without_final_newline_keeps_later_lines():
    nb = notebook(cell("code", BUILD), cell("code", "%%bash\necho hi", as_list=False), cell("code", TRAIN))
    [finding] = [d for d in lint_nb(nb) if d.code == "KM101"]
    assert (finding.cell, finding.line) == (3, 3)


def test_several_broken_cells_give_one_km001_naming_them():
    nb = notebook(cell("code", BUILD), cell("code", "x = # TODO\n"), cell("markdown", "text"),
                  cell("code", "y = (\n"), cell("code", TRAIN))
    found = lint_nb(nb)
    [broken] = [d for d in found if d.code == "KM001"]
    assert (broken.cell, broken.line) == (2, 1)
    assert "cells 2, 4" in broken.message
    assert [(d.cell, d.code) for d in found if d.code == "KM101"] == [(5, "KM101")]


# -- --fix and --add-noqa change only the edited cells' source ----------------

def _fixed(text, tmp_path, *args):
    path = tmp_path / "nb.ipynb"
    path.write_text(text, encoding="utf-8")
    main(["--fix", "--unsafe-fixes", "--no-cache", "-q", *args, str(path)])
    return path.read_text(encoding="utf-8")


def _changed_lines(before, after):
    import difflib

    return [l for l in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
            if l[:1] in "+-" and not l.startswith(("+++", "---"))]


@pytest.mark.parametrize("layout", ["jupyter", "tabs", "minified"])
def test_only_the_fixed_source_changes(tmp_path, layout):
    document = json.loads(notebook(cell("code", BUILD), cell("code", TRAIN)))
    document["metadata"] = {"big": "__BIG__", "tiny": 1e-7, "name": "caf\u00e9"}
    if layout == "jupyter":
        text = json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    elif layout == "tabs":
        text = json.dumps(document, indent="\t", sort_keys=True, ensure_ascii=False) + "\n"
    else:
        text = json.dumps(document, separators=(",", ":"), ensure_ascii=False)
    # What other tools write and json.dumps would not give back: a number too
    # large for a float, a short exponent, a duplicate key.
    text = text.replace('"__BIG__"', '1e400, "dup": 1, "dup": 2').replace("1e-07", "1e-7")
    after = _fixed(text, tmp_path)
    assert "training=True" in after
    for kept in ("1e400", "1e-7", '"dup": 1, "dup": 2', "caf\u00e9"):
        assert kept in after
    changed = _changed_lines(text, after)
    assert len(changed) == 2 and "training=True" in changed[1]  # one line out, one in
    assert after.replace(", training=True", "") == text  # nothing else moved
    json.loads(after)


def test_a_lone_escaped_surrogate_in_another_cell_survives_a_fix(tmp_path):
    # The JSON string holds the escape \\ud800 itself: a lone surrogate once decoded.
    text = notebook(cell("code", "note = 'SURROGATE'\n"), cell("code", BUILD), cell("code", TRAIN))
    text = text.replace("SURROGATE", "\\ud800")
    assert json.loads(text)["cells"][0]["source"] == ["note = '" + chr(0xD800) + "'\n"]
    after = _fixed(text, tmp_path)
    assert "training=True" in after
    assert after.replace(", training=True", "") == text
