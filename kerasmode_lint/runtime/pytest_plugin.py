"""The pytest plugin (entry point ``pytest11``): the ``kerasmode_mode_report``
fixture traces the Keras calls a test makes, so that the test can assert on
the modes they ran in::

    def test_bn_trains(kerasmode_mode_report):
        model.fit(x, y)
        fit = kerasmode_mode_report.layers("fit", kind="batchnorm")
        assert fit and all(row["stats_moved"] for row in fit)

Nothing is imported (not even this package's runtime) until a test asks
for the fixture.
"""
import pytest


class ModeReport:
    """What the test's run recorded so far (read again at each access)."""

    def data(self):
        from . import RECORDER
        from .instrument import checkpoint
        from .report import build

        checkpoint()
        return build(RECORDER)

    def phases(self, kind=None):
        return [p for p in self.data()["phases"] if kind is None or p["phase"] == kind]

    def layers(self, phase=None, kind=None):
        """Rows of the phases of this kind (fit, predict, custom-step, call, ...)."""
        return [row for p in self.phases(phase) for row in p["layers"] if kind is None or row["kind"] == kind]

    @property
    def findings(self):
        return self.data()["findings"]

    def text(self):
        from .report import render_text

        return render_text(self.data())


@pytest.fixture
def kerasmode_mode_report():
    from . import RECORDER, install
    from .instrument import restart

    was_active = RECORDER.active
    install()
    restart()
    try:
        yield ModeReport()
    finally:
        RECORDER.active = was_active
