"""libcst_loader: libcst imported with its metadata package's init deferred,
and libcst.metadata still working exactly as before for anyone who uses it."""
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_metadata_providers_are_not_imported_by_linting():
    out = run("""
        import sys
        from kerasmode_lint import lint_source
        found = lint_source(open("examples/custom_training_loop.py").read(), "t.py", keras_version="3")
        print([d.code for d in found] == ["KM101"], "libcst.metadata.scope_provider" in sys.modules)
    """)
    assert out == ["True", "False"]


def test_libcst_metadata_works_as_usual_afterwards():
    out = run("""
        import sys
        from kerasmode_lint.engine.libcst_loader import load
        cst = load()
        assert sys.modules["libcst.metadata"] is cst.metadata
        from libcst.metadata import MetadataWrapper, PositionProvider, ScopeProvider
        import libcst.metadata.scope_provider as scopes
        wrapper = MetadataWrapper(cst.parse_module("x = 1\\ny = x\\n"))
        where = wrapper.resolve(PositionProvider)[wrapper.module.body[1]]
        scope = wrapper.resolve(ScopeProvider)[wrapper.module.body[1].body[0].value]
        print(where.start.line, "x" in scope, scopes.ScopeProvider is ScopeProvider,
              "PositionProvider" in dir(cst.metadata), hasattr(cst.metadata, "nothing_of_that_name"))
    """)
    assert out == ["2", "True", "True", "True", "False"]


def test_an_already_imported_libcst_is_left_alone():
    out = run("""
        import libcst, libcst.metadata
        from kerasmode_lint.engine.libcst_loader import load
        print(load() is libcst, "libcst.metadata.scope_provider" in __import__("sys").modules)
    """)
    assert out == ["True", "True"]
