"""Every fixture is linted under each ``--keras-version`` setting and must
give exactly the findings its ``# expect`` comments declare (and none on
lines without one). See fixtures/README.md."""
import os
import sys

import pytest

from kerasmode_lint import lint_source

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_harness import (  # noqa: E402
    FIXTURES_DIR,
    KERAS_VERSIONS,
    fixture_files,
    parse_expectations,
)


@pytest.mark.parametrize("keras_version", KERAS_VERSIONS)
@pytest.mark.parametrize(
    "path", fixture_files(),
    ids=[p.relative_to(FIXTURES_DIR).as_posix() for p in fixture_files()])
def test_fixture_lints_as_declared(path, keras_version):
    expected = parse_expectations(path)[keras_version]
    diags = lint_source(path.read_bytes(), filename=str(path),
                        keras_version=keras_version)
    reported = {(d.line, d.code) for d in diags}
    details = "\n".join(f"  {path.name}:{d.line}:{d.column}: {d.code} {d.message}"
                        for d in sorted(diags, key=lambda d: (d.line, d.column)))
    assert reported == expected, (
        f"{path.name} --keras-version {keras_version}\n"
        f"  missing:    {sorted(expected - reported)}\n"
        f"  unexpected: {sorted(reported - expected)}\n"
        f"reported:\n{details or '  (nothing)'}")
