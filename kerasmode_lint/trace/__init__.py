"""``python -m kerasmode_lint.trace script.py args...``: the runtime twin's
command (``kerasmode-lint trace``); everything it does is in
kerasmode_lint/runtime/."""
