"""``kerasmode-lint server``: the linter as a language server over stdio.

Diagnostics as you type, quick fixes, "fix all" and notebooks, with the
settings and the lint the command line uses for the same file. Needs the
``server`` extra (pygls and lsprotocol); the linter itself does not.
"""
from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence

EXIT_ERROR = 2
MISSING = ("kerasmode-lint: error: the server needs pygls, which is not installed: "
           "pip install 'kerasmode-lint[server]'")


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line and exit 2, as the command line's errors
        raise _UsageError(message)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = _Parser(
        prog="kerasmode-lint server",
        description="Run the language server on stdin/stdout (started by an editor). "
                    "Settings come from the same configs as the command line; see the README.")
    # Some clients add --stdio to any server's command: stdio is the only transport.
    parser.add_argument("--stdio", action="store_true", help="talk over stdin/stdout (the default and only way)")
    try:
        parser.parse_args(list(argv or []))
    except _UsageError as exc:
        print(f"kerasmode-lint: error: server: {exc}", file=sys.stderr)
        return EXIT_ERROR
    try:
        import lsprotocol  # noqa: F401
        import pygls  # noqa: F401
    except ImportError:
        print(MISSING, file=sys.stderr)
        return EXIT_ERROR
    from ...engine import lint as engine
    from ...engine.parse_cache import StatementCache
    from .app import server

    # Each keystroke re-lints the whole file: re-parse only the statements
    # that changed (the module is the one a whole parse gives).
    engine.use_statement_cache(StatementCache())
    server.start_io()
    return 0
