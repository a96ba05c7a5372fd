"""The language server: documents in, diagnostics and code actions out.

Lints run one at a time on a worker thread (the resolver's caches and the
engine are not shared between threads), so the connection keeps reading
while a file is linted; a change schedules a lint after a short quiet
period, and changes that arrive meanwhile are folded into the next one.
Nothing a document or a rule does ends the process: a lint that fails is
the engine's KM001 internal-error diagnostic, any other failure in a
handler is logged to the client and the server goes on.
"""
from __future__ import annotations

import asyncio
import logging
import os
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from ... import __version__
from .. import reporting
from ...engine.backends import _keras_json_path
from ...engine.config import CONFIG_NAMES, ConfigError
from ...engine.discovery import discover
from ...engine.lint import describe_exception
from ...engine.noqa import NOQA
from ...engine.selection import SelectionError
from ...engine.settings import Overrides, Resolver, SettingsError
from . import linting
from .linting import FIX_ALL_KIND, Cell, Run, Target
from .text import UTF16, Lines, apply_change, choose_encoding

# Files whose change can change a lint's settings: our configs, the
# dependency pins the Keras version is read from (versions.py), keras.json
# and .env; the environment's keras.json (outside the workspace) is watched
# where backends.py reads it.
WATCHED_GLOBS = tuple(f"**/{name}" for name in CONFIG_NAMES) + (
    "**/requirements*.txt", "**/requirements/*.txt", "**/setup.cfg", "**/setup.py", "**/Pipfile",
    "**/environment*.yml", "**/environment*.yaml", "**/.env", "**/keras.json",
)
DEFAULT_DEBOUNCE = 0.02  # seconds of quiet after a keystroke before linting
UNWATCHED_REFRESH = 1.0  # seconds of quiet after which an unwatched config or pin file is read again
_FILE_NOQA_CODES = re.compile(r"#\s*kerasmode-lint:\s*noqa:(?P<codes>[A-Za-z0-9, \t]+)", re.IGNORECASE)
_CODE = re.compile(r"KM\d+", re.IGNORECASE)
log = logging.getLogger(__name__)


# The editor settings the server reads (README: "Settings"); "interpreter"
# is another name for "python".
SETTING_NAMES = ("unsafeFixes", "python", "documentationUrl", "debounceMs")


@dataclass
class Settings:
    """The editor's settings for a workspace folder (camelCase, as clients send them)."""

    unsafe_fixes: bool = False
    python: Optional[str] = None          # the project's interpreter or environment (--python)
    documentation_url: Optional[str] = None
    debounce: float = DEFAULT_DEBOUNCE

    @classmethod
    def read(cls, value: Any) -> "Settings":
        if not isinstance(value, dict):
            return cls()
        value = value.get("kerasmode-lint", value) if isinstance(value.get("kerasmode-lint"), dict) else value
        python = value.get("python") or value.get("interpreter")
        if isinstance(python, list):  # ruff-style ["path/to/python"]
            python = python[0] if python else None
        debounce = value.get("debounceMs")
        return cls(
            unsafe_fixes=bool(value.get("unsafeFixes", False)),
            python=os.path.expanduser(python) if isinstance(python, str) and python else None,
            documentation_url=value.get("documentationUrl") if isinstance(value.get("documentationUrl"), str) else None,
            debounce=max(0.0, float(debounce) / 1000) if isinstance(debounce, (int, float)) else DEFAULT_DEBOUNCE,
        )


@dataclass
class Document:
    """An open text document or notebook, as the editor holds it."""

    target: Target
    generation: int = 0
    run: Optional[Run] = None
    pending: Optional[asyncio.TimerHandle] = None
    running: bool = False      # a lint of it is on the worker
    last_lint: float = float("-inf")  # when the last lint ended (event loop time)
    languages: Dict[str, str] = field(default_factory=dict)  # cell uri -> languageId
    version: Optional[int] = None  # the client's version of a text document


class KerasModeServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__(
            "kerasmode-lint", __version__,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
            notebook_document_sync=types.NotebookDocumentSyncOptions(notebook_selector=[
                types.NotebookDocumentFilterWithCells(
                    notebook="*", cells=[types.NotebookCellLanguage(language="python")]),
            ]),
        )
        self.encoding = UTF16
        self.documents: Dict[str, Document] = {}  # text document uri or notebook uri
        self.cell_owner: Dict[str, str] = {}      # cell uri -> notebook uri
        self.folders: List[str] = []               # workspace folder paths, longest first
        self.settings: Dict[Optional[str], Settings] = {None: Settings()}  # per folder (None: global)
        self.resolvers: Dict[Optional[str], Resolver] = {}
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kerasmode-lint")
        self.pull_configuration = False
        self.watching = False  # the client watches config and pin files for us
        self.resolved_at = float("-inf")  # when the resolvers were last used (time.monotonic)

    # -- reporting problems -------------------------------------------------
    def report_server_error(self, error: Exception, source) -> None:
        self.log_error("serving a request", error)

    def log_error(self, what: str, error: BaseException) -> None:
        try:
            self.window_log_message(types.LogMessageParams(
                types.MessageType.Error, f"kerasmode-lint: internal error while {what}: "
                f"{describe_exception(error)} (the server goes on; please report this bug)"))
        except Exception:  # the client went away: nothing else to do
            log.exception("cannot log to the client")

    # -- settings ------------------------------------------------------------
    def folder_of(self, path: Optional[str]) -> Optional[str]:
        if path is None:
            return None
        for folder in self.folders:
            if path == folder or path.startswith(os.path.join(folder, "")):
                return folder
        return None

    def settings_for(self, path: Optional[str]) -> Settings:
        return self.settings.get(self.folder_of(path)) or self.settings[None]

    def resolver_for(self, path: Optional[str]) -> Resolver:
        """One resolver per workspace folder (its interpreter setting), made
        anew after a config or pin file changed; called on the worker only."""
        folder = self.folder_of(path)
        resolver = self.resolvers.get(folder)
        if resolver is None:
            python = self.settings_for(path).python
            if python and not os.path.isabs(python):  # relative to the workspace folder, as the config's is to it
                python = os.path.join(folder or (self.folders[-1] if self.folders else os.getcwd()), python)
            resolver = self.resolvers[folder] = Resolver(Overrides(python=python, origin="editor settings"))
        return resolver

    def forget_settings(self) -> None:
        self.resolvers.clear()

    # -- linting -------------------------------------------------------------
    def schedule(self, uri: str, delay: Optional[float] = None) -> None:
        """Lint ``uri`` soon: at once after a quiet spell (the first
        keystroke is answered without waiting), else after the debounce;
        while a lint runs, changes wait for it and are linted together."""
        document = self.documents.get(uri)
        if document is None:
            return
        document.generation += 1
        self._arm(document, uri, delay)

    def _arm(self, document: "Document", uri: str, delay: Optional[float]) -> None:
        if document.running:
            return  # lint_now arms the next lint when this one ends
        if document.pending is not None:
            document.pending.cancel()
        loop = asyncio.get_running_loop()
        if delay is None:
            debounce = self.settings_for(document.target.path).debounce
            delay = debounce if loop.time() - document.last_lint < debounce else 0
        document.pending = loop.call_later(delay, lambda: asyncio.ensure_future(self.lint_now(uri)))

    async def lint_now(self, uri: str) -> None:
        document = self.documents.get(uri)
        if document is None or document.running:
            return
        if document.pending is not None:
            document.pending.cancel()
        document.pending = None
        generation, version = document.generation, document.version
        target = _snapshot(document.target)
        document.running = True
        loop = asyncio.get_running_loop()
        try:
            run = await loop.run_in_executor(self.worker, self._lint, target, generation)
        except Exception as exc:
            self.log_error(f"linting {target.path}", exc)
            return
        finally:
            document.running = False
            document.last_lint = loop.time()
        if self.documents.get(uri) is not document:
            return  # closed meanwhile
        if document.generation != generation:
            # Changed while linting: lint the new text after the debounce.
            self._arm(document, uri, self.settings_for(target.path).debounce)
            return
        run.version = version
        document.run = run
        self.publish(document)
        if run.result.internal_error:
            messages = "; ".join(d.message for d in run.result.diagnostics if d.message.startswith("internal error"))
            self.window_log_message(types.LogMessageParams(
                types.MessageType.Error, f"kerasmode-lint: {target.path}: {messages}"))

    def _lint(self, target: Target, generation: int) -> Run:
        """On the worker: the CLI's settings and lint for this target."""
        settings = self.settings_for(target.path)
        doc_base = settings.documentation_url
        now = time.monotonic()
        if not self.watching and now - self.resolved_at > UNWATCHED_REFRESH:
            # Nobody tells us of an edited config or pin file: read them
            # again on the first lint after a pause (not on every keystroke).
            self.forget_settings()
        self.resolved_at = now
        try:
            resolver = self.resolver_for(target.path)
            plan = resolver.plan_for(target.path)
            doc_base = doc_base or plan.documentation_url or reporting.documentation_base()
            if _excluded(target.path, plan):
                return Run(target, generation, None, linting.FileResult(target.path), doc_base)
            options = resolver.options_for(target.path)
        except (ConfigError, SelectionError, SettingsError, ValueError) as exc:
            return Run(target, generation, None, linting.settings_failure(target, str(exc)), doc_base)
        return Run(target, generation, options, linting.lint(target, options), doc_base)

    def publish(self, document: Document) -> None:
        try:
            per_uri = linting.to_lsp(document.run, self.encoding)
        except Exception as exc:
            self.log_error(f"reporting the findings of {document.target.path}", exc)
            return
        for uri, diagnostics in per_uri.items():
            # The version lets a client drop the findings of a text it has since changed.
            self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
                uri=uri, diagnostics=diagnostics, version=None if document.target.notebook else document.run.version))

    def clear(self, document: Document) -> None:
        if document.pending is not None:
            document.pending.cancel()
        for uri in document.target.uris():
            self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))

    def relint_all(self) -> None:
        self.forget_settings()
        for uri in list(self.documents):
            self.schedule(uri, 0)

    def document_of(self, uri: str) -> Optional[Document]:
        return self.documents.get(self.cell_owner.get(uri, uri))


def _snapshot(target: Target) -> Target:
    return Target(target.uri, target.path, target.text, [Cell(c.uri, c.code, c.text) for c in target.cells],
                  target.notebook)


def _excluded(path: str, plan) -> bool:
    """As for a file named on the command line: excluded only with
    force-exclude (then by the globs of its own config)."""
    if not plan.force_exclude or not os.path.isfile(path):
        return False
    found = discover([path], exclude=plan.exclude, extend_exclude=plan.extend_exclude, force_exclude=True,
                     respect_gitignore=plan.respect_gitignore, suffixes=(".py", ".ipynb"),
                     root=plan.config.directory)
    return not found.files


def _path_of(uri: str, fallback_folder: Optional[str]) -> str:
    """A document's path for settings; an untitled buffer is linted as a
    file in the first workspace folder (as stdin is, in the working folder)."""
    path = linting.document_path(uri)
    if path is not None:
        return path
    return os.path.join(fallback_folder or os.getcwd(), "untitled.py")


server = KerasModeServer()


def guarded(what: str):
    """Run a handler; an exception is logged to the client, never raised."""
    def wrap(handler):
        if asyncio.iscoroutinefunction(handler):
            async def run_async(ls, params):
                try:
                    return await handler(ls, params)
                except Exception as exc:
                    ls.log_error(what, exc)
                    return None
            return run_async

        def run(ls, params):
            try:
                return handler(ls, params)
            except Exception as exc:
                ls.log_error(what, exc)
                return None
        return run
    return wrap


# -- lifecycle -------------------------------------------------------------------
@server.feature(types.INITIALIZE)
@guarded("initializing")
def initialize(ls: KerasModeServer, params: types.InitializeParams) -> None:
    # The encoding pygls negotiated and announces in the capabilities (one
    # choice for both); ours, by the same rule, if it has none.
    negotiated = ls.workspace.position_encoding
    general = params.capabilities.general
    ls.encoding = (getattr(negotiated, "value", negotiated)
                   or choose_encoding(general.position_encodings if general else None))
    folders = [linting.document_path(f.uri) for f in params.workspace_folders or []]
    if not folders and (params.root_uri or params.root_path):
        folders = [linting.document_path(params.root_uri) if params.root_uri else params.root_path]
    ls.folders = sorted((f for f in folders if f), key=len, reverse=True)
    options = params.initialization_options
    if isinstance(options, dict) and "settings" in options:
        options = options["settings"]
    ls.settings = {None: Settings.read(options)}
    workspace = params.capabilities.workspace
    ls.pull_configuration = bool(workspace and workspace.configuration)


@server.feature(types.INITIALIZED)
@guarded("starting")
async def initialized(ls: KerasModeServer, params: types.InitializedParams) -> None:
    workspace = ls.client_capabilities.workspace
    watched = workspace.did_change_watched_files if workspace else None
    if watched and watched.dynamic_registration:
        try:
            await ls.client_register_capability_async(types.RegistrationParams(registrations=[types.Registration(
                id="kerasmode-lint-settings-files", method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                register_options=types.DidChangeWatchedFilesRegistrationOptions(
                    watchers=[types.FileSystemWatcher(glob_pattern=g) for g in WATCHED_GLOBS]
                    + [_keras_json_watcher(bool(watched.relative_pattern_support))]),
            )]))
            ls.watching = True
        except Exception as exc:  # the client said it could, then refused: lint on, without watching
            ls.window_log_message(types.LogMessageParams(
                types.MessageType.Warning, f"kerasmode-lint: cannot watch config and pin files: {exc}"))
    await _pull_configuration(ls)


def _keras_json_watcher(relative: bool) -> types.FileSystemWatcher:
    """The keras.json of the environment ($KERAS_HOME, else ~/.keras)."""
    path = _keras_json_path()
    if relative:
        return types.FileSystemWatcher(glob_pattern=types.RelativePattern(
            base_uri=_uri(os.path.dirname(path)), pattern=os.path.basename(path)))
    return types.FileSystemWatcher(glob_pattern=path.replace(os.sep, "/"))


async def _pull_configuration(ls: KerasModeServer) -> None:
    """Per-folder settings (``kerasmode-lint`` section) from a client that serves them."""
    if not ls.pull_configuration:
        return
    scopes: List[Optional[str]] = [None] + list(ls.folders)
    items = [types.ConfigurationItem(section="kerasmode-lint",
                                     scope_uri=None if f is None else _uri(f)) for f in scopes]
    try:
        values = await ls.workspace_configuration_async(types.ConfigurationParams(items=items))
    except Exception as exc:
        ls.log_error("reading the editor's settings", exc)
        return
    fallback = ls.settings.get(None, Settings())
    for folder, value in zip(scopes, values or []):
        if isinstance(value, dict) and value:
            ls.settings[folder] = Settings.read(value)
        elif folder is None:
            ls.settings[None] = fallback
    ls.relint_all()


def _uri(path: str) -> str:
    from pathlib import Path

    return Path(path).as_uri()


@server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
@guarded("applying new settings")
async def did_change_configuration(ls: KerasModeServer, params: types.DidChangeConfigurationParams) -> None:
    if isinstance(params.settings, dict) and params.settings:
        ls.settings = {None: Settings.read(params.settings)}
    await _pull_configuration(ls)
    ls.relint_all()


@server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
@guarded("re-reading settings files")
def did_change_watched_files(ls: KerasModeServer, params: types.DidChangeWatchedFilesParams) -> None:
    ls.relint_all()  # a config, pin or keras.json changed: resolve every open document again


@server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
@guarded("changing workspace folders")
async def did_change_folders(ls: KerasModeServer, params: types.DidChangeWorkspaceFoldersParams) -> None:
    removed = {linting.document_path(f.uri) for f in params.event.removed}
    added = [linting.document_path(f.uri) for f in params.event.added]
    ls.folders = sorted({f for f in ls.folders + added if f and f not in removed}, key=len, reverse=True)
    for folder in removed:
        ls.settings.pop(folder, None)
    await _pull_configuration(ls)
    ls.relint_all()


# -- text documents ----------------------------------------------------------------
@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
@guarded("opening a document")
def did_open(ls: KerasModeServer, params: types.DidOpenTextDocumentParams) -> None:
    item = params.text_document
    if item.uri in ls.cell_owner or item.uri.lower().endswith(".ipynb"):
        return  # a notebook's JSON is linted through notebook sync, cell by cell
    if item.language_id not in ("python", "") and not item.uri.lower().endswith((".py", ".pyi")):
        return  # a config or other file the client opened: not Python
    path = _path_of(item.uri, ls.folders[-1] if ls.folders else None)
    ls.documents[item.uri] = Document(Target(item.uri, path, item.text), version=item.version)
    ls.schedule(item.uri, 0)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
@guarded("applying a change")
def did_change(ls: KerasModeServer, params: types.DidChangeTextDocumentParams) -> None:
    document = ls.documents.get(params.text_document.uri)
    if document is None:
        return
    for change in params.content_changes:
        document.target.text = _changed(document.target.text, change, ls.encoding)
    document.version = params.text_document.version
    ls.schedule(params.text_document.uri)


def _changed(text: str, change, encoding: str) -> str:
    where = getattr(change, "range", None)
    if where is None:
        return change.text
    return apply_change(text, (where.start.line, where.start.character),
                        (where.end.line, where.end.character), change.text, encoding)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
@guarded("saving a document")
def did_save(ls: KerasModeServer, params: types.DidSaveTextDocumentParams) -> None:
    uri = ls.cell_owner.get(params.text_document.uri, params.text_document.uri)
    if uri in ls.documents:
        ls.schedule(uri, 0)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
@guarded("closing a document")
def did_close(ls: KerasModeServer, params: types.DidCloseTextDocumentParams) -> None:
    document = ls.documents.pop(params.text_document.uri, None)
    if document is not None:
        ls.clear(document)


# -- notebooks ---------------------------------------------------------------------
def _cell(item_kind, uri: str, text: str, language: str) -> Cell:
    return Cell(uri, item_kind == types.NotebookCellKind.Code and language in ("python", ""), text)


@server.feature(types.NOTEBOOK_DOCUMENT_DID_OPEN)
@guarded("opening a notebook")
def notebook_did_open(ls: KerasModeServer, params: types.DidOpenNotebookDocumentParams) -> None:
    notebook = params.notebook_document
    texts = {item.uri: item for item in params.cell_text_documents}
    cells = []
    languages = {}
    for cell in notebook.cells:
        item = texts.get(cell.document)
        language = item.language_id if item else "python"
        languages[cell.document] = language
        cells.append(_cell(cell.kind, cell.document, item.text if item else "", language))
        ls.cell_owner[cell.document] = notebook.uri
    path = _path_of(notebook.uri, ls.folders[-1] if ls.folders else None)
    if not path.lower().endswith(".ipynb"):
        path += ".ipynb"
    ls.documents[notebook.uri] = Document(Target(notebook.uri, path, cells=cells, notebook=True),
                                          languages=languages)
    ls.schedule(notebook.uri, 0)


@server.feature(types.NOTEBOOK_DOCUMENT_DID_CHANGE)
@guarded("applying a notebook change")
def notebook_did_change(ls: KerasModeServer, params: types.DidChangeNotebookDocumentParams) -> None:
    document = ls.documents.get(params.notebook_document.uri)
    changes = params.change.cells
    if document is None or changes is None:
        return
    target = document.target
    if changes.structure is not None:
        structure = changes.structure
        opened = {item.uri: item for item in structure.did_open or []}
        for item in opened.values():
            document.languages[item.uri] = item.language_id
        new = [_cell(c.kind, c.document, opened[c.document].text if c.document in opened else "",
                     document.languages.get(c.document, "python"))
               for c in structure.array.cells or []]
        start, count = structure.array.start, structure.array.delete_count
        target.cells[start:start + count] = new
        for closed in structure.did_close or []:
            ls.cell_owner.pop(closed.uri, None)
        for cell in new:
            ls.cell_owner[cell.uri] = target.uri
    by_uri = {c.uri: c for c in target.cells}
    for data in changes.data or []:
        cell = by_uri.get(data.document)
        if cell is not None:
            cell.code = data.kind == types.NotebookCellKind.Code and document.languages.get(
                data.document, "python") in ("python", "")
    for content in changes.text_content or []:
        cell = by_uri.get(content.document.uri)
        if cell is not None:
            for change in content.changes:
                cell.text = _changed(cell.text, change, ls.encoding)
    ls.schedule(target.uri)


@server.feature(types.NOTEBOOK_DOCUMENT_DID_SAVE)
@guarded("saving a notebook")
def notebook_did_save(ls: KerasModeServer, params: types.DidSaveNotebookDocumentParams) -> None:
    if params.notebook_document.uri in ls.documents:
        ls.schedule(params.notebook_document.uri, 0)


@server.feature(types.NOTEBOOK_DOCUMENT_DID_CLOSE)
@guarded("closing a notebook")
def notebook_did_close(ls: KerasModeServer, params: types.DidCloseNotebookDocumentParams) -> None:
    document = ls.documents.pop(params.notebook_document.uri, None)
    if document is not None:
        ls.clear(document)
        for uri in document.target.uris():
            ls.cell_owner.pop(uri, None)


# -- code actions ------------------------------------------------------------------------
@server.feature(types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(
    code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL_KIND], resolve_provider=False))
@guarded("computing code actions")
async def code_action(ls: KerasModeServer, params: types.CodeActionParams) -> Optional[List[types.CodeAction]]:
    uri = params.text_document.uri
    document = ls.document_of(uri)
    if document is None:
        return None
    run = await _current_run(ls, document)
    if run is None:
        return None
    only = params.context.only
    unsafe = ls.settings_for(document.target.path).unsafe_fixes

    def compute() -> List[types.CodeAction]:
        actions: List[types.CodeAction] = []
        if linting.kind_requested(types.CodeActionKind.QuickFix, only):
            for diagnostic in params.context.diagnostics:
                if diagnostic.source not in (linting.SOURCE, None):
                    continue  # another tool's
                index = _index_of(run, uri, diagnostic, ls.encoding)
                if index is None:
                    continue  # not (or no longer) a finding of the text as it is
                for make in (linting.quick_fix, linting.noqa_action):
                    action = make(run, index, ls.encoding)
                    if action is not None:
                        action.diagnostics = [diagnostic]
                        actions.append(action)
        if linting.kind_requested(FIX_ALL_KIND, only) and (only or _fixable(run, unsafe)):
            action = linting.fix_all(run, unsafe, ls.encoding)
            if action is not None:
                actions.append(action)
        return actions

    return await asyncio.get_running_loop().run_in_executor(ls.worker, compute)


def _index_of(run: Run, uri: str, diagnostic: types.Diagnostic, encoding: str) -> Optional[int]:
    """Which finding of ``run`` the client's diagnostic is: by the index in
    its ``data`` when it comes from this run; else (a client that does not
    send ``data`` back, or kept the diagnostics of the text before the last
    change) the finding with its code at its range in the current text."""
    data = diagnostic.data if isinstance(diagnostic.data, dict) else {}
    index = data.get("index")
    findings = run.result.diagnostics
    if data.get("generation") == run.generation and isinstance(index, int) and 0 <= index < len(findings):
        return index
    for number, finding in enumerate(findings):
        if finding.code == diagnostic.code and run.target.cell_uri(finding.cell) == uri and linting.lsp_range(
                run.target.lines_of(finding.cell, encoding), finding.line, finding.column, finding.end_line,
                finding.end_column) == diagnostic.range:
            return number
    return None


def _fixable(run: Run, unsafe: bool) -> bool:
    return any(d.fix is not None and d.fix.applies(unsafe) for d in run.result.diagnostics)


async def _current_run(ls: KerasModeServer, document: Document) -> Optional[Run]:
    """The lint of the text as it is now: a change not linted yet is linted first."""
    for _ in range(1000):  # at most a few seconds: a lint that never ends gets no actions
        if document.run is not None and document.run.generation == document.generation:
            break
        if ls.documents.get(document.target.uri) is not document:
            return None
        if document.running:
            await asyncio.sleep(0.005)
        else:
            await ls.lint_now(document.target.uri)
    run = document.run
    return run if run is not None and run.generation == document.generation else None


# -- hover ------------------------------------------------------------------------------
@server.feature(types.TEXT_DOCUMENT_HOVER)
@guarded("computing a hover")
def hover(ls: KerasModeServer, params: types.HoverParams) -> Optional[types.Hover]:
    uri = params.text_document.uri
    document = ls.document_of(uri)
    if document is None:
        return None
    target = document.target
    text = next((c.text for c in target.cells if c.uri == uri), "") if target.notebook else target.text
    lines = Lines(text, ls.encoding)
    line = lines.line_text(params.position.line)
    _, column = lines.to_linter(params.position.line, params.position.character)
    at = column - 1
    for match in list(NOQA.finditer(line)) + list(_FILE_NOQA_CODES.finditer(line)):
        if match.group("codes") is None:
            continue
        for code in _CODE.finditer(line, match.start("codes"), match.end("codes")):
            if code.start() <= at <= code.end():
                doc_base = document.run.doc_base if document.run is not None else None
                content = rule_summary(code.group().upper(), doc_base)
                if content is None:
                    return None
                start = lines.to_client(params.position.line + 1, code.start() + 1)
                end = lines.to_client(params.position.line + 1, code.end() + 1)
                return types.Hover(
                    contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=content),
                    range=types.Range(types.Position(*start), types.Position(*end)))
    return None


def rule_summary(code: str, doc_base: Optional[str]) -> Optional[str]:
    """A rule's name, versions and summary line (its page's **Summary:**),
    with a link to the page when a documentation URL is known."""
    from ..cli import rule_rows

    row = next((r for r in rule_rows(doc_base or reporting.documentation_base()) if r["code"] == code), None)
    if row is None:
        return None
    versions = "reported by the linter itself" if row["versions"] == "engine" else row["versions"]
    text = f"**{row['code']}** `{row['name']}` ({versions})\n\n{row['summary']}"
    if row.get("fix"):
        text += f"\n\nFix: {row['fix']}" + (" (changes run-time behaviour)." if row["fix"] == "unsafe" else ".")
    if row.get("url"):
        text += f"\n\n[Rule page]({row['url']})"
    return text
