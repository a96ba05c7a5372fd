"""kerasmode-lint: a static linter for mistakes with Keras's ``training`` mode."""
__version__ = "0.1.0"

from .diagnostics import Diagnostic  # noqa: E402

__all__ = ["Diagnostic", "lint_source", "__version__"]


def __getattr__(name):
    # The engine imports libcst (slow to load): only when it is used, so that
    # the flake8 plugin costs nothing on files that cannot match.
    if name == "lint_source":
        from .engine import lint_source

        return lint_source
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
