"""Linting many files: cache look-ups first, then the rest serially or in a
process pool, largest files first.

A task is ``(path, options, *extra)``; ``lint(path, data, options, *extra)``
(a module-level function, so that it can be sent to worker processes) turns
one file's bytes into a ``FileResult``. The cache settings key covers the
options, the extras and the Keras version resolved for the file.
"""
from __future__ import annotations

import dataclasses
import os
import sys
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from . import project
from .cache import LintCache, content_hash
from .diagnostics import INVALID_FILE, INVALID_FILE_NAME, Diagnostic, internal_error
from .options import FileResult, LintOptions
from .safe_io import read_source
from .versions import project_version

# A pool costs about 0.1 s to start and feed; below this much source to lint
# (about half a second of work on one core) serial is as fast, and a
# pre-commit call with a handful of files stays in one process.
PARALLEL_MIN_BYTES = 512 * 1024
# Work is cut into about this many pieces per worker, so that the last pieces
# are small and the workers finish together.
CHUNKS_PER_WORKER = 8

Task = Tuple  # (path, options, *extra)
Lint = Callable[..., FileResult]


def read_error(path: str, exc: OSError) -> FileResult:
    result = FileResult(path)
    result.diagnostics.append(
        Diagnostic(path, 1, 1, INVALID_FILE, f"cannot read: {exc.strerror or exc}", name=INVALID_FILE_NAME)
    )
    return result


def _read(path: str) -> bytes:
    return read_source(path)  # refuses FIFOs and devices instead of waiting on them


def options_key(options: LintOptions) -> str:
    """Every field of the options, in a stable order (sets sorted)."""
    parts = []
    for field in dataclasses.fields(options):
        value = getattr(options, field.name)
        if isinstance(value, (set, frozenset)):
            value = sorted(value)
        parts.append(f"{field.name}={value!r}")
    return "|".join(parts)


def settings_key(task: Task) -> str:
    """Everything but the content that the result depends on. The Keras
    version and backend are resolved from the settings, the file's content
    (already in the key) and what the environment says; the options carry
    the environment's answers (settings.Resolver), else it is looked up here,
    once per folder."""
    path, options, *extra = task
    keras = options.keras_version
    if keras.strip().lower() == "auto" and options.project_keras is None:
        keras = f"auto/{_project_version(os.path.dirname(path), options.python)}"
    backend = ""
    if options.keras_backend == "auto" and options.environment_backend is None:
        from .backends import environment_backend

        try:
            backend = f"|environment-backend={environment_backend().backend}"
        except ValueError as exc:
            backend = f"|environment-backend={exc}"
    return f"{options_key(options)}|{extra!r}{backend}|keras={keras}"


_PROJECT_VERSIONS: Dict[str, str] = {}


def _project_version(folder: str, python: Optional[str]) -> str:
    found = _PROJECT_VERSIONS.get(f"{folder}|{python}")
    if found is None:
        resolved = project_version(os.path.join(folder or os.curdir, "_"), python=python)
        found = _PROJECT_VERSIONS[f"{folder}|{python}"] = str(resolved.version) if resolved else "-"
    return found


def lint_chunk(lint: Lint, chunk: Sequence[Tuple[int, Task]], digests: bool, progress=None):
    """Lint the files of one chunk (in a worker or in-process); with
    ``digests``, also return the hash of the bytes actually linted, so the
    cache never pairs a result with content it was not computed from."""
    out = []
    for index, task in chunk:
        path = task[0]
        try:
            data = _read(path)
        except OSError as exc:
            out.append((index, read_error(path, exc), None))
            continue
        with project.recording() as read_too:
            result = lint(path, data, *task[1:])
        own = os.path.abspath(path)
        result.depends = sorted((p, *s) for p, s in read_too.items() if p != own)
        out.append((index, result, content_hash(data) if digests else None))
        if progress is not None:
            progress(1)
    return out


def run(
    tasks: Sequence[Task],
    lint: Lint,
    jobs: int = 0,
    cache_for: Callable[[Task], Optional[LintCache]] = lambda task: None,
    progress: Callable[[int], None] = lambda count: None,
) -> List[FileResult]:
    """The results of ``tasks``, in order. ``jobs`` 0 means all cores;
    ``progress(n)`` hears of every n files done."""
    results: List[Optional[FileResult]] = [None] * len(tasks)
    pending: List[Tuple[int, Task]] = []
    sizes: Dict[int, int] = {}
    stores: Dict[int, Tuple[LintCache, str]] = {}
    for index, task in enumerate(tasks):
        path = task[0]
        cache = cache_for(task)
        if cache is None:
            try:
                sizes[index] = os.stat(path).st_size
            except OSError:
                sizes[index] = 0
            pending.append((index, task))
            continue
        try:
            data = _read(path)
        except OSError as exc:
            results[index] = read_error(path, exc)
            continue
        settings = settings_key(task)
        hit = cache.get(path, settings, content_hash(data))
        if hit is not None:
            results[index] = FileResult(path, hit)
            progress(1)
            continue
        sizes[index] = len(data)
        stores[index] = (cache, settings)
        pending.append((index, task))

    for index, result, digest in _lint_all(pending, sizes, lint, jobs, bool(stores), progress):
        results[index] = result
        if index in stores and digest is not None and not result.internal_error:
            cache, settings = stores[index]
            cache.put(result.path, settings, digest, result.diagnostics, result.depends)
    return results  # type: ignore[return-value]


def available_cores() -> int:
    """The cores this process may run on (a container's or taskset's limit), not the machine's."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def _lint_all(pending, sizes, lint, jobs, digests, progress):
    jobs = jobs or available_cores()
    total = sum(sizes.values())
    if jobs < 2 or len(pending) < 2 or total < PARALLEL_MIN_BYTES:
        return lint_chunk(lint, pending, digests, progress)
    # Largest first, so a huge file does not start last and run alone.
    pending = sorted(pending, key=lambda item: -sizes[item[0]])
    target = max(1, total // (jobs * CHUNKS_PER_WORKER))
    chunks, chunk, size = [], [], 0
    for item in pending:
        if sizes[item[0]] * 2 >= target:  # a big file goes alone: it may be the longest task
            chunks.append([item])
            continue
        chunk.append(item)
        size += sizes[item[0]]
        if size >= target:
            chunks.append(chunk)
            chunk, size = [], 0
    if chunk:
        chunks.append(chunk)

    from functools import partial

    from . import lint as engine  # noqa: F401  loaded once here, not in every worker
    from ..rules import load_all

    load_all()  # every rule too: the forked workers share them
    from .pool import run_isolated

    # A worker that dies (a crash in native code, out of memory) costs only
    # the file it was linting.
    done = run_isolated(partial(lint_chunk, lint, digests=digests), chunks, min(jobs, len(chunks)),
                        _crashed, mp_context=_pool_context(), on_done=progress)
    return [item for chunk in done for item in chunk]


def _crashed(item: Tuple[int, Task], reason: str):
    index, task = item
    path = task[0]
    result = FileResult(path, [internal_error(path, f": {reason}; this file was not checked")], internal_error=True)
    return index, result, None


def _pool_context():
    """fork where it is safe (Linux): workers start at once with everything
    already imported, instead of importing libcst again (0.2 s each)."""
    import multiprocessing

    if sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return None
