"""The front ends: the command line, the flake8 plugin and the language server."""
