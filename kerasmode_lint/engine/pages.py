"""The rule pages (the top-level ``rules/`` catalogue), for ``--explain``.

Installed, they ship inside the package as ``kerasmode_lint.rule_pages``; in a
source checkout or an editable install they are read from ``rules/``.
"""
from __future__ import annotations

import os
from typing import Optional


def page_text(code: str) -> Optional[str]:
    name = f"{code}.md"
    try:
        from importlib.resources import files

        resource = files("kerasmode_lint.rule_pages").joinpath(name)
        if resource.is_file():
            return resource.read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError, NotADirectoryError, TypeError):
        pass  # not installed as a regular package: fall back to the checkout
    checkout = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # engine/ -> package -> checkout
    path = os.path.join(checkout, "rules", name)
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    return None
