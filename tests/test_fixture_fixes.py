"""Every fix on every fixture: applying all of them (safe and unsafe) gives
code that parses, and a second fix run changes nothing. Runs under each
``--keras-version`` setting, since the rules that fire differ."""
import os
import sys

import pytest

from kerasmode_lint.autofix import PythonFile, fix_file
from kerasmode_lint.engine import LintOptions, decode, parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_harness import FIXTURES_DIR, KERAS_VERSIONS, fixture_files  # noqa: E402


@pytest.mark.parametrize("keras_version", KERAS_VERSIONS)
@pytest.mark.parametrize(
    "path", fixture_files(),
    ids=[p.relative_to(FIXTURES_DIR).as_posix() for p in fixture_files()])
def test_fixes_parse_and_a_second_pass_changes_nothing(path, keras_version):
    options = LintOptions(keras_version=keras_version)
    original = PythonFile(str(path), path.read_bytes())
    first, result, applied = fix_file(original, options, unsafe=True)
    assert not result.internal_error, [d.message for d in result.diagnostics if d.code == "KM001"]
    parse(decode(first.data))
    assert not any(d.fix for d in result.diagnostics), "fixable findings left after fixing"
    second, _, again = fix_file(first, options, unsafe=True)
    assert again == 0 and second.data == first.data
    flagged = {d.code for d in original.lint(options).diagnostics if d.fix is not None}
    if flagged:
        assert applied and first.data != original.data
