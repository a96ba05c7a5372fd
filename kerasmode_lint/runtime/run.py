"""``kerasmode-lint trace script.py args...``: run a script as
``python script.py args...`` would (its ``sys.argv``, ``__main__``, folder on
``sys.path``, exit code and traceback), with Keras instrumented, then print
the trace report to stderr (the script owns stdout) or to ``--output-file``.
"""
from __future__ import annotations

import argparse
import os
import sys
import traceback
from typing import List, Optional, Sequence

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        print(f"kerasmode-lint trace: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def build_parser(prog: str) -> argparse.ArgumentParser:
    p = _Parser(prog=prog, description="Run a Python script as `python script.py args...` would, and report "
                "which mode each Keras layer ran in, per phase (fit, evaluate, predict, custom training steps, "
                "direct calls), with the findings the run shows.")
    p.add_argument("--output-format", choices=("text", "json"), default="text",
                   help="text (tables and findings, default) or json")
    p.add_argument("-o", "--output-file", metavar="PATH", help="write the report to PATH instead of stderr")
    p.add_argument("script", help="the Python script to run")
    p.add_argument("args", nargs=argparse.REMAINDER, help="the script's own arguments")
    return p


def main(argv: Optional[Sequence[str]] = None, prog: str = "kerasmode-lint trace") -> int:
    args = build_parser(prog).parse_args(list(sys.argv[1:] if argv is None else argv))
    script = args.script
    if not os.path.isfile(script):
        reason = "[Errno 21] Is a directory" if os.path.isdir(script) else "[Errno 2] No such file or directory"
        print(f"{prog}: can't open file {os.path.abspath(script)!r}: {reason}", file=sys.stderr)
        return EXIT_USAGE
    code = run_script(script, args.args)
    _report(args.output_format, args.output_file, prog)
    return code


def run_script(script: str, script_args: List[str]) -> int:
    """Run ``script`` traced; its exit code (1 after an uncaught exception,
    whose traceback is printed as Python prints it, from the script's frame on)."""
    from . import install

    path = os.path.abspath(script)
    # `python script.py` puts the script's folder first on sys.path, in place
    # of what the launcher put there (the console script's folder, or the
    # working folder for -m); an entry of PYTHONPATH stays.
    launcher = os.path.dirname(os.path.abspath(sys.argv[0])) if sys.argv and sys.argv[0] else None
    if sys.path and sys.path[0] in ("", os.getcwd(), launcher):
        sys.path[0] = os.path.dirname(path)
    else:
        sys.path.insert(0, os.path.dirname(path))
    sys.argv = [script, *script_args]
    install()
    try:
        _run_as_main(path)
    except SystemExit as exc:
        return _exit_code(exc.code)
    except BaseException as exc:  # the script's own error: shown as Python shows it
        tb = exc.__traceback__
        while tb is not None and os.path.abspath(tb.tb_frame.f_code.co_filename) != path:
            tb = tb.tb_next
        sys.stdout.flush()
        traceback.print_exception(type(exc), exc, tb)  # no frame of its own (a SyntaxError): as Python prints it
        return 130 if isinstance(exc, KeyboardInterrupt) else 1
    finally:
        sys.stdout.flush()
    return 0


def _run_as_main(path: str) -> None:
    """What the interpreter does with ``python script.py``: a fresh
    ``__main__`` module in sys.modules (so that pickle and multiprocessing
    find the script's classes), ``__file__`` absolute, ``sys.argv[0]`` as typed."""
    import builtins
    import importlib.machinery
    import types

    with open(path, "rb") as handle:
        source = handle.read()
    code = compile(source, path, "exec", dont_inherit=True)
    module = types.ModuleType("__main__")
    module.__dict__.update(__file__=path, __builtins__=builtins, __cached__=None, __spec__=None,
                           __loader__=importlib.machinery.SourceFileLoader("__main__", path))
    _KEEP.append(sys.modules.get("__main__"))  # the launcher's own __main__ stays alive
    sys.modules["__main__"] = module
    exec(code, module.__dict__)


_KEEP: list = []


def _exit_code(code) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def _report(output_format: str, output_file: Optional[str], prog: str) -> None:
    try:
        from . import finish
        from .report import render

        text = render(finish(), output_format)
    except Exception as exc:  # never hide the script's outcome behind our traceback
        print(f"{prog}: internal error while building the report: {type(exc).__name__}: {exc}", file=sys.stderr)
        return
    if output_file:
        try:
            with open(output_file, "w", encoding="utf-8") as handle:
                handle.write(text)
        except OSError as exc:
            print(f"{prog}: error: cannot write {output_file}: {exc.strerror}", file=sys.stderr)
        return
    sys.stderr.write(text)
    sys.stderr.flush()
