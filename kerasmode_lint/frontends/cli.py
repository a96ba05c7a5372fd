"""The ``kerasmode-lint`` command.

Exit codes: 0 nothing found (or, after ``--fix``, nothing left), 1 findings,
2 usage error, bad config, missing path or internal error. Findings go to
stdout, everything else to stderr (with ``-`` and a fix option the source goes
to stdout and the findings to stderr).
"""
from __future__ import annotations

import argparse
import gc
import os
import sys
from typing import Dict, List, Optional, Sequence, Tuple

from .. import __version__
from . import progress, reporting
from ..engine import runner
from ..engine.cache import CACHE_DIR_NAME, LintCache
from ..engine.config import ConfigError
from ..engine.diagnostics import ENGINE_CODES, SELECTABLE_ENGINE_CODES, Diagnostic, internal_error
from ..engine.discovery import discover
from ..engine.options import FileResult, Job, LintOptions
from ..engine.pages import page_text
from ..engine.safe_io import configure_output_streams, read_source
from ..engine.selection import SelectionError, split_codes, split_per_file_ignores
from ..engine.settings import Overrides, Plan, Resolver, SettingsError

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2, as for our own errors
        raise UsageError(message)


def _selectors(value: str) -> list:
    codes = split_codes(value)
    if not codes:
        raise argparse.ArgumentTypeError("needs at least one code or prefix (ALL for every rule)")
    return codes


def _per_file_ignores(value: str) -> list:
    try:
        return split_per_file_ignores(value)
    except SelectionError as exc:
        raise argparse.ArgumentTypeError(str(exc).split(": ", 1)[1]) from None


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="kerasmode-lint",
        description="Find mistakes with Keras's `training` mode before they silently ruin a model.",
    )
    p.add_argument("paths", nargs="*", help="files or folders to lint (default: .); - reads stdin; "
                   "`kerasmode-lint clean` removes the cache instead; `kerasmode-lint server` runs "
                   "the language server (the server extra); `kerasmode-lint trace script.py args...` runs a script "
                   "and reports which mode each Keras layer ran in")
    sel = p.add_argument_group("rule selection")
    # Repeated options accumulate, as ruff's do: --select KM1 --select KM2 = KM1,KM2.
    sel.add_argument("--select", type=_selectors, action="extend", metavar="CODES",
                     help="codes or prefixes to enable (replaces config's select)")
    sel.add_argument("--extend-select", type=split_codes, action="extend", default=[], metavar="CODES",
                     help="codes or prefixes to add")
    sel.add_argument("--ignore", type=split_codes, action="extend", default=[], metavar="CODES",
                     help="codes or prefixes to disable")
    sel.add_argument("--extend-ignore", type=split_codes, action="extend", default=[], metavar="CODES",
                     help="codes or prefixes to disable as well (added to config's ignore)")
    sel.add_argument("--per-file-ignores", type=_per_file_ignores, action="extend", default=[],
                     metavar="GLOB:CODES",
                     help="codes to disable in matching files, flake8's syntax "
                          "('tests/*.py:KM101,KM2 nb/*:KM3'); added to config's")
    sel.add_argument("--disable-noqa", action="store_true", help="ignore # noqa comments")
    files = p.add_argument_group("file selection")
    files.add_argument("--exclude", type=split_codes, help="globs to skip (replaces the defaults)")
    files.add_argument("--extend-exclude", type=split_codes, default=[], help="globs to skip as well")
    files.add_argument("--force-exclude", action="store_true", default=None,
                       help="apply excludes to paths named on the command line too")
    files.add_argument("--no-respect-gitignore", dest="respect_gitignore", action="store_false",
                       default=None, help="lint files that .gitignore lists")
    files.add_argument("--stdin-filename", metavar="PATH",
                       help="the path of the source read from stdin (-), for config and output")
    files.add_argument("--show-files", action="store_true", help="print the files that would be linted, and exit")
    out = p.add_argument_group("output")
    out.add_argument("--output-format", choices=reporting.FORMATS, default="concise",
                     help="concise (flake8 lines, default; 'text' is an alias), full (with explanation "
                          "and code frame), json, sarif, github (Actions annotations), pylint, junit, "
                          "gitlab (Code Quality)")
    out.add_argument("-o", "--output-file", metavar="PATH", help="write the findings to PATH instead of stdout")
    out.add_argument("--statistics", action="store_true",
                     help="print the number of findings per code instead of the findings")
    out.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                     help="colour the text output (auto: on a terminal unless NO_COLOR is set)")
    out.add_argument("--exit-zero", action="store_true", help="exit 0 even when problems are found")
    out.add_argument("--exit-non-zero-on-fix", action="store_true",
                     help="with --fix: exit 1 when anything was fixed, even if nothing is left")
    out.add_argument("-q", "--quiet", action="store_true", help="no summary line, no progress")
    out.add_argument("--documentation-url", metavar="URL",
                     help="base URL of the rule pages, for `url` in JSON and `helpUri` in SARIF "
                          "(default: the package's Documentation URL; {code} is replaced if present)")
    fixing = p.add_argument_group("fixes")
    fixing.add_argument("--fix", action="store_true", help="apply safe fixes to the files")
    fixing.add_argument("--unsafe-fixes", action="store_true",
                        help="with --fix or --diff: unsafe fixes (which change run-time behaviour) too")
    fixing.add_argument("--diff", action="store_true",
                        help="print the changes --fix would make as a diff; write nothing")
    fixing.add_argument("--show-fixes", action="store_true",
                        help="with --fix or --diff: list how many fixes each file got")
    fixing.add_argument("--add-noqa", action="store_true",
                        help="append # noqa: CODE to every line with a finding")
    conf = p.add_argument_group("configuration")
    conf.add_argument("--config", help="config file (pyproject.toml or kerasmode-lint.toml) for every file, "
                                       "instead of the nearest one above each file")
    conf.add_argument("--isolated", action="store_true", help="read no config file at all")
    conf.add_argument("--keras-version", help="2, 3, X.Y[.Z] or auto (default: auto)")
    conf.add_argument("--keras-backend",
                      help="tensorflow, jax, torch, numpy, openvino or auto (default: auto: "
                           "KERAS_BACKEND set in the file, $KERAS_BACKEND, keras.json, else tensorflow)")
    conf.add_argument("--python", metavar="PATH",
                      help="the project's interpreter or environment folder, whose installed Keras decides "
                           "(default: $VIRTUAL_ENV, $CONDA_PREFIX, else .venv/venv/env at the project root)")
    perf = p.add_argument_group("performance")
    perf.add_argument("-j", "--jobs", type=int, default=None,
                      help="worker processes (default: jobs in the config, else all cores)")
    perf.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    perf.add_argument("--cache-dir", help=f"cache folder (default: {CACHE_DIR_NAME} beside the config)")
    info = p.add_argument_group("information")
    info.add_argument("--list-rules", action="store_true",
                      help="list the rules and exit (with --output-format json: as JSON)")
    info.add_argument("--explain", metavar="CODE", nargs="+", help="print the pages of one or more rules and exit")
    info.add_argument("--show-settings", action="store_true",
                      help="print each distinct resolved settings and Keras decision with the files it "
                           "covers, and exit")
    info.add_argument("-v", "--verbose", action="store_true", help="with --show-settings: one entry per file")
    info.add_argument("--version", action="version", version=f"kerasmode-lint {__version__}")
    return p


def overrides_from(args) -> Overrides:
    return Overrides(
        select=args.select, extend_select=args.extend_select, ignore=args.ignore,
        extend_ignore=args.extend_ignore, per_file_ignores=args.per_file_ignores,
        keras_version=args.keras_version, keras_backend=args.keras_backend, python=args.python,
        disable_noqa=args.disable_noqa, exclude=args.exclude, extend_exclude=args.extend_exclude,
        force_exclude=args.force_exclude, respect_gitignore=args.respect_gitignore,
        config=args.config, isolated=args.isolated,
    )


def run_cache_dir(args, resolver: Resolver) -> Optional[str]:
    """One cache for the run, from the config nearest the working folder."""
    if args.no_cache:
        return None
    if args.cache_dir:
        return os.path.abspath(args.cache_dir)
    config = resolver.run_config()
    return os.path.join(config.directory, config.get("cache-dir", CACHE_DIR_NAME))


Task = Tuple[str, LintOptions, Job]


def lint_task(path: str, data: bytes, options: LintOptions, job: Job = Job()) -> FileResult:
    """What the runner calls for each file, in this process or a worker."""
    from ..engine.autofix import run_job  # libcst: loaded only when a file must be linted

    try:
        return run_job(path, data, options, job)
    except Exception as exc:  # a bug in fixing or reading a notebook: this file only
        from ..engine.lint import describe_exception

        what = f": {describe_exception(exc)}; this file was not checked"
        return FileResult(path, [internal_error(path, what)], internal_error=True)


def _missing_reason(path: str) -> str:
    """Why a command-line path cannot be linted: usually it does not exist,
    but a symlink loop or a forbidden folder deserve their own words."""
    try:
        os.stat(path)
    except OSError as exc:
        return (exc.strerror or "no such file or directory").lower()
    return "no such file or directory"


def rule_rows(doc_base: Optional[str] = None) -> List[dict]:
    from ..rules import ALL_RULES

    rows = [{"code": code, "name": name, "versions": "engine", "summary": summary,
             "fix": "safe" if code in SELECTABLE_ENGINE_CODES else None}
            for code, (name, summary) in ENGINE_CODES.items()]
    rows += [{"code": r.code, "name": r.name, "versions": str(r.versions), "summary": r.summary,
              "fix": getattr(r, "fix_safety", None)} for r in ALL_RULES]
    for row in rows:
        url = reporting.rule_url(row["code"], doc_base)
        if url:
            row["url"] = url
    return rows


def list_rules(output_format: str = "concise", doc_base: Optional[str] = None) -> str:
    rows = rule_rows(doc_base)
    if output_format == "json":
        import json

        return json.dumps(rows, indent=2, ensure_ascii=False)
    return "\n".join(f"{r['code']}  {r['name']}  ({r['versions']})  {r['summary']}" for r in rows)


def explain(code: str) -> str:
    from ..rules import RULES_BY_CODE

    code = code.strip().upper()
    if code not in RULES_BY_CODE and code not in ENGINE_CODES:
        raise UsageError(f"unknown rule code {code!r} (see --list-rules)")
    text = page_text(code)
    if text is None:
        name, summary = ENGINE_CODES.get(code, (RULES_BY_CODE.get(code).name, ""))
        return f"# {code} {name}\n\n{summary}\n"
    return text


def _excluded_by_own_config(file: str, walked: Plan, resolver: Resolver) -> bool:
    """A file met while walking a folder whose own (nested) config excludes
    it, by itself or a folder between that config and it, as ruff does."""
    own = resolver.plan_for(file)
    if own is walked:
        return False
    kept = discover([file], exclude=own.exclude, extend_exclude=own.extend_exclude, force_exclude=True,
                    respect_gitignore=False, root=own.config.directory)
    return not kept.files


def _engine_bytes(path: str, data: bytes) -> bytes:
    """What the engine reads for its decisions: a notebook's code cells."""
    if path.lower().endswith(".ipynb"):
        from ..engine.lint import InvalidFile
        from ..engine.notebooks import Notebook

        try:
            return Notebook(data).raw_program.encode("utf-8")
        except InvalidFile:
            return b""
    return data


def show_settings(files: Sequence[Tuple[str, Optional[bytes]]], resolver: Resolver, cache_dir: Optional[str],
                  verbose: bool) -> str:
    """Each distinct decision and the files it covers (``verbose``: per file),
    from the resolution the lint itself uses."""
    groups: Dict[Tuple[str, ...], List[str]] = {}
    for path, data in files:
        settings = resolver.settings_for(path, _engine_bytes(path, data) if data is not None else b"")
        plan, options = settings.plan, settings.options
        version, backend = settings.version, settings.backend
        entry = (
            f"  config: {plan.config.path or '(none)'}",
            f"  keras-version: {version.version} ({version.reason})",
            f"  keras-backend: {backend.backend} ({backend.reason})",
            f"  python: {plan.python or '(not set: $VIRTUAL_ENV, $CONDA_PREFIX, else .venv/venv/env)'}",
            f"  enabled: {', '.join(sorted(options.enabled)) or '(none)'}",
            "  per-file-ignores: " + (', '.join(p + ' -> ' + ','.join(sorted(c)) for p, c in plan.per_file_ignores)
                                      or '(none)'),
            f"  exclude: {', '.join(plan.exclude)}",
            f"  extend-exclude: {', '.join(plan.extend_exclude) or '(none)'}",
        )
        groups.setdefault((path,) + entry if verbose else entry, []).append(path)
    out = [f"cache-dir: {cache_dir or '(no cache)'}"]
    for entry, paths in groups.items():
        if verbose:
            out += [f"path: {entry[0]}", *entry[1:]]
        else:
            out.append(f"settings for {reporting.plural(len(paths), 'file')}:")
            out += list(entry)
            out += [f"  file: {p}" for p in sorted(paths)]
    return "\n".join(out)


EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it


# Set when this process is the linter itself (console script, python -m):
# then Ctrl-C leaves without tearing the interpreter down, which frees every
# object of a large syntax tree and took seconds.
_PROCESS_ENTRY = False


def console_main() -> int:
    """The ``kerasmode-lint`` command and ``python -m kerasmode_lint``."""
    global _PROCESS_ENTRY
    _PROCESS_ENTRY = True
    return main()


def _interrupted() -> int:
    """Ctrl-C: the pool's workers are already stopped (pool.py) and partial
    writes removed; say so in one line and exit 130. If the large-stack
    parse thread is still busy, leave at once: a normal interpreter shutdown
    would abort ("Fatal Python error") while it runs. As the command, leave
    at once too (nothing is left to write; teardown only costs time)."""
    from ..engine import deep_stack

    print("kerasmode-lint: interrupted", file=sys.stderr)
    if deep_stack.busy() or _PROCESS_ENTRY:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(EXIT_INTERRUPTED)
    return EXIT_INTERRUPTED


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["trace"]:
        # Runs the user's script: before anything below changes the process
        # (garbage collector thresholds, stream error handlers) under it.
        from ..runtime.run import main as trace

        return trace(argv[1:])
    # A short-lived batch run: let the cyclic garbage collector run rarely.
    # Importing libcst and parsing allocate millions of objects and almost no
    # cycles, so the default thresholds only rescan them (as mypy does).
    gc.set_threshold(200_000, 30, 30)
    configure_output_streams()
    try:
        return _main(argv)
    except (UsageError, ConfigError, SelectionError, SettingsError) as exc:
        print(f"kerasmode-lint: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return _interrupted()
    except BrokenPipeError:
        # The reader went away (``kerasmode-lint src | head``): stop quietly,
        # as flake8 does, without a traceback at interpreter exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FINDINGS


def _main(argv: Optional[Sequence[str]]) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["clean"]:  # a folder named clean is linted as ./clean
        return _clean(build_parser().parse_args(argv[1:]))
    if argv[:1] == ["server"]:  # the language server (kerasmode_lint/frontends/server); ./server for a folder
        from .server import main as serve

        return serve(argv[1:])
    args = build_parser().parse_args(argv)
    if args.list_rules:
        if args.output_format not in ("concise", "text", "json"):
            raise UsageError("--list-rules prints concise or json, not " + args.output_format)
        print(list_rules(args.output_format, _documentation_base(args)))
        return EXIT_CLEAN
    if args.explain:
        codes = [code for value in args.explain for code in split_codes(value)]
        sys.stdout.write("\n".join(explain(code) for code in codes))
        return EXIT_CLEAN
    if args.exit_non_zero_on_fix and not args.fix:
        raise UsageError("--exit-non-zero-on-fix needs --fix")
    if args.show_fixes and not (args.fix or args.diff):
        raise UsageError("--show-fixes needs --fix or --diff")
    if args.jobs is not None and args.jobs < 0:
        raise UsageError("--jobs must be 0 (all cores) or more")
    if args.add_noqa and (args.fix or args.diff):
        raise UsageError("--add-noqa cannot be combined with --fix or --diff")
    if args.statistics and args.output_format not in ("concise", "text", "json"):
        raise UsageError("--statistics prints concise or json, not " + args.output_format)
    paths = args.paths or ["."]
    stdin = "-" in paths
    if stdin and len(paths) > 1:
        raise UsageError("- (stdin) cannot be combined with other paths")
    if args.stdin_filename is not None and not stdin:
        raise UsageError("--stdin-filename needs - (stdin) as the path")
    resolver = Resolver(overrides_from(args))
    cache_dir = run_cache_dir(args, resolver)
    jobs = args.jobs if args.jobs is not None else int(resolver.run_config().get("jobs", 0))
    caches: Dict[str, LintCache] = {}

    def cache_for(task) -> Optional[LintCache]:
        if task[2].changes_files or task[2].diff or cache_dir is None:
            return None  # runs that write or diff files always lint afresh
        if cache_dir not in caches:
            caches[cache_dir] = LintCache(cache_dir)
        return caches[cache_dir]

    job = Job(
        fix=args.fix or args.diff, unsafe=args.unsafe_fixes, add_noqa=args.add_noqa,
        diff=args.diff, write=not (args.diff or stdin),
    )
    error = False
    if stdin and args.show_files:
        print(args.stdin_filename or "-")
        return EXIT_CLEAN
    if stdin:
        name = args.stdin_filename or "-"
        data = sys.stdin.buffer.read()
        # Settings as for a file of that name; no name: as for a file in the working folder.
        where = name if args.stdin_filename else os.path.join(os.getcwd(), "-")
        if args.show_settings:
            print(show_settings([(where, data)], resolver, cache_dir, args.verbose))
            return EXIT_CLEAN
        results = [lint_task(name, data, resolver.options_for(where), job)]
    else:
        tasks: List[Task] = []
        seen = set()
        for path in paths:
            plan = resolver.plan_for(path)  # the walk's excludes: the config nearest the path
            found = discover(
                [path], exclude=plan.exclude, extend_exclude=plan.extend_exclude,
                force_exclude=plan.force_exclude, respect_gitignore=plan.respect_gitignore,
                suffixes=(".py", ".ipynb"),
            )
            for missing in found.missing:
                if missing == "":
                    print("kerasmode-lint: error: an empty path names no file (use . for this folder)",
                          file=sys.stderr)
                else:
                    print(f"kerasmode-lint: error: {missing}: {_missing_reason(missing)}", file=sys.stderr)
                error = True
            named = os.path.isfile(path)
            for file in found.files:
                if file not in seen and (named or not _excluded_by_own_config(file, plan, resolver)):
                    seen.add(file)
                    tasks.append((file, resolver.options_for(file), job))
        if args.show_settings:
            files = []
            for file, _, _ in tasks:
                try:
                    files.append((file, read_source(file)))
                except OSError:  # the settings still apply; lint reports the file as KM001
                    files.append((file, None))
            print(show_settings(files, resolver, cache_dir, args.verbose))
            return EXIT_ERROR if error else EXIT_CLEAN
        if args.show_files:
            for task in sorted(tasks, key=lambda task: task[0]):
                print(task[0])
            return EXIT_ERROR if error else EXIT_CLEAN
        with progress.Progress(len(tasks), sys.stderr, enabled=not args.quiet) as meter:
            results = runner.run(tasks, lint_task, jobs, cache_for, meter.advance)
        for cache in caches.values():
            cache.prune()

    diagnostics: List[Diagnostic] = []
    fixed = silenced = 0
    diffs = []
    for result in sorted(results, key=lambda r: r.path):
        error |= result.internal_error
        diagnostics.extend(result.diagnostics)
        fixed += result.fixed
        silenced += result.noqa_added
        if result.diff:
            diffs.append(result.diff)
    diagnostics.sort(key=Diagnostic.sort_key)

    findings_out = sys.stdout
    if stdin and job.changes_files and not args.diff:
        # An editor pipes the file through us: the source goes to stdout.
        output = results[0].output
        sys.stdout.buffer.write(output if output is not None else data)
        sys.stdout.flush()
        findings_out = sys.stderr
    output_file = None
    if args.output_file:
        try:
            output_file = open(args.output_file, "w", encoding="utf-8", newline="")
        except OSError as exc:
            raise UsageError(f"--output-file {args.output_file}: {(exc.strerror or str(exc)).lower()}") from None
        findings_out = output_file
    try:
        _write_findings(args, findings_out, diagnostics, diffs, results, stdin and data,
                        _documentation_base(args, resolver.plans()))
    finally:
        if output_file is not None:
            output_file.close()
    if args.show_fixes:
        for result in sorted(results, key=lambda r: r.path):
            if result.fixed:
                verb = "would get" if args.diff else "got"
                print(f"{result.path}: {verb} {reporting.plural(result.fixed, 'fix')}", file=sys.stderr)
    if not args.quiet:
        summary = _summary(args, diagnostics, fixed, silenced)
        if summary:
            print(summary, file=sys.stderr)
    if error:
        return EXIT_ERROR
    if args.exit_non_zero_on_fix and fixed:
        return EXIT_FINDINGS  # ruff's flag: beats --exit-zero, so hooks see the change
    if (diagnostics or (args.diff and fixed)) and not args.exit_zero:
        return EXIT_FINDINGS
    return EXIT_CLEAN


def _clean(args) -> int:
    """``kerasmode-lint clean [--cache-dir D] [--config F]``: remove the cache
    folder the settings name (only if it holds nothing but cache files)."""
    from ..engine.cache import clean

    cache_dir = run_cache_dir(args, Resolver(overrides_from(args)))
    if cache_dir is None:
        print("kerasmode-lint: no cache to remove (--no-cache)", file=sys.stderr)
        return EXIT_CLEAN
    try:
        print(f"kerasmode-lint: {clean(cache_dir)}", file=sys.stderr)
    except OSError as exc:
        print(f"kerasmode-lint: error: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_ERROR
    return EXIT_CLEAN


def _documentation_base(args, plans: Sequence[Plan] = ()) -> Optional[str]:
    """--documentation-url, else the first config's, else the package's."""
    configured = next((plan.documentation_url for plan in plans if plan.documentation_url), None)
    return args.documentation_url or configured or reporting.documentation_base()


def _write_findings(args, stream, diagnostics, diffs, results, stdin_data, doc_base) -> None:
    style = reporting.Style(args.output_format in reporting.TEXT_FORMATS
                            and reporting.use_colour(args.color, stream))
    if args.diff:
        reporting.write(sys.stdout, reporting.colour_diff("".join(diffs), style))
        return
    if args.statistics:
        reporting.write(stream, reporting.statistics_report(diagnostics, args.output_format, args.unsafe_fixes))
        return
    fixed_output = {r.path: r.output for r in results if r.output is not None}

    def source_lines(path: str) -> Optional[List[str]]:
        # What the positions refer to: the fixed text when --fix changed it.
        data = fixed_output.get(path)
        if data is None and stdin_data is not False and path == (args.stdin_filename or "-"):
            data = stdin_data
        if data is None:
            try:
                data = read_source(path)
            except OSError:
                return None
        return data.decode("utf-8", "replace").splitlines()

    reporting.write(stream, reporting.report(diagnostics, args.output_format, style, source_lines, doc_base))


def _summary(args, diagnostics: Sequence[Diagnostic], fixed: int, silenced: int) -> str:
    plural = reporting.plural
    files = len({d.path for d in diagnostics})
    remaining = f"{plural(len(diagnostics), 'problem')} in {plural(files, 'file')}"
    lines = []
    if not diagnostics and not fixed and not silenced:
        return ""
    if args.diff:
        lines.append(f"Would fix {plural(fixed, 'problem')}" + (f"; {remaining} would remain." if diagnostics else "."))
    elif args.fix:
        lines.append(f"Fixed {plural(fixed, 'problem')}" + (f"; {remaining} left." if diagnostics else "."))
    elif args.add_noqa:
        lines.append(f"Added noqa comments for {plural(silenced, 'finding')}"
                     + (f"; {remaining} left." if diagnostics else "."))
    elif diagnostics:
        lines.append(f"Found {remaining}.")
    if diagnostics and not args.add_noqa:
        hint = reporting.fixable_hint(diagnostics, args.unsafe_fixes)
        if hint:
            lines.append(hint)
    return "\n".join(lines)
