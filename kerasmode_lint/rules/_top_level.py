"""Shared by KM306 and KM307: is a subclassed model used only as a layer?

Not a rule. A model class instantiated only as a sublayer of another model (or
called directly, as a layer) gets ``training`` from the outer call context, so
what ``fit`` does to a top-level model of that class (docs/semantics.md R6,
R19) does not happen to it.
"""
from __future__ import annotations

import libcst as cst

from ..analysis.names import dotted
from ..analysis.subclasses import TRAINING_ENTRY_POINTS
from ..engine.walker import iter_descendants


def only_nested(context, name: str) -> bool:
    """Class ``name`` is used in the file only as a layer (a sublayer of
    another model, a Sequential element, or called directly), with no
    fit/evaluate/predict/compile of its own."""
    index = context.models.index
    nested = top_level = False
    variables = set()
    for target, pairs in index.assignments.items():
        for _, value in pairs:
            if instantiates(value, name):
                if target.startswith("self."):
                    nested = True
                else:
                    variables.add(target)
            elif isinstance(value, (cst.List, cst.Tuple)) and any(
                instantiates(e.value, name) for e in value.elements
            ):
                nested = True
    for calls in index.scope_calls.values():
        for call in calls:
            func = call.func
            if isinstance(func, cst.Call) and instantiates(func, name):
                nested = True  # Block(...)(x): a layer of a graph
            elif dotted(func) in variables:
                nested = True  # block = Block(); block(x): called directly, as a layer
            elif isinstance(func, cst.Attribute) and func.attr.value in TRAINING_ENTRY_POINTS:
                receiver = func.value
                if dotted(receiver) in variables or instantiates(receiver, name):
                    top_level = True
            elif _is_sequential(context, func) and any(
                instantiates(sub, name) for arg in call.args for sub in iter_descendants(arg)
            ):
                nested = True
    return nested and not top_level


def mode_free_by_construction(cls: cst.ClassDef, attr: str, classes) -> bool:
    """``self.attr`` is an instance of a class of this file whose ``call``
    takes no ``training`` (nor ``**kwargs``) and calls no sublayer: its
    random ops (``keras.random.dropout``) run whatever the mode."""
    for node in iter_descendants(cls.body):
        if not isinstance(node, cst.Assign) or len(node.targets) != 1:
            continue
        if dotted(node.targets[0].target) != f"self.{attr}" or not isinstance(node.value, cst.Call):
            continue
        target = classes.get(dotted(node.value.func) or "")
        if target is None:
            return False
        for member in target.body.body:
            if isinstance(member, cst.FunctionDef) and member.name.value == "call":
                params = member.params
                names = {p.name.value for p in (*params.params, *params.kwonly_params, *params.posonly_params)}
                if "training" in names or isinstance(params.star_kwarg, cst.Param):
                    return False
                return not any(
                    isinstance(n, cst.Call) and (dotted(n.func) or "").startswith("self.")
                    and (dotted(n.func) or "").count(".") == 1
                    for n in iter_descendants(member.body)
                )
        return False
    return False


def _is_sequential(context, func: cst.CSTNode) -> bool:
    qualified = context.imports.resolve(func) or ""
    return qualified.startswith("keras.") and qualified.endswith(".Sequential")


def instantiates(node: cst.CSTNode, name: str) -> bool:
    return isinstance(node, cst.Call) and dotted(node.func) == name
