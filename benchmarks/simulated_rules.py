"""Run kerasmode-lint with extra do-nothing rules registered, to see what
broader trigger words and more rules would cost before those rules exist.

    python benchmarks/simulated_rules.py --rules 15 --triggers training,trainable -- [kerasmode-lint args]
    python benchmarks/simulated_rules.py --rules 0 --no-syntax-check -- [kerasmode-lint args]

Each simulated rule is parsed for any file containing one of the trigger words
and has the handlers a typical rule has (calls, attributes, assignments,
functions, classes, with blocks); it never reports anything. ``--no-syntax-check`` drops CPython's syntax
check of the files the prefilter skips (so they can no longer get KM001), to
measure what that guarantee costs. The benchmark uses this; it is not part of
the package.
"""
from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def make_rule(number: int, triggers):
    import libcst as cst

    from kerasmode_lint.rule import Rule
    from kerasmode_lint.versions import ALL

    class SimulatedRule(Rule):
        code = f"KM9{number:02d}"
        name = f"simulated-{number}"
        summary = "simulated rule (benchmark only)"
        versions = ALL

        def __init__(self, context) -> None:
            super().__init__(context)
            self.depth = 0
            self.names = {}

        def visit_FunctionDef(self, node) -> None:
            self.depth += 1

        def leave_FunctionDef(self, node) -> None:
            self.depth -= 1

        def visit_ClassDef(self, node) -> None:
            self.names[node.name.value] = node

        def visit_Assign(self, node) -> None:
            target = node.targets[0].target
            if isinstance(target, cst.Name):
                self.names[target.value] = node.value

        def visit_With(self, node) -> None:
            self.depth += 1

        def leave_With(self, node) -> None:
            self.depth -= 1

        def visit_Attribute(self, node) -> None:
            if node.attr.value == "__simulated__":
                self.report(node)

        def visit_Call(self, node) -> None:
            for arg in node.args:
                if arg.keyword is not None and arg.keyword.value == "__simulated__":
                    self.report(node)

    SimulatedRule.triggers = tuple(triggers)
    return SimulatedRule


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rules", type=int, default=15)
    parser.add_argument("--triggers", default="training,trainable")
    parser.add_argument("--no-syntax-check", action="store_true")
    parser.add_argument("lint_args", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    triggers = [w.encode() for w in args.triggers.split(",") if w]
    from kerasmode_lint import rules, triggers as index

    for number in range(args.rules):
        rule = make_rule(number, triggers)
        rules.ALL_RULES.append(rule)
        rules.RULES_BY_CODE[rule.code] = rule
        index.TRIGGERS[rule.code] = rule.triggers
    if args.no_syntax_check:
        from kerasmode_lint import engine

        engine._syntax_check = lambda text: None
    from kerasmode_lint.cli import main as lint

    lint_args = args.lint_args[1:] if args.lint_args[:1] == ["--"] else args.lint_args
    return lint(lint_args)


if __name__ == "__main__":
    sys.exit(main())
