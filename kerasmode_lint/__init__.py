"""kerasmode-lint: a static linter for mistakes with Keras's ``training`` mode."""
__version__ = "0.1.0"

from .diagnostics import Diagnostic  # noqa: E402
from .engine import lint_source  # noqa: E402

__all__ = ["Diagnostic", "lint_source", "__version__"]
