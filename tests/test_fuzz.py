"""Fuzzing the engine and every rule: generated programs must lint without
an exception or an internal error (tests/fuzzing.py has the generators and
the invariant). A modest count here, on every run; scripts/fuzz.py runs
10,000 programs and more and reports what it found."""
import hypothesmith
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuzzing import OPTIONS, check, check_fixes, fixture_programs, keras_programs, mutated_programs, with_triggers


def fast(examples):
    return settings(max_examples=examples, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck))


@fast(60)
@given(hypothesmith.from_grammar().map(with_triggers))
def test_valid_python_from_the_grammar(source):
    check(source)


@fast(8)
@given(hypothesmith.from_node().map(with_triggers))
def test_valid_python_from_libcst_nodes(source):
    check(source)


@fast(100)
@given(keras_programs() | fixture_programs(), OPTIONS)
def test_keras_flavoured_programs(source, options):
    check(source, options)


@fast(100)
@given(mutated_programs(), OPTIONS)
def test_broken_keras_flavoured_programs(source, options):
    check(source, options)


@fast(40)
@given(fixture_programs(), OPTIONS, st.sampled_from(["\n", "\r\n", "\r"]))
def test_fixes_on_keras_flavoured_programs(source, options, newline):
    check_fixes(source, options, newline)
