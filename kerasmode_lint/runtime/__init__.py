"""The run-time twin of the static rules: what a run of real Keras did.

``kerasmode-lint trace script.py`` (or ``python -m kerasmode_lint.trace``)
runs a script with Keras instrumented and prints, per phase of the run, the
``training`` value each mode-dependent layer received and what it did, then
the findings the run shows, with the static rules' codes. ``ModeMonitor`` is
the same as a Keras callback; ``kerasmode_mode_report`` (the pytest plugin)
hands the report to a test.

Nothing here imports Keras or TensorFlow until the program does; importing
this package imports nothing at all until a name is used (the pytest plugin
is loaded into every test session of an environment that has the package).
"""
from __future__ import annotations


def finish():
    """Close the run: count what is still open; the report's data."""
    from . import recorder as rec
    from .recorder import RECORDER
    from .report import build

    if RECORDER.stack:
        for entry in list(reversed(RECORDER.stack)):
            rec.exit_phase(RECORDER, entry)
    RECORDER.boundary()
    RECORDER.close_window()
    return build(RECORDER)


def __getattr__(name):
    if name == "ModeMonitor":
        from .monitor import ModeMonitor

        return ModeMonitor
    if name in ("install", "uninstall"):
        from . import instrument

        return getattr(instrument, name)
    if name == "RECORDER":
        from .recorder import RECORDER

        return RECORDER
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["install", "uninstall", "finish", "ModeMonitor", "RECORDER"]
