"""Small helpers shared by the unit tests."""
import textwrap

from kerasmode_lint import lint_source


def findings(source: str, version: str = "3", **kwargs):
    """(line, code) pairs reported for dedented ``source``."""
    diags = lint_source(textwrap.dedent(source), "example.py", keras_version=version, **kwargs)
    return [(d.line, d.code) for d in diags]


def codes(source: str, version: str = "3", **kwargs):
    return [code for _, code in findings(source, version, **kwargs)]
