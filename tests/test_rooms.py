"""The package's rooms and which way they may lean on each other: the front
ends use the engine, the rules use the analysis and the engine; the engine
never reaches into a front end or names a particular rule, and the analysis
answers questions without knowing which rule asks."""
import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "kerasmode_lint"
ROOMS = ("engine", "analysis", "rules", "frontends", "runtime")
# room -> rooms it must not import from. The runtime twin (kerasmode-lint
# trace) is a room of its own: it reads the rule registry for codes and
# names, and nothing static imports it.
FORBIDDEN = {
    "engine": {"frontends", "runtime"},
    "analysis": {"frontends", "rules", "runtime"},
    "rules": {"frontends", "runtime"},
    "runtime": {"frontends", "analysis"},
}


def imported_modules(path: Path, package_folder: Path = PACKAGE):
    """(line, module, names) of every import in ``path`` (at any depth),
    relative imports made absolute."""
    own = ["kerasmode_lint", *path.relative_to(package_folder).with_suffix("").parts]
    package = own[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names = [alias.name for alias in node.names]
            yield node.lineno, target, names
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, []


def room_of(dotted: str):
    parts = dotted.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "kerasmode_lint" and parts[1] in ROOMS else None


def test_every_module_lives_in_a_room():
    loose = sorted(p.name for p in PACKAGE.glob("*.py") if p.name not in ("__init__.py", "__main__.py"))
    assert loose == [], "give these a room: engine/, analysis/, rules/ or frontends/"


def wrong_imports(room: str, package_folder: Path = PACKAGE):
    wrong = []
    for path in sorted((package_folder / room).rglob("*.py")):
        for line, target, names in imported_modules(path, package_folder):
            for dotted in [target] + [f"{target}.{n}" for n in names]:
                if room_of(dotted) in FORBIDDEN[room] or (room == "engine" and dotted.startswith("kerasmode_lint.rules.km")):
                    wrong.append(f"{path.relative_to(package_folder)}:{line} imports {dotted}")
                    break  # one line per import statement
    return wrong


@pytest.mark.parametrize("room", sorted(FORBIDDEN))
def test_a_room_does_not_lean_the_wrong_way(room):
    """Nor does the engine name a particular rule (it asks the registry)."""
    assert wrong_imports(room) == []


@pytest.mark.parametrize("text, found", [
    ("from ..frontends import reporting\n", "kerasmode_lint.frontends"),
    ("def f():\n    from ..frontends.reporting import escape_control\n", "kerasmode_lint.frontends.reporting"),
    ("from .. import frontends\n", "kerasmode_lint.frontends"),
    ("from ..rules import km101_tape_call_without_training\n", "kerasmode_lint.rules.km101_tape_call_without_training"),
    ("import kerasmode_lint.frontends.cli\n", "kerasmode_lint.frontends.cli"),
])
def test_the_check_sees_an_import_that_leans_the_wrong_way(tmp_path, text, found):
    folder = tmp_path / "kerasmode_lint"
    (folder / "engine").mkdir(parents=True)
    (folder / "engine" / "stray.py").write_text(text)
    (folder / "engine" / "fine.py").write_text("from . import walker\nfrom ..rules import load_all\n")
    wrong = wrong_imports("engine", folder)
    assert len(wrong) == 1 and wrong[0].startswith("engine/stray.py:") and wrong[0].endswith(found), wrong
