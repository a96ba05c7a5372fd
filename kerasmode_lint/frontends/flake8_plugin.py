"""The flake8 plugin (entry point ``flake8.extension``, prefix ``KM``).

flake8 runs every installed plugin on every file, selected or not, so the
plugin first runs the byte prefilter on the text flake8 already read
(prefilter.could_match over triggers.py, which loads without libcst); a file
no rule can match costs a few searches, and the linter itself (libcst, slow to
import) is loaded only when the first file that could match arrives.
flake8 has already parsed the file (it hands every tree plugin the ``ast``),
so the engine's own syntax check is skipped. Columns are returned 0-based;
flake8 adds 1 when it prints them, giving the same ``line:col`` as
``kerasmode-lint``. Each file gets the settings ``kerasmode-lint`` itself
would give it (settings.Resolver: the nearest kerasmode-lint config, the
project's Keras decision, the backend), so both report the same findings;
flake8's own selection and per-file-ignores then apply on top, and
``--keras-version`` / ``--keras-python`` on flake8's command line or under
``[flake8]`` override the config.
"""
from __future__ import annotations

import argparse
import os
import re
from typing import Iterator, List, Tuple

from .. import __version__
from ..engine.prefilter import could_match

# Starts with a literal "#": the regex engine skips ahead fast.
_NOQA = re.compile(r"#\s*noqa", re.IGNORECASE)
_OUR_CODE = re.compile(r"KM\d", re.IGNORECASE)


def has_our_noqa(text: str) -> bool:
    """Is there a ``# noqa`` followed on its line by a KM code? Each line is
    read from its first ``# noqa`` only (a later one sees less of it), so no
    text makes this slow."""
    read_to = -1
    for match in _NOQA.finditer(text):
        if match.start() < read_to:
            continue
        read_to = text.find("\n", match.end())
        if read_to < 0:
            read_to = len(text)
        if _OUR_CODE.search(text, match.end(), read_to):
            return True
    return False


def _keras_version(value: str) -> str:
    """argparse type: flake8 applies it to config values too, so a bad value
    is a one-line usage error there as well."""
    value = str(value).strip()
    if value.lower() != "auto":
        from ..engine.versions import parse_keras_version

        try:
            parse_keras_version(value)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    return value


class Plugin:
    name = "kerasmode-lint"
    version = __version__

    keras_version = None
    python = None
    disable_noqa = False
    _resolver = None

    def __init__(self, tree, filename: str, lines: List[str]) -> None:
        # ``tree`` is required by flake8 to class this as a tree plugin; it
        # costs nothing here (flake8 builds it anyway) and is not used.
        self.filename = filename
        self.lines = lines

    @classmethod
    def add_options(cls, manager) -> None:
        manager.add_option(
            "--keras-version", default=None, type=_keras_version, parse_from_config=True,
            help="kerasmode-lint: Keras version to lint against: 2, 3, X.Y[.Z] or auto "
                 "(default: keras-version in the kerasmode-lint config, else auto)",
        )
        manager.add_option(
            "--keras-python", default=None, parse_from_config=True,
            help="kerasmode-lint: the project's interpreter or environment folder (as --python)",
        )

    @classmethod
    def parse_options(cls, options) -> None:
        cls.keras_version = options.keras_version
        cls.python = getattr(options, "keras_python", None)
        cls.disable_noqa = bool(getattr(options, "disable_noqa", False))
        cls._resolver = None

    @classmethod
    def resolver(cls):
        if cls._resolver is None:
            from ..engine.settings import Overrides, Resolver

            cls._resolver = Resolver(Overrides(
                keras_version=cls.keras_version, python=cls.python, disable_noqa=cls.disable_noqa,
                origin="flake8",
            ))
        return cls._resolver

    def run(self) -> Iterator[Tuple[int, int, str, type]]:
        text = "".join(self.lines)
        path = None if self.filename in ("stdin", "-") else self.filename
        data = text.encode("utf-8", "surrogatepass")
        if not could_match(data, path or "") and not has_our_noqa(text):
            return  # nothing can match, and no "# noqa: KM…" for KM002 to judge
        from ..engine.config import ConfigError
        from ..engine.lint import lint_text
        from ..engine.selection import SelectionError
        from ..engine.settings import SettingsError

        try:
            options = self.resolver().options_for(path or os.path.join(os.getcwd(), "-"))
        except (ConfigError, SelectionError, SettingsError) as exc:  # one line, not a traceback
            yield 1, 0, f"KM001 kerasmode-lint settings: {exc}", type(self)
            return
        for diag in lint_text(text, path or "-", options, syntax_checked=True).diagnostics:
            yield diag.line, diag.column - 1, f"{diag.code} {diag.message}", type(self)
