"""``ModeMonitor()``: the trace as a Keras callback, for a run that cannot be
started through ``kerasmode-lint trace`` (a notebook, a launcher).

    model.fit(x, y, callbacks=[ModeMonitor()])

At the end of the fit it prints the report (``print_report=False`` to keep
quiet) and keeps it as ``monitor.report`` (the JSON form, a dict). The
callback instruments Keras when the fit begins, so what the fit calls
(its train steps, its validation) is traced; calls before it are not.
"""
from __future__ import annotations

import sys
from typing import Any, Dict, Optional


def _callback_base():
    """The Callback class of the Keras the program uses: ``tf.keras`` (which
    follows TF_USE_LEGACY_KERAS) when TensorFlow is loaded, else Keras 3."""
    tf = sys.modules.get("tensorflow")
    if tf is not None:
        return tf.keras.callbacks.Callback
    import keras

    return keras.callbacks.Callback


_CLASSES: Dict[Any, type] = {}


def ModeMonitor(print_report: bool = True, output_format: str = "text", file=None):  # noqa: N802 (a class to its users)
    base = _callback_base()
    cls = _CLASSES.get(base)
    if cls is None:
        cls = _CLASSES[base] = type("ModeMonitor", (_MonitorMixin, base), {})
    return cls(print_report=print_report, output_format=output_format, file=file)


class _MonitorMixin:
    def __init__(self, print_report: bool = True, output_format: str = "text", file=None):
        super().__init__()
        self.print_report = print_report
        self.output_format = output_format
        self.file = file
        self.report: Optional[Dict[str, Any]] = None
        self._entry = None
        self._owned = False

    def on_train_begin(self, logs=None):
        from . import recorder as rec
        from .instrument import _INSTALLED, RECORDER, install, restart, user_site

        if not RECORDER.active:
            self._owned = True
            install()
            restart()
        if not any(entry["model"] is self.model for entry in RECORDER.stack):
            flavour = next(iter(_INSTALLED.values()), None)
            if flavour is not None:
                self._entry = rec.enter_phase(RECORDER, self.model, "fit", flavour, user_site())

    def on_train_end(self, logs=None):
        from . import recorder as rec
        from .instrument import RECORDER, checkpoint
        from .report import build, render

        if self._entry is not None:
            rec.exit_phase(RECORDER, self._entry)
            self._entry = None
        checkpoint()
        self.report = build(RECORDER)
        if self._owned:
            RECORDER.active = False  # later calls run untraced; the patches stay (cheap when inactive)
        if self.print_report:
            (self.file or sys.stderr).write(render(self.report, self.output_format))
