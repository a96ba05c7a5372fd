"""`kerasmode-lint server` end to end: a real server process driven over
stdio by pytest-lsp's client (each test one session, started with
``asyncio.run``), compared with the command line's JSON output for the same
files and configs.

Cost: about a second per session (the server imports libcst on its first
lint); nine sessions, under 15 s on one core.
"""
from __future__ import annotations

import ast
import asyncio
import json
import os
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

try:
    import tomllib
except ImportError:  # Python < 3.11
    import tomli as tomllib

import pytest
from lsprotocol import types
from pygls.workspace import PositionCodec, TextDocument
from pytest_lsp import make_test_lsp_client

from kerasmode_lint.frontends import cli
from kerasmode_lint.frontends.server import text as positions
from helpers import BUILD, TRAIN
from test_config_resolution import JAX_ONLY, fake_environment
from test_monorepo_entry_points import BOTH, FLAGGED, LAYOUT

REPO = Path(__file__).resolve().parent.parent
DOCS = "https://docs.example.org/kerasmode/{code}.html"
WAIT = 60  # seconds: a generous bound on one answer of the server

# A KM101 (unsafe fix) and a KM002 (safe fix: the unused noqa goes).
FIXABLE = FLAGGED + "x = 1  # noqa: KM101\n"
NOTEBOOK_CELLS = [
    ("markdown", "# Training\nNotes."),
    ("code", "%matplotlib inline\n" + BUILD),
    ("code", "x = 2  # noqa: KM101\n"),
    ("code", TRAIN),
]


def notebook_text(cells) -> str:
    document = {"cells": [{"cell_type": kind, "metadata": {}, "source": source.splitlines(keepends=True),
                           **({"execution_count": None, "outputs": []} if kind == "code" else {})}
                          for kind, source in cells],
                "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    return json.dumps(document, indent=1, sort_keys=True) + "\n"


@pytest.fixture
def project(tmp_path):
    """The monorepo of the entry-point test (nested configs, Keras 2 and 3
    projects), a documentation URL, a notebook, a file that does not parse
    and one with non-ASCII text before a finding."""
    root = tmp_path / "mono"
    layout = dict(LAYOUT)
    layout[".kerasmode-lint.toml"] = f'ignore = ["KM203"]\ndocumentation-url = "{DOCS}"\n'
    layout["app/fixable.py"] = FIXABLE
    layout["app/emoji.py"] = FLAGGED.replace("pred = model(x)", "ü, pred = '😀', model(x)")
    layout["app/broken.py"] = "def f(:\n    pass\n"
    layout["nb/train.ipynb"] = notebook_text(NOTEBOOK_CELLS)
    # The backend per file: KM306 needs JAX (Keras 3.0-3.15). A nested
    # project on JAX by its config (Keras 3.8 by its pins), the same code at
    # the root (TensorFlow: no keras.json, no KERAS_BACKEND), and a root file
    # that sets KERAS_BACKEND itself.
    layout["jaxsvc/kerasmode-lint.toml"] = 'keras-backend = "jax"\n'
    layout["jaxsvc/requirements.txt"] = "keras==3.8.0\n"
    layout["jaxsvc/net.py"] = JAX_ONLY
    layout["app/net.py"] = JAX_ONLY
    layout["app/jax_in_code.py"] = 'import os\nos.environ["KERAS_BACKEND"] = "jax"\n' + JAX_ONLY
    for name, text in layout.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (root / ".git").mkdir()
    return root


UNSET = ("KERAS_BACKEND", "TF_USE_LEGACY_KERAS", "VIRTUAL_ENV", "CONDA_PREFIX", "PRE_COMMIT")


def server_env(tmp_path) -> dict:
    """The environment of the server, and of the command line it is compared with."""
    env = dict(os.environ, KERAS_HOME=str(tmp_path / "keras-home"), HOME=str(tmp_path / "home"))
    for variable in UNSET:
        env.pop(variable, None)
    return env


class Session:
    """One server process and an initialised client session."""

    def __init__(self, tmp_path, folders=(), encodings=None, options=None, command=None, configuration=False,
                 watch=True):
        self.tmp_path, self.folders, self.encodings, self.options = tmp_path, folders, encodings, options
        self.configuration, self.watch = configuration, watch
        self.command = command or [sys.executable, "-P", "-m", "kerasmode_lint", "server"]
        self.client = make_test_lsp_client()

        @self.client.feature(types.CLIENT_REGISTER_CAPABILITY)
        def register(params):
            self.registrations = params.registrations

        self.registrations = []
        self.versions = {}
        self.published_versions = {}  # uri -> the version of the last diagnostics published for it
        real = self.client.protocol.fm.features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS]

        def note_version(params):
            self.published_versions[params.uri] = params.version
            return real(params)

        self.client.protocol.fm.features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = note_version

    async def __aenter__(self):
        elsewhere = self.tmp_path / "elsewhere"  # the server's settings must not depend on its folder
        elsewhere.mkdir(exist_ok=True)
        await self.client.start_io(*self.command, env=server_env(self.tmp_path), cwd=str(elsewhere))
        capabilities = types.ClientCapabilities(
            general=types.GeneralClientCapabilities(position_encodings=self.encodings) if self.encodings else None,
            workspace=types.WorkspaceClientCapabilities(
                configuration=self.configuration or None,
                did_change_watched_files=types.DidChangeWatchedFilesClientCapabilities(dynamic_registration=self.watch)),
        )
        self.initialized = await self.client.initialize_session(types.InitializeParams(
            capabilities=capabilities, initialization_options=self.options,
            workspace_folders=[types.WorkspaceFolder(Path(f).as_uri(), Path(f).name) for f in self.folders]))
        return self

    async def __aexit__(self, *exc):
        await self.client.shutdown_session()
        await self.client.stop()

    @property
    def encoding(self) -> str:
        return self.initialized.capabilities.position_encoding

    async def published(self, uris, action, version=None):
        """Do ``action`` and return the diagnostics next published for ``uris``
        (with ``version``: for that version of the text document, not an
        older one a lint scheduled before was still on)."""
        for uri in uris:
            self.client.diagnostics.pop(uri, None)
        action()
        deadline = time.monotonic() + WAIT

        def arrived(uri):
            if uri not in self.client.diagnostics:
                return False
            if version is not None and self.published_versions.get(uri) != version:
                self.client.diagnostics.pop(uri, None)  # an older text's: wait for the next
                return False
            return True

        while not all([arrived(uri) for uri in uris]):
            assert time.monotonic() < deadline, f"no diagnostics for {uris}"
            await asyncio.sleep(0.005)
        return {uri: list(self.client.diagnostics[uri]) for uri in uris}

    async def open(self, path: Path, text=None):
        uri = path.as_uri()
        text = path.read_text(encoding="utf-8") if text is None else text
        self.versions[uri] = 1
        found = await self.published([uri], lambda: self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, "python", 1, text))), version=1)
        return found[uri]

    async def change(self, path: Path, text: str, edit_range=None):
        uri = path.as_uri()
        self.versions[uri] += 1
        change = (types.TextDocumentContentChangeWholeDocument(text=text) if edit_range is None
                  else types.TextDocumentContentChangePartial(range=edit_range, text=text))
        found = await self.published([uri], lambda: self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(uri=uri, version=self.versions[uri]), [change])),
            version=self.versions[uri])
        return found[uri]

    async def open_notebook(self, path: Path, cells):
        uri = path.as_uri()
        cell_uris = [f"vscode-notebook-cell:{path}#cell{i}" for i in range(len(cells))]
        kinds = {"code": types.NotebookCellKind.Code, "markdown": types.NotebookCellKind.Markup}
        params = types.DidOpenNotebookDocumentParams(
            notebook_document=types.NotebookDocument(
                uri=uri, notebook_type="jupyter-notebook", version=1,
                cells=[types.NotebookCell(kind=kinds[kind], document=cell_uri)
                       for (kind, _), cell_uri in zip(cells, cell_uris)]),
            cell_text_documents=[types.TextDocumentItem(cell_uri, "python" if kind == "code" else "markdown", 1, source)
                                 for (kind, source), cell_uri in zip(cells, cell_uris)])
        found = await self.published(cell_uris, lambda: self.client.notebook_document_did_open(params))
        return cell_uris, found

    async def actions(self, uri, diagnostics, only=None):
        where = diagnostics[0].range if diagnostics else types.Range(types.Position(0, 0), types.Position(0, 0))
        return await asyncio.wait_for(self.client.text_document_code_action_async(types.CodeActionParams(
            types.TextDocumentIdentifier(uri), where, types.CodeActionContext(diagnostics=diagnostics, only=only))),
            WAIT) or []


def run(scenario):
    asyncio.run(asyncio.wait_for(scenario(), 5 * WAIT))


def cli_json(root: Path, *paths, monkeypatch, capsys, extra=()) -> list:
    """The command line's JSON output, run in this process in the server's environment."""
    monkeypatch.chdir(root)
    for variable, value in server_env(root.parent).items():
        monkeypatch.setenv(variable, value)
    for variable in UNSET:
        monkeypatch.delenv(variable, raising=False)
    capsys.readouterr()
    cli.main(["--output-format", "json", "--no-cache", "-q", *extra, *paths])
    return json.loads(capsys.readouterr().out)


def cli_process_json(root: Path, *paths) -> list:
    """The installed command line's JSON output, as its own process."""
    done = subprocess.run([sys.executable, "-P", "-m", "kerasmode_lint", "--output-format", "json", "--no-cache",
                           "-q", *paths], cwd=root, env=server_env(root.parent), capture_output=True, text=True,
                          timeout=5 * WAIT)
    assert done.returncode in (0, 1), done.stderr
    return json.loads(done.stdout)


def as_cli(diagnostic: types.Diagnostic, text: str, encoding: str, path: str, cell=None) -> dict:
    """A server diagnostic in the CLI's JSON schema (positions converted back)."""
    lines = positions.Lines(text, encoding)
    line, column = lines.to_linter(diagnostic.range.start.line, diagnostic.range.start.character)
    end_line, end_column = lines.to_linter(diagnostic.range.end.line, diagnostic.range.end.character)
    found = {"code": diagnostic.code, "name": diagnostic.data["name"], "message": diagnostic.message,
             "severity": {1: "error", 2: "warning"}[diagnostic.severity], "path": path, "cell": cell,
             "line": line, "column": column, "end_line": end_line, "end_column": end_column,
             "fix": None if diagnostic.data["fix"] is None else diagnostic.data["fix"]["message"]}
    if diagnostic.code_description is not None:
        found["url"] = diagnostic.code_description.href
    return found


def cli_view(entry: dict) -> dict:
    keep = ("code", "name", "message", "severity", "path", "cell", "line", "column", "end_line", "end_column")
    found = {key: entry[key] for key in keep}
    found["fix"] = entry["fix"]["message"] if entry["fix"] else None
    if "url" in entry:
        found["url"] = entry["url"]
    return found


def apply(text: str, edits, encoding: str) -> str:
    """Apply LSP text edits as a client does (pygls's own document model)."""
    document = TextDocument("file:///x.py", text, position_codec=PositionCodec(encoding=encoding))
    for edit in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        document.apply_change(types.TextDocumentContentChangePartial(range=edit.range, text=edit.new_text))
    return document.source


# -- the tests ------------------------------------------------------------------------
def test_editor_findings_equal_the_cli_on_every_file_of_a_nested_config_monorepo(
        project, tmp_path, monkeypatch, capsys):
    files = sorted(p for p in project.rglob("*.py"))
    nb = project / "nb" / "train.ipynb"
    # The CLI on each file alone (as pre-commit passes them): a file's
    # documentation URL is its own config's; over a folder the CLI uses the
    # first config's for the whole run, so that run is compared without it.
    expected = [cli_view(e) for path in files + [nb]
                for e in cli_json(project, str(path.relative_to(project)), monkeypatch=monkeypatch, capsys=capsys)]
    over_root = [cli_view(e) for e in cli_process_json(project, ".")]
    # The layout's findings are there (the comparison below is not vacuous):
    # each kind of finding, a documentation URL from the root config and
    # none under tools/ (its own config has none), the backend per file.
    assert {e["code"] for e in expected} >= {"KM001", "KM002", "KM101", "KM302", "KM306"}
    assert any(e.get("url") == DOCS.format(code="KM101") for e in expected)
    assert any(e["path"].startswith("tools/") and "url" not in e for e in expected)
    assert {e["path"] for e in expected if e["code"] == "KM306"} == {"jaxsvc/net.py", "app/jax_in_code.py"}
    assert {e["path"] for e in over_root} >= {e["path"] for e in expected}
    got = []

    async def scenario():
        async with Session(tmp_path, folders=[project]) as session:
            for path in files:
                text = path.read_text(encoding="utf-8")
                rel = str(path.relative_to(project))
                got.extend(as_cli(d, text, session.encoding, rel) for d in await session.open(path))
            cell_uris, found = await session.open_notebook(nb, NOTEBOOK_CELLS)
            for number, (uri, (_, source)) in enumerate(zip(cell_uris, NOTEBOOK_CELLS), start=1):
                got.extend(as_cli(d, source, session.encoding, "nb/train.ipynb", number) for d in found[uri])

    run(scenario)

    def key(entry):
        return (entry["path"], entry["cell"] or 0, entry["line"], entry["column"], entry["code"])

    def no_url(entries):
        return sorted(({k: v for k, v in e.items() if k != "url"} for e in entries), key=key)

    assert sorted(got, key=key) == sorted(expected, key=key)
    assert no_url(got) == no_url(over_root)
    assert any(e["cell"] == 4 and e["code"] == "KM101" for e in got)  # the notebook's finding, in its cell


def test_a_burst_of_changes_is_linted_once_at_the_end(project, tmp_path):
    path = project / "app" / "burst.py"

    async def scenario():
        # Changes 50 ms apart, a debounce of 400 ms: without the debounce
        # each change would be linted (and published) on its own.
        async with Session(tmp_path, folders=[project], options={"debounceMs": 400}) as session:
            await session.open(path, "x = 1\n")
            uri = path.as_uri()
            publishes = []
            real = session.client.protocol.fm.features["textDocument/publishDiagnostics"]

            def count(params):
                publishes.append(params)
                return real(params)

            session.client.protocol.fm.features["textDocument/publishDiagnostics"] = count
            for version, text in enumerate(["y = 1\n", "y = 2\n", "y = 3\n", FLAGGED], start=2):
                session.client.text_document_did_change(types.DidChangeTextDocumentParams(
                    types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                    [types.TextDocumentContentChangeWholeDocument(text=text)]))
                await asyncio.sleep(0.05)
            deadline = time.monotonic() + WAIT
            while not publishes:
                assert time.monotonic() < deadline, "no diagnostics after the burst"
                await asyncio.sleep(0.005)
            await asyncio.sleep(0.6)  # a second lint, if there were one, would be published by now
            assert len(publishes) == 1  # one lint for the four changes, of the last text
            assert [d.code for d in publishes[0].diagnostics] == ["KM101"]

    run(scenario)


def test_quick_fixes_noqa_fix_all_and_hover(project, tmp_path):
    path = project / "app" / "fixable.py"
    from kerasmode_lint.rules import RULES_BY_CODE

    async def scenario():
        async with Session(tmp_path, folders=[project]) as session:
            found = await session.open(path)
            uri = path.as_uri()
            by_code = {d.code: d for d in found}
            assert set(by_code) == {"KM101", "KM002"}
            assert by_code["KM101"].data["fix"]["applicability"] == "unsafe"
            assert list(by_code["KM002"].tags) == [types.DiagnosticTag.Unnecessary]

            actions = await session.actions(uri, [by_code["KM101"]], only=[types.CodeActionKind.QuickFix])
            fix, noqa = actions
            # A client that sends no `data` back gets the same actions (by code and range).
            bare = types.Diagnostic(range=by_code["KM101"].range, message=by_code["KM101"].message, code="KM101")
            assert [a.edit for a in await session.actions(uri, [bare], only=[types.CodeActionKind.QuickFix])] == [
                fix.edit, noqa.edit]
            moved = types.Diagnostic(range=by_code["KM002"].range, message="", code="KM101")
            assert await session.actions(uri, [moved], only=[types.CodeActionKind.QuickFix]) == []
            assert "unsafe" in fix.title and not fix.is_preferred
            fixed = apply(FIXABLE, fix.edit.changes[uri], session.encoding)
            ast.parse(fixed)
            assert "model(x, training=True)" in fixed
            after = await session.change(path, fixed)
            assert "KM101" not in {d.code for d in after}
            assert noqa.title == "Add `# noqa: KM101` on this line"
            silenced = apply(FIXABLE, noqa.edit.changes[uri], session.encoding)
            assert "pred = model(x)  # noqa: KM101\n" in silenced
            after = await session.change(path, silenced)
            assert "KM101" not in {d.code for d in after}

            found = await session.change(path, FIXABLE)
            [safe] = [a for a in await session.actions(uri, [d for d in found if d.code == "KM002"])
                      if a.kind == types.CodeActionKind.QuickFix and a.is_preferred]
            assert not safe.title.endswith("]")  # a safe fix: no "[unsafe fix ...]" label
            fixed = apply(FIXABLE, safe.edit.changes[uri], session.encoding)
            assert "KM101" not in fixed.splitlines()[-1]
            ast.parse(fixed)
            assert sorted(d.code for d in await session.change(path, fixed)) == ["KM101"]  # KM002 fixed

            # Fix all: safe fixes only (the noqa goes, training=True does not come).
            await session.change(path, FIXABLE)
            [fix_all] = await session.actions(uri, [], only=["source.fixAll"])
            assert fix_all.kind == "source.fixAll.kerasmode-lint"
            fixed = apply(FIXABLE, fix_all.edit.changes[uri], session.encoding)
            ast.parse(fixed)
            assert fixed.endswith("x = 1\n") and "training=True" not in fixed
            after = await session.change(path, fixed)
            assert [d.code for d in after] == ["KM101"]

            # Hover on the code of a noqa comment: the rule's summary and page.
            await session.change(path, FIXABLE)
            line = FIXABLE.splitlines().index("x = 1  # noqa: KM101")
            hover = await session.client.text_document_hover_async(types.HoverParams(
                types.TextDocumentIdentifier(uri), types.Position(line, len("x = 1  # noqa: KM1"))))
            assert RULES_BY_CODE["KM101"].summary in hover.contents.value
            assert DOCS.format(code="KM101") in hover.contents.value
            assert (hover.range.start.character, hover.range.end.character) == (15, 20)
            nothing = await session.client.text_document_hover_async(types.HoverParams(
                types.TextDocumentIdentifier(uri), types.Position(line, 1)))
            assert nothing is None
            # The file-level form, `# kerasmode-lint: noqa: KM302`, too.
            await session.change(path, "# kerasmode-lint: noqa: KM302\n" + FIXABLE)
            hover = await session.client.text_document_hover_async(types.HoverParams(
                types.TextDocumentIdentifier(uri), types.Position(0, len("# kerasmode-lint: noqa: KM3"))))
            assert RULES_BY_CODE["KM302"].summary in hover.contents.value

    run(scenario)


def test_notebook_cells_and_fix_all_with_the_unsafe_fixes_setting(project, tmp_path, monkeypatch, capsys):
    nb = project / "nb" / "train.ipynb"
    path = project / "app" / "fixable.py"

    async def scenario():
        async with Session(tmp_path, folders=[project], options={"unsafeFixes": True}) as session:
            await session.open(path)
            [fix_all] = await session.actions(path.as_uri(), [], only=["source.fixAll.kerasmode-lint"])
            fixed = apply(FIXABLE, fix_all.edit.changes[path.as_uri()], session.encoding)
            ast.parse(fixed)
            assert "model(x, training=True)" in fixed and fixed.endswith("x = 1\n")
            assert await session.change(path, fixed) == []

            # A notebook: findings per cell, a fix edits its own cell.
            cell_uris, found = await session.open_notebook(nb, NOTEBOOK_CELLS)
            assert [d.code for d in found[cell_uris[2]]] == ["KM002"]
            [km101] = found[cell_uris[3]]
            assert (km101.code, km101.range.start.line, km101.range.start.character) == ("KM101", 2, 12)
            assert found[cell_uris[0]] == [] and found[cell_uris[1]] == []
            [fix, _] = await session.actions(cell_uris[3], [km101], only=[types.CodeActionKind.QuickFix])
            assert list(fix.edit.changes) == [cell_uris[3]]
            edited = apply(TRAIN, fix.edit.changes[cell_uris[3]], session.encoding)
            assert "model(x, training=True)" in edited
            [fix_all] = await session.actions(cell_uris[3], [], only=["source.fixAll"])
            assert set(fix_all.edit.changes) == {cell_uris[2], cell_uris[3]}
            # The cell's edit, sent as the editor would: the finding goes.
            [edit] = fix.edit.changes[cell_uris[3]]
            params = types.DidChangeNotebookDocumentParams(
                notebook_document=types.VersionedNotebookDocumentIdentifier(version=2, uri=nb.as_uri()),
                change=types.NotebookDocumentChangeEvent(cells=types.NotebookDocumentCellChanges(text_content=[
                    types.NotebookDocumentCellContentChanges(
                        document=types.VersionedTextDocumentIdentifier(uri=cell_uris[3], version=2),
                        changes=[types.TextDocumentContentChangePartial(range=edit.range, text=edit.new_text)])])))
            after = await session.published(cell_uris, lambda: session.client.notebook_document_did_change(params))
            assert after[cell_uris[3]] == [] and [d.code for d in after[cell_uris[2]]] == ["KM002"]

            # A new code cell inserted second (a structure change): the cells
            # after it are renumbered; every cell's findings are the CLI's on
            # the notebook saved with the same cells.
            new_uri = f"vscode-notebook-cell:{nb}#new"
            insert = types.DidChangeNotebookDocumentParams(
                notebook_document=types.VersionedNotebookDocumentIdentifier(version=3, uri=nb.as_uri()),
                change=types.NotebookDocumentChangeEvent(cells=types.NotebookDocumentCellChanges(
                    structure=types.NotebookDocumentCellChangeStructure(
                        array=types.NotebookCellArrayChange(start=1, delete_count=0, cells=[
                            types.NotebookCell(kind=types.NotebookCellKind.Code, document=new_uri)]),
                        did_open=[types.TextDocumentItem(new_uri, "python", 1, BUILD + TRAIN)]))))
            cell_uris.insert(1, new_uri)
            after = await session.published(cell_uris, lambda: session.client.notebook_document_did_change(insert))
            cells = list(NOTEBOOK_CELLS)
            cells[3] = ("code", edited)
            cells.insert(1, ("code", BUILD + TRAIN))
            saved = project / "nb" / "inserted.ipynb"
            saved.write_text(notebook_text(cells), encoding="utf-8")
            expected = [cli_view(e) for e in cli_json(project, "nb/inserted.ipynb", monkeypatch=monkeypatch,
                                                      capsys=capsys, extra=["--unsafe-fixes"])]
            got = [as_cli(d, source, session.encoding, "nb/inserted.ipynb", number)
                   for number, (uri, (_, source)) in enumerate(zip(cell_uris, cells), start=1) for d in after[uri]]
            assert sorted(got, key=str) == sorted(expected, key=str)
            assert {e["cell"] for e in expected} == {2, 4}  # the new cell's KM101 and the old KM002, renumbered
            closed = await session.published(cell_uris, lambda: session.client.notebook_document_did_close(
                types.DidCloseNotebookDocumentParams(
                    types.NotebookDocumentIdentifier(nb.as_uri()),
                    [types.TextDocumentIdentifier(u) for u in cell_uris])))
            assert all(v == [] for v in closed.values())

    run(scenario)


LINE = "ü, pred = '😀', model(x)"


@pytest.mark.parametrize("offered, chosen, column", [
    (None, "utf-16", 4 + len("ü, pred = '😀', ".encode("utf-16-le")) // 2),
    (["utf-8"], "utf-8", 4 + len("ü, pred = '😀', ".encode("utf-8"))),
    (["utf-32", "utf-16"], "utf-32", 4 + len("ü, pred = '😀', ")),
])
def test_position_encodings(project, tmp_path, offered, chosen, column):
    path = project / "app" / "emoji.py"
    text = path.read_text(encoding="utf-8")
    line = text.splitlines().index("    " + LINE)

    async def scenario():
        stdio = [sys.executable, "-P", "-m", "kerasmode_lint", "server", "--stdio"]  # as some clients start servers
        async with Session(tmp_path, folders=[project], encodings=offered, options={"unsafeFixes": True},
                           command=stdio) as session:
            assert session.encoding == chosen
            [found] = await session.open(path)
            assert (found.range.start.line, found.range.start.character) == (line, column)
            assert found.range.end.character == column + len("model(x)")  # ASCII after the emoji
            [fix, _] = await session.actions(path.as_uri(), [found], only=[types.CodeActionKind.QuickFix])
            fixed = apply(text, fix.edit.changes[path.as_uri()], chosen)
            assert "    ü, pred = '😀', model(x, training=True)\n" in fixed
            # An edit after the emoji, in the client's units: the finding follows.
            moved = await session.change(path, "𝒙", types.Range(  # inside the string, after the emoji
                types.Position(line, column - 3), types.Position(line, column - 3)))
            assert moved[0].range.start.character == column + {"utf-8": 4, "utf-16": 2, "utf-32": 1}[chosen]

    run(scenario)


def test_open_change_save_close_watched_configs_and_a_second_root(project, tmp_path):
    path = project / "app" / "scratch.py"  # never saved: the buffer is what is linted
    model = project / "app" / "model.py"
    # A second workspace folder: another project (Keras 2 by its pins), with
    # its own editor settings (unsafe fixes) served by workspace/configuration.
    other = tmp_path / "other"
    other.mkdir()
    (other / ".git").mkdir()
    (other / "requirements.txt").write_text("tensorflow==2.15.1\n")
    (other / "train.py").write_text(BOTH)

    async def scenario():
        session = Session(tmp_path, folders=[project, other], configuration=True)
        session.client.set_configuration({"unsafeFixes": True}, section="kerasmode-lint", scope_uri=other.as_uri())
        async with session:
            assert await session.open(path, "x = 1\n") == []
            found = await session.change(path, BOTH)
            assert sorted(d.code for d in found) == ["KM101", "KM302"]
            # An incremental edit: `model(x)` gets training=True, KM101 goes.
            line = BOTH.splitlines().index("    pred = model(x)")
            column = len("    pred = model(x")
            found = await session.change(path, ", training=True", types.Range(
                types.Position(line, column), types.Position(line, column)))
            assert [d.code for d in found] == ["KM302"]
            uri = path.as_uri()
            found = await session.published([uri], lambda: session.client.text_document_did_save(
                types.DidSaveTextDocumentParams(types.TextDocumentIdentifier(uri))))
            assert [d.code for d in found[uri]] == ["KM302"]
            found = await session.published([uri], lambda: session.client.text_document_did_close(
                types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri))))
            assert found[uri] == []  # cleared on close

            # The second root: its own Keras (2: no KM302) and its own settings.
            assert [d.code for d in await session.open(other / "train.py")] == ["KM101"]
            [fix_all] = await session.actions((other / "train.py").as_uri(), [], only=["source.fixAll"])
            assert "training=True" in fix_all.edit.changes[(other / "train.py").as_uri()][0].new_text
            assert await session.actions(model.as_uri(), [], only=["source.fixAll"]) == []  # safe only here

            # Config and pin files are watched; a change re-lints open documents.
            [watching] = [r for r in session.registrations if r.method == "workspace/didChangeWatchedFiles"]
            options = watching.register_options
            watchers = options["watchers"] if isinstance(options, dict) else options.watchers
            globs = [w["globPattern"] if isinstance(w, dict) else w.glob_pattern for w in watchers]
            assert {"**/.kerasmode-lint.toml", "**/kerasmode-lint.toml", "**/pyproject.toml",
                    "**/requirements*.txt"} <= set(globs)
            assert str(tmp_path / "keras-home" / "keras.json") in globs  # the environment's, outside the workspace
            assert sorted(d.code for d in await session.open(model)) == ["KM101", "KM302"]
            config = project / ".kerasmode-lint.toml"
            config.write_text('ignore = ["KM203", "KM101"]\n')
            changed = types.DidChangeWatchedFilesParams(
                [types.FileEvent(config.as_uri(), types.FileChangeType.Changed)])
            # (Both open documents are re-linted; waiting for both keeps the
            # next step's edit of a pin file from racing the second one.)
            found = await session.published([model.as_uri(), (other / "train.py").as_uri()],
                                            lambda: session.client.workspace_did_change_watched_files(changed))
            assert [d.code for d in found[model.as_uri()]] == ["KM302"]
            (other / "requirements.txt").write_text("keras>=3.8\n")
            pins = types.DidChangeWatchedFilesParams([types.FileEvent(
                (other / "requirements.txt").as_uri(), types.FileChangeType.Changed)])
            found = await session.published([model.as_uri(), (other / "train.py").as_uri()],
                                            lambda: session.client.workspace_did_change_watched_files(pins))
            assert sorted(d.code for d in found[(other / "train.py").as_uri()]) == ["KM101", "KM302"]  # now Keras 3
            # keras.json (the backend when nothing else says): JAX makes KM306.
            net = project / "app" / "net.py"
            assert await session.open(net) == []
            keras_json = tmp_path / "keras-home" / "keras.json"
            keras_json.parent.mkdir()
            keras_json.write_text('{"backend": "jax"}')
            created = types.DidChangeWatchedFilesParams(
                [types.FileEvent(keras_json.as_uri(), types.FileChangeType.Created)])
            found = await session.published(
                [net.as_uri()], lambda: session.client.workspace_did_change_watched_files(created))
            assert [d.code for d in found[net.as_uri()]] == ["KM306"]
            config.write_text('select = [')  # a broken config: one KM001 diagnostic, the server goes on
            found = await session.published(
                [model.as_uri()], lambda: session.client.workspace_did_change_watched_files(changed))
            [broken] = found[model.as_uri()]
            assert broken.code == "KM001" and "settings" in broken.message

    run(scenario)


def test_the_python_setting_points_at_the_project_s_interpreter(tmp_path, monkeypatch, capsys):
    # The project pins Keras 3; its environment (named by the editor
    # setting, relative to the workspace folder) has Keras 2: no KM302.
    root = tmp_path / "proj"
    (root / ".git").mkdir(parents=True)
    (root / "requirements.txt").write_text("keras>=3.8\n")
    (root / "train.py").write_text(BOTH)
    fake_environment(root / "envs" / "old", keras="2.15.0", tensorflow="2.15.1")
    (root / "envs" / "old" / "bin").mkdir()
    (root / "envs" / "old" / "bin" / "python").write_text("")
    plain = [cli_view(e) for e in cli_json(root, "train.py", monkeypatch=monkeypatch, capsys=capsys)]
    pointed = [cli_view(e) for e in cli_json(root, "train.py", monkeypatch=monkeypatch, capsys=capsys,
                                             extra=["--python", "envs/old/bin/python"])]
    assert "KM302" in {e["code"] for e in plain} and "KM302" not in {e["code"] for e in pointed}
    text = BOTH

    async def scenario():
        async with Session(tmp_path, folders=[root], options={"python": "envs/old/bin/python"}) as session:
            found = await session.open(root / "train.py")
            assert [as_cli(d, text, session.encoding, "train.py") for d in found] == pointed

    run(scenario)


def test_a_client_that_cannot_watch_files_gets_settings_read_again_after_a_pause(project, tmp_path):
    model = project / "app" / "model.py"

    async def scenario():
        async with Session(tmp_path, folders=[project], watch=False) as session:
            assert session.registrations == []
            assert sorted(d.code for d in await session.open(model)) == ["KM101", "KM302"]
            (project / ".kerasmode-lint.toml").write_text('ignore = ["KM203", "KM101"]\n')
            await asyncio.sleep(1.2)  # a pause: the next lint reads the configs again
            assert [d.code for d in await session.change(model, BOTH + "\n")] == ["KM302"]

    run(scenario)


CRASHING_SERVER = textwrap.dedent("""\
    import sys
    from kerasmode_lint.rules import RULES_BY_CODE
    from kerasmode_lint.frontends.server import linting, main

    def crash(self, node):
        raise RuntimeError("a rule failed")
    rule = RULES_BY_CODE["KM101"]
    for name in dir(rule):
        if name.startswith(("visit_", "leave_")):
            setattr(rule, name, crash)

    real = linting.to_lsp
    def to_lsp(run, encoding):
        if run.target.path.endswith("poison.py"):
            raise ValueError("a bug outside the engine")
        return real(run, encoding)
    linting.to_lsp = to_lsp
    sys.exit(main([]))
""")


def test_syntax_errors_crashing_rules_and_internal_errors_never_stop_the_server(project, tmp_path):
    command = [sys.executable, "-c", CRASHING_SERVER]

    async def scenario():
        async with Session(tmp_path, folders=[project], command=command) as session:
            [km001] = await session.open(project / "app" / "broken.py")
            assert km001.code == "KM001" and km001.message.startswith("cannot parse")
            found = await session.open(project / "app" / "model.py")
            assert any(d.code == "KM001" and "internal error in rule KM101" in d.message for d in found)
            # The log message travels apart from the diagnostics: wait for it.
            deadline = time.monotonic() + WAIT
            while not any("internal error in rule KM101" in m.message for m in session.client.log_messages):
                assert time.monotonic() < deadline
                await asyncio.sleep(0.01)
            poison = project / "app" / "poison.py"
            session.client.text_document_did_open(types.DidOpenTextDocumentParams(
                types.TextDocumentItem(poison.as_uri(), "python", 1, "x = 1\n")))
            deadline = time.monotonic() + WAIT
            while not any("a bug outside the engine" in m.message for m in session.client.log_messages):
                assert time.monotonic() < deadline
                await asyncio.sleep(0.01)
            # Still serving: a clean file gets its (empty) diagnostics.
            assert await session.open(project / "app" / "clean.py", "x = 1\n") == []

    run(scenario)


def test_without_pygls_the_command_says_which_extra_to_install(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "pygls", None)  # import pygls raises ImportError
    assert cli.main(["server"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "kerasmode-lint[server]" in err


def _readme_section() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    start = text.index("## Editor server (LSP)")
    return text[start:text.index("\n## ", start + 1)]


def _blocks(section: str, language: str) -> list:
    return re.findall(rf"```{language}\n(.*?)```", section, re.DOTALL)


def test_the_readme_editor_setups_start_this_command_with_settings_it_reads():
    from kerasmode_lint.frontends.server.app import SETTING_NAMES, Settings

    section = _readme_section()
    script = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert script["kerasmode-lint"] == "kerasmode_lint.frontends.cli:console_main"  # the command the setups run
    listed = re.search(r"Settings \(all optional\).*?\n\n", section, re.DOTALL).group()
    assert set(re.findall(r"`(\w+)`", listed.split("(section `kerasmode-lint`):", 1)[1])) == set(SETTING_NAMES)

    def known(options: dict) -> None:
        assert options and set(options) <= set(SETTING_NAMES), options
        read = Settings.read(options)
        assert read.python == options.get("python") and read.unsafe_fixes == options.get("unsafeFixes", False)

    [vscode] = [json.loads(b) for b in _blocks(section, "json")]
    assert (vscode["glspc.server.command"], vscode["glspc.server.commandArguments"]) == ("kerasmode-lint", ["server"])
    known(vscode["glspc.server.initializationOptions"])
    assert "source.fixAll.kerasmode-lint" in vscode["editor.codeActionsOnSave"]
    [neovim] = _blocks(section, "lua")
    assert 'cmd = { "kerasmode-lint", "server" }' in neovim
    assert re.search(r'\["kerasmode-lint"\] = \{ unsafeFixes = false, python = "\.venv/bin/python" \}', neovim)
    [helix] = [tomllib.loads(b) for b in _blocks(section, "toml")]
    server = helix["language-server"]["kerasmode-lint"]
    assert (server["command"], server["args"]) == ("kerasmode-lint", ["server"])
    known(server["config"])
    assert "kerasmode-lint" in helix["language"][0]["language-servers"]
    [emacs] = _blocks(section, "elisp")
    assert '("kerasmode-lint" "server"' in emacs
    assert set(re.findall(r":(\w+) ", emacs.split(":initializationOptions", 1)[1])) <= set(SETTING_NAMES)


def test_a_bad_argument_is_a_one_line_error(capsys):
    assert cli.main(["server", "--stdio-please"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unrecognized arguments: --stdio-please" in err


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-32"])
def test_position_conversion_round_trips(encoding):
    text = "a\r\nü😀x\rb\x0cc\n\u2028z\n"  # a form feed and U+2028 do not end lines
    lines = positions.Lines(text, encoding)
    assert [lines.line_text(i) for i in range(4)] == ["a", "ü😀x", "b\x0cc", "\u2028z"]
    for line, body in enumerate(["a", "ü😀x", "b\x0cc", "\u2028z"], start=1):
        for column in range(1, len(body) + 2):
            client = lines.to_client(line, column)
            assert client[1] == len(body[:column - 1].encode(
                {"utf-8": "utf-8", "utf-16": "utf-16-le", "utf-32": "utf-32-le"}[encoding])) // {
                    "utf-8": 1, "utf-16": 2, "utf-32": 4}[encoding]
            assert lines.to_linter(*client) == (line, column)
