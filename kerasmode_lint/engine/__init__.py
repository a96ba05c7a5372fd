"""The engine: settings, files, parsing, the rule pipeline, fixes, noqa, cache and the process pool; it knows no particular rule."""
