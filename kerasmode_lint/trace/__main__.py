"""``python -m kerasmode_lint.trace script.py args...``: the same as
``kerasmode-lint trace script.py args...`` (kerasmode_lint/runtime/run.py)."""
import sys

from ..runtime.run import main

sys.exit(main(prog="python -m kerasmode_lint.trace"))
