"""The documentation stands on its own: nothing shipped points outside the
repository, every link from a rule page into docs/semantics.md lands on an
anchor, every fixture the facts cite exists, and the wheel carries the file
the pages link to."""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEMANTICS = ROOT / "docs" / "semantics.md"
# Notes kept outside the repository while the rules were written.
OUTSIDE_NOTES = re.compile(r"SEMANTICS\.md|REALWORLD\.md|\.\./shared|\bSEMANTICS R\d|\bREALWORLD\b")


def shipped_files():
    """What users see: the package, the rule pages, the docs and the README."""
    files = [ROOT / "README.md"]
    files += sorted((ROOT / "kerasmode_lint").rglob("*.py"))
    files += sorted((ROOT / "rules").glob("*.md"))
    files += sorted((ROOT / "docs").rglob("*.md"))
    return files


@pytest.mark.parametrize("path", shipped_files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_nothing_shipped_cites_notes_outside_the_repository(path):
    hits = [f"{n}: {line.strip()}" for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
            if OUTSIDE_NOTES.search(line)]
    assert not hits, "cites a file the repository does not have:\n" + "\n".join(hits)


def anchors():
    return set(re.findall(r'<a id="([^"]+)"></a>', SEMANTICS.read_text(encoding="utf-8"))) | {
        re.sub(r"[^\w\- ]", "", h).strip().lower().replace(" ", "-")
        for h in re.findall(r"^#+ (.+)$", SEMANTICS.read_text(encoding="utf-8"), re.M)
    }


def test_every_page_link_into_semantics_lands_on_an_anchor():
    known = anchors()
    links = []
    for page in sorted((ROOT / "rules").glob("*.md")) + [SEMANTICS]:
        for target in re.findall(r"\]\(([^)]*semantics\.md[^)]*|#[^)]+)\)", page.read_text(encoding="utf-8")):
            if page != SEMANTICS and not target.startswith("../docs/semantics.md"):
                continue
            links.append((page.name, target))
    assert links, "no page links to docs/semantics.md"
    broken = [(page, t) for page, t in links if "#" in t and t.split("#", 1)[1] not in known]
    assert not broken, f"links to anchors docs/semantics.md lacks: {broken}"


def test_every_fact_names_a_fixture_that_exists():
    text = SEMANTICS.read_text(encoding="utf-8")
    named = re.findall(r"`(fixtures/KM\d{3}/\w+\.py)`", text)
    assert len(named) > 40
    missing = sorted({n for n in named if not (ROOT / n).is_file()})
    assert not missing, f"docs/semantics.md names fixtures that do not exist: {missing}"
    ids = re.findall(r'<a id="r(\d+)"></a>', text)
    assert ids == [str(n) for n in range(1, len(ids) + 1)] and len(ids) >= 16, ids
    sections = re.split(r'<a id="r\d+"></a>', text)[1:]
    for body in sections:
        assert "*Measured by:*" in body, body.splitlines()[1]


def test_the_wheel_ships_the_semantics_page_beside_the_rule_pages():
    # The pages link to ../docs/semantics.md; installed, they live in
    # kerasmode_lint/rule_pages, so docs/ must ship as kerasmode_lint/docs.
    try:
        import tomllib
    except ModuleNotFoundError:  # Python < 3.11
        import tomli as tomllib
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    assert {"kerasmode_lint.rule_pages", "kerasmode_lint.docs"} <= set(setuptools["packages"])
    assert setuptools["package-dir"]["kerasmode_lint.rule_pages"] == "rules"
    assert setuptools["package-dir"]["kerasmode_lint.docs"] == "docs"
    assert "*.md" in setuptools["package-data"]["kerasmode_lint.docs"]
