"""kerasmode-lint: a static linter for mistakes with Keras's ``training`` mode."""
import os as _os
import sys as _sys

# `python -m kerasmode_lint` puts the working folder first on sys.path: a
# linted project's dataclasses.py or tomllib.py would be imported, and run,
# in place of the standard library's. Take it off before importing anything
# (os and sys are loaded before sys.path is read), unless this package itself
# was found there (a source checkout, whose worker processes need it).
if (
    _sys.argv[:1] == ["-m"] and _sys.path
    and _os.path.abspath(_sys.path[0] or _os.curdir) == _os.getcwd()
    and _os.path.dirname(_os.path.dirname(_os.path.abspath(__file__))) != _os.getcwd()
):
    del _sys.path[0]

__version__ = "0.1.0"

from .engine.diagnostics import Diagnostic  # noqa: E402

__all__ = ["Diagnostic", "lint_source", "__version__"]


def __getattr__(name):
    # The engine imports libcst (slow to load): only when it is used, so that
    # the flake8 plugin costs nothing on files that cannot match.
    if name == "lint_source":
        from .engine.lint import lint_source

        return lint_source
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
