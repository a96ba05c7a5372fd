"""Every fix on every fixture: applying all of them (safe and unsafe) gives
code that parses, and a second fix run changes nothing. Runs under each
``--keras-version`` setting, since the rules that fire differ."""
import os
import sys

import pytest

from kerasmode_lint.engine.autofix import PythonFile, fix_file
from kerasmode_lint.engine.lint import LintOptions, decode, parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_harness import (  # noqa: E402
    FIX_VERSION,
    FIXTURES_DIR,
    KERAS_VERSIONS,
    fixed_source,
    fixture_files,
    parse_observations,
)
from kerasmode_lint.rules import RULES_BY_CODE  # noqa: E402


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


FLAGGED = [p for p in fixture_files() if p.name.startswith("flagged_")]


@pytest.mark.parametrize("path", FLAGGED, ids=[p.relative_to(FIXTURES_DIR).as_posix() for p in FLAGGED])
def test_a_fixable_fixture_declares_what_its_fixed_program_does(path):
    """Where the rule fixes a flagged fixture under a flavour's Keras version,
    the fixture declares what the fixed program prints (test_fixture_runtime
    runs it), and only there; the fix changes what some flavour observes; a
    ``fixed_<same name>.py`` beside it observes the same."""
    rule = RULES_BY_CODE[path.parent.name]
    before = parse_observations(path)
    after = parse_observations(path, after_fix=True)
    for flavour in before:
        _, applied = fixed_source(path, flavour)
        if applied:
            assert rule.fix_safety is not None
            assert flavour in after, f"fixed under {flavour} (--keras-version {FIX_VERSION[flavour]}): declare '# observe-after-fix({flavour}): ...'"
        else:
            assert flavour not in after, f"no fix under {flavour}, yet '# observe-after-fix({flavour})' is declared"
    assert set(after) <= set(before)
    if after:
        assert any(after[f] != before[f] for f in after), "the fix changes nothing observed"
    twin = path.with_name(path.name.replace("flagged_", "fixed_", 1))
    if twin.exists():
        for flavour, pairs in after.items():
            assert parse_observations(twin).get(flavour) == pairs, twin.name
