"""KM103 evaluation-with-training-true (docs/semantics.md R15, R3).

``training=True`` while measuring: in an overridden ``test_step`` /
``predict_step``, or in evaluation/inference code (a function named like
evaluate/validate/test/predict/infer that has no GradientTape and no
optimizer step, or a loop over validation/test data without either). Dropout
drops and BatchNormalization normalises with batch statistics and *updates*
its moving statistics, so the numbers are noisy and evaluating changes the
model, in Keras 2 and 3 alike.

Precision: only a literal ``training=True`` on a call with a positional
input of a model or layer object (``model``, ``self``, ``self.net``), so
model builders and dataset factories that take a ``training`` keyword
(``YoloV3(size, training=True)``, ``input_fn(training=True)``,
``make_dataset(path, training=True)``, imported or defined functions) are
not calls of a model. Monte Carlo dropout — a call inside a loop or
comprehension over ``range(...)`` (or a ``while``), or in a function named
like a sampler (mc, sample, dropout, uncertainty, bayes …) — is left alone
unless the model is known to hold BatchNormalization. Augmentation layers (a
name with "aug", or an object built only from augmentation/preprocessing
layers) and calls in lambdas (``ds.map(lambda x, y: …)``) are data
pipelines. Test files and methods of test classes are not evaluation code.

Fix (unsafe): ``training=True`` becomes ``training=False``; none for the Monte
Carlo form, whose fix (a Dropout that forces its own mode) is not an edit of
the call.

Outside evaluation-named code (R20): ``training=True`` in a GradientTape whose
gradients train nothing (no optimizer step in the function, ``tape.gradient``
sources that are not variables/weights/params: Grad-CAM, saliency), Monte
Carlo sampling over a model known to hold BatchNormalization, and calls on
data named like validation/test data over a model known to hold Dropout or
BatchNormalization. Calls whose result is discarded (re-estimating BN
statistics) and calls inside a model's ``call``/``train_step`` are left alone.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Set, Tuple

import libcst as cst

from ..analysis import keras_knowledge as kk
from ..engine.fixes import Fix, replace
from ..analysis.keras_knowledge import Tri
from ..analysis.model_contents import KINDS, Contents
from ..analysis.names import dotted
from ..engine import screens
from ..engine.rule import Rule
from ..analysis.subclasses import ClassContents, ClassInfo
from ..engine.versions import ALL, KERAS3_TO_315
from ..engine.walker import iter_descendants
from ._effects import training_brief, training_effect, unpinned

# What training mode in evaluation does, by whether the model is known to hold BatchNormalization.
_CONSEQUENCE = {Tri.YES: "the results are noisy and evaluating changes the model",
                Tri.NO: "the results are noisy",
                Tri.UNKNOWN: "the results are noisy and evaluating may change the model"}

_TAPE = "tensorflow.GradientTape"
_APPLY = frozenset({"apply_gradients", "minimize", "stateless_apply"})
_STEPS = frozenset({"test_step", "predict_step"})
_EVAL_WORDS = frozenset(
    {"eval", "evaluate", "evaluation", "valid", "validate", "validation", "val", "test",
     "testing", "predict", "prediction", "predictions", "infer", "inference"}
)
_LOOP_WORDS = frozenset({"val", "valid", "validation", "test", "testing", "eval", "evaluation"})
_SAMPLER_WORDS = frozenset(
    {"mc", "mcd", "sample", "samples", "sampling", "sampler", "dropout", "uncertainty",
     "uncertain", "monte", "carlo", "bayes", "bayesian", "stochastic", "ensemble", "tta"}
)
_BUILDER_PREFIXES = ("get_", "build_", "make_", "create_", "load_", "prepare_", "preprocess")
_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]+")


def _words(name: str) -> Set[str]:
    return {w.lower() for w in _WORD.findall(name)}


@dataclass
class _Frame:
    node: cst.CSTNode  # FunctionDef, or a For loop over evaluation data
    kind: str  # "step", "named", "loop", "class" or "other"
    cls: Optional[cst.ClassDef] = None
    sampler: bool = False  # named like a Monte Carlo sampler (mc, sample, uncertainty …)
    trains: bool = False  # a GradientTape or an optimizer step inside
    steps: bool = False  # an optimizer step (or backward) inside
    # tape name -> code of the sources of each ``tape.gradient(target, sources)``
    gradients: Dict[str, List[str]] = field(default_factory=dict)


@dataclass
class _Candidate:
    call: cst.Call
    callee: str
    frames: List[_Frame]
    sampling: bool


@dataclass
class _InferenceCandidate:
    """``training=True`` outside evaluation-named code (R20): in a tape that
    trains nothing ("attribution"), a sampling loop ("sampling"), or on data
    named like validation/test data ("data")."""
    call: cst.Call
    callee: str
    kind: str
    scope: _Frame  # the innermost function (or the module)
    tape: str = ""


# The story behind KM103's findings outside evaluation-named functions.
_INFERENCE_EXPLANATION = (
    "`training=True` runs every layer of the model in training mode, wherever the call is: Dropout "
    "drops, and BatchNormalization normalises with the batch's statistics and overwrites its moving "
    "statistics with them, so the model changes by being used. On validation or test data, in a "
    "GradientTape that trains nothing (Grad-CAM, saliency), or in Monte Carlo sampling over a model "
    "with BatchNormalization, pass `training=False` (for Monte Carlo dropout, make only the Dropout "
    "layers random) (docs/semantics.md)."
)


class EvaluationWithTrainingTrue(Rule):
    code = "KM103"
    name = "evaluation-with-training-true"
    summary = (
        "`training=True` in evaluation or inference code: Dropout drops and "
        "BatchNormalization uses batch statistics and updates its moving statistics while measuring"
    )
    versions = ALL
    fix_safety = "unsafe"

    def __init__(self, context) -> None:
        super().__init__(context)
        self.test_file = screens.is_test_file(context.path or "")
        self.frames: List[_Frame] = []
        # Every function met, and the names of those that train: what a training
        # function calls, directly or not (a gradient penalty), is training code.
        # The call graph is built only if an attribution tape needs it.
        self.function_nodes: List[cst.FunctionDef] = []
        self.training_functions: Set[str] = set()
        self._training_code: Optional[Set[str]] = None
        self.classes: List[cst.ClassDef] = []
        self.loops: List[bool] = []  # innermost last: does it draw samples (range/while)?
        self.lambdas = 0
        self.imported: Set[str] = set()
        self.functions: Set[str] = set()
        self.candidates: List[_Candidate] = []
        self.module_frame = _Frame(cst.Module(body=()), "module")
        self.tapes: List[str] = []  # names of the GradientTapes the walk is inside
        self.discarded: Set[int] = set()  # calls whose value is thrown away
        self.targets: Dict[int, Set[str]] = {}  # call -> words of the names it is assigned to
        self.inference: List[_InferenceCandidate] = []
        # (model, code of the loop's iterable) of calls with training=False:
        # the same data run both ways is a deliberate with/without comparison.
        self.compared: Set[Tuple[str, str]] = set()

    # -- names bound by imports and defs (not model objects) --------------------------
    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            bound = alias.asname.name if alias.asname else alias.name
            name = dotted(bound)
            if name:
                self.imported.add(name.split(".", 1)[0])

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if isinstance(node.names, cst.ImportStar):
            return
        for alias in node.names:
            bound = alias.asname.name if alias.asname else alias.name
            name = dotted(bound)
            if name:
                self.imported.add(name)

    # -- contexts -----------------------------------------------------------------------
    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.classes.append(node)
        self.frames.append(_Frame(node, "class"))

    def leave_ClassDef(self, node: cst.ClassDef) -> None:
        self.classes.pop()
        self.frames.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        name = node.name.value
        self.functions.add(name)
        parent = self.frames[-1] if self.frames else None
        in_class = parent is not None and parent.kind == "class"
        test_class = in_class and "test" in parent.node.name.value.lower()
        words = _words(name)
        if in_class and name in _STEPS:
            kind = "step"
        elif not self.test_file and not test_class and words & _EVAL_WORDS:
            kind = "named"
        else:
            kind = "other"
        cls = self.classes[-1] if in_class else None
        self.frames.append(_Frame(node, kind, cls, sampler=bool(words & _SAMPLER_WORDS)))
        self.loops.append(False)  # a new function: no enclosing loop inside it yet

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        frame = self.frames.pop()
        self.loops.pop()
        self.function_nodes.append(node)
        if frame.steps or frame.trains or node.name.value == "train_step":
            self.training_functions.add(node.name.value)

    def visit_For(self, node: cst.For) -> None:
        self.loops.append(_draws_samples(node.iter, node.target))
        words: Set[str] = set()
        for part in (node.iter, node.target):
            for sub in _self_and_descendants(part):
                if isinstance(sub, cst.Name):
                    words |= _words(sub.value)
        evaluating = not self.test_file and bool(words & _LOOP_WORDS) and not self._in_test_class()
        self.frames.append(_Frame(node, "loop" if evaluating else "other"))

    def leave_For(self, node: cst.For) -> None:
        self.loops.pop()
        self.frames.pop()

    def visit_While(self, node: cst.While) -> None:
        self.loops.append(True)

    def leave_While(self, node: cst.While) -> None:
        self.loops.pop()

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self.loops.append(_draws_samples(node.iter, node.target))

    def leave_CompFor(self, node: cst.CompFor) -> None:
        self.loops.pop()

    # A comprehension's element is walked before its ``for``: note the loop first.
    def visit_ListComp(self, node: cst.ListComp) -> None:
        self.loops.append(_draws_samples(node.for_in.iter, node.for_in.target))

    def leave_ListComp(self, node: cst.ListComp) -> None:
        self.loops.pop()

    def visit_GeneratorExp(self, node: cst.GeneratorExp) -> None:
        self.loops.append(_draws_samples(node.for_in.iter, node.for_in.target))

    def leave_GeneratorExp(self, node: cst.GeneratorExp) -> None:
        self.loops.pop()

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self.lambdas += 1

    def leave_Lambda(self, node: cst.Lambda) -> None:
        self.lambdas -= 1

    def visit_With(self, node: cst.With) -> None:
        tapes = [i for i in node.items if isinstance(i.item, cst.Call) and self.resolve(i.item.func) == _TAPE]
        if tapes:
            self._trains()
            alias = tapes[0].asname
            self.tapes.append(dotted(alias.name) or "" if alias is not None else "")

    def leave_With(self, node: cst.With) -> None:
        if any(isinstance(i.item, cst.Call) and self.resolve(i.item.func) == _TAPE for i in node.items):
            self.tapes.pop()

    def visit_Expr(self, node: cst.Expr) -> None:
        if isinstance(node.value, cst.Call):
            self.discarded.add(id(node.value))

    def visit_Assign(self, node: cst.Assign) -> None:
        if isinstance(node.value, cst.Call):
            words: Set[str] = set()
            for target in node.targets:
                for sub in _self_and_descendants(target.target):
                    if isinstance(sub, cst.Name):
                        words |= _words(sub.value)
            self.targets[id(node.value)] = words

    def _scope(self) -> _Frame:
        for frame in reversed(self.frames):
            if isinstance(frame.node, cst.FunctionDef):
                return frame
        return self.module_frame

    # -- calls --------------------------------------------------------------------------
    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute):
            attr = func.attr.value
            if (
                attr in _APPLY
                or attr == "backward"
                or (attr == "apply" and "opt" in (dotted(func.value) or "").lower())
            ):
                self._trains()
                for frame in (*self.frames, self.module_frame):
                    frame.steps = True
            if attr == "gradient" and len(node.args) >= 2:
                tape = dotted(func.value) or ""
                sources = self.context.module.code_for_node(node.args[1].value)
                self._scope().gradients.setdefault(tape, []).append(sources)
        if _training_false(node):
            loop = self._innermost_loop()
            if loop is not None:
                self.compared.add((dotted(node.func) or "", self.context.module.code_for_node(loop.iter)))
        if not _training_true(node) or self.lambdas:
            return
        frames = [f for f in self.frames if f.kind in ("step", "named", "loop")]
        if not frames:
            self._inference_candidate(node)
            return
        callee = self._model_callee(node)
        if callee is None:
            return
        sampling = (bool(self.loops) and self.loops[-1]) or any(f.sampler for f in frames)
        self.candidates.append(_Candidate(node, callee, frames, sampling))

    def _inference_candidate(self, node: cst.Call) -> None:
        """``training=True`` outside evaluation-named code: kept when it sits
        in a tape, a sampling loop, or runs on validation/test data."""
        if self.test_file or self._in_test_class() or any(f.kind == "class" for f in self.frames[-1:]):
            return
        if any(isinstance(f.node, cst.FunctionDef) and f.node.name.value in ("train_step", "call")
               for f in self.frames):
            return  # the model's own code: other rules judge it
        if id(node) in self.discarded:
            return  # run for its side effects (re-estimating BN statistics), not to use the output
        callee = self._model_callee(node)
        if callee is None:
            return
        scope = self._scope()
        if self.tapes:
            self.inference.append(_InferenceCandidate(node, callee, "attribution", scope, self.tapes[-1]))
        elif (bool(self.loops) and self.loops[-1]) or any(f.sampler for f in self.frames):
            self.inference.append(_InferenceCandidate(node, callee, "sampling", scope))
        elif self.targets.get(id(node), set()) & _LOOP_WORDS or self._input_words(node) & _LOOP_WORDS:
            self.inference.append(_InferenceCandidate(node, callee, "data", scope))

    def _input_words(self, call: cst.Call) -> Set[str]:
        words: Set[str] = set()
        for arg in call.args:
            if arg.keyword is None and not arg.star:
                for sub in _self_and_descendants(arg.value):
                    if isinstance(sub, cst.Name):
                        words |= _words(sub.value)
                break
        return words

    def _trains(self) -> None:
        for frame in self.frames:
            frame.trains = True

    def _in_test_class(self) -> bool:
        return any("test" in c.name.value.lower() for c in self.classes)

    def _model_callee(self, call: cst.Call) -> Optional[str]:
        """The model or layer object called, or None for builders, factories,
        functions and augmentation layers."""
        callee = dotted(call.func)
        if callee is None:
            return None  # Dropout(0.5)(x, training=True): a graph node, not evaluation code
        if not any(a.keyword is None and not a.star for a in call.args):
            return None  # input_fn(training=True): no input tensor, not a layer call
        last = callee.rsplit(".", 1)[-1]
        head = callee.split(".", 1)[0]
        if last[:1].isupper() or last.startswith(_BUILDER_PREFIXES) or last.endswith(
            ("_fn", "dataset", "loader", "generator", "Generator")
        ):
            return None
        if callee in self.imported or head in self.imported or self.resolve(call.func) is not None:
            return None
        if callee in self.functions:
            return None
        if "aug" in callee.lower() or self._augmentation_only(callee):
            return None
        return callee

    def _augmentation_only(self, name: str) -> bool:
        pairs = self.context.models.index.assignments.get(name, [])
        return bool(pairs) and all(self._is_augmentation(value) for _, value in pairs)

    def _is_augmentation(self, node: cst.CSTNode) -> bool:
        if not isinstance(node, cst.Call):
            return False
        qualified = self.resolve(node.func) or ""
        last = qualified.rsplit(".", 1)[-1]
        if qualified.startswith("keras.layers.") and last in kk.AUGMENTATION:
            return True
        if qualified.startswith("keras.") and last == "Sequential" and node.args:
            layers = node.args[0].value
            if isinstance(layers, (cst.List, cst.Tuple)) and layers.elements:
                kinds = []
                for element in layers.elements:
                    value = element.value
                    inner = self.resolve(value.func) if isinstance(value, cst.Call) else None
                    kinds.append((inner or "").rsplit(".", 1)[-1])
                return any(k in kk.AUGMENTATION for k in kinds) and all(
                    k in kk.AUGMENTATION or k in kk.MODE_FREE for k in kinds
                )
        return False

    # -- verdict --------------------------------------------------------------------------
    def _innermost_loop(self) -> Optional[cst.For]:
        for frame in reversed(self.frames):
            if isinstance(frame.node, cst.For):
                return frame.node
        return None

    def leave_Module(self, node: cst.Module) -> None:
        self._judge_inference()
        for candidate in self.candidates:
            frame = self._evaluation_frame(candidate.frames)
            if frame is None:
                continue
            if isinstance(frame.node, cst.For) and (
                dotted(candidate.call.func) or "", self.context.module.code_for_node(frame.node.iter)
            ) in self.compared:
                continue  # also run with training=False over the same data: a comparison
            if candidate.sampling:
                if self._contents(candidate.callee, frame, batchnorm=True) is not Tri.YES:
                    continue  # Monte Carlo dropout on a model without BatchNormalization
                self.report(candidate.call, f"`{candidate.callee}(...)` is sampled with `training=True`, which also moves its "
                            "BatchNorm stats; make only the dropout random",
                            explanation=self._sampling_message(candidate.callee))
                continue
            if self._contents(candidate.callee, frame) is Tri.NO:
                continue  # nothing in it behaves differently in training mode
            seen = unpinned(self._seen(candidate.callee, frame, candidate.call), self.context.keras_version)
            if self._pins_hold(seen):
                continue  # every mode-dependent node pins its own mode: training=True changes nothing
            self.report(candidate.call, self._brief(candidate.callee, frame, seen),
                        explanation=self._message(candidate.callee, frame, seen),
                        fix=_use_training_false(candidate.call))

    def _judge_inference(self) -> None:
        for candidate in self.inference:
            scope = candidate.scope
            if self._single_layer(candidate.callee):
                continue  # ``bn(x, training=True)`` on one layer: a demonstration, on purpose
            if candidate.kind == "attribution":
                sources = scope.gradients.get(candidate.tape, [])
                if scope.steps or not sources or any(_trained_sources(s) for s in sources):
                    continue  # the tape trains something, or its gradients are not seen
                if isinstance(scope.node, cst.FunctionDef) and scope.node.name.value in self._called_in_training():
                    continue  # a gradient penalty or input gradient computed for a training step
                if self._contents(candidate.callee, scope, at=candidate.call) is Tri.NO:
                    continue
                where = "in a tape that trains nothing"
            elif candidate.kind == "sampling":
                holds_batchnorm = self._contents(candidate.callee, scope, batchnorm=True, at=candidate.call)
                if scope.trains or holds_batchnorm is not Tri.YES:
                    continue  # MC dropout over a model without BatchNormalization is deliberate
                reached = unpinned(self.context.models.contents_of_name(candidate.callee, at=candidate.call),
                                   self.context.keras_version)
                if reached.batchnorm is Tri.NO:
                    continue  # its BatchNormalization sits behind a node pin that holds here
                self.report(candidate.call, (
                    f"`{candidate.callee}(...)` samples Monte Carlo dropout with `training=True`, "
                    "which also moves its BatchNormalization statistics"
                ), explanation=_INFERENCE_EXPLANATION)
                continue
            else:
                if self._contents(candidate.callee, scope, at=candidate.call) is not Tri.YES:
                    continue  # only a model known to hold Dropout or BatchNormalization
                whole = self.context.models.contents_of_name(candidate.callee, at=candidate.call)
                if self._pins_hold(whole) or unpinned(whole, self.context.keras_version).any is Tri.NO:
                    continue  # its nodes pin their own mode
                where = "on validation or test data"
            self.report(candidate.call, (
                f"`{candidate.callee}(...)` gets `training=True` {where}: "
                f"{self._effects(candidate.callee, scope, candidate.call)}"
            ), explanation=_INFERENCE_EXPLANATION)

    def _pins_hold(self, seen: Contents) -> bool:
        """Does every mode-dependent node of the model pin its own mode, so a
        ``training=True`` on the whole changes nothing? A Dropout pinned to
        True drops in every version; other literal pins hold in Keras 2 and
        3.16+, while Keras 3.0-3.15 let the outer call override them (R1)."""
        if seen.node_pins == "true":
            return True
        return seen.node_pins == "literal" and self.context.keras_version not in KERAS3_TO_315

    def _single_layer(self, callee: str) -> bool:
        """Is ``callee`` bound only to ``keras.layers.X(...)`` (one layer, not a model)?"""
        if "." in callee:
            return False
        index = self.context.models.index
        values = [v for _, v in index.values(index.assignments, callee, None)]
        return bool(values) and all(
            isinstance(v, cst.Call) and (self.resolve(v.func) or "").startswith("keras.layers.")
            for v in values
        )

    def _called_in_training(self) -> Set[str]:
        if self._training_code is None:
            calls: Dict[str, Set[str]] = {}
            for function in self.function_nodes:
                called = calls.setdefault(function.name.value, set())
                called.update((dotted(sub.func) or "").rsplit(".", 1)[-1]
                              for sub in iter_descendants(function.body) if isinstance(sub, cst.Call))
            reached, todo = set(), list(self.training_functions)
            while todo:
                for name in calls.get(todo.pop(), ()):
                    if name not in reached:
                        reached.add(name)
                        todo.append(name)
            self._training_code = reached
        return self._training_code

    def _effects(self, callee: str, scope: _Frame, at: Optional[cst.Call] = None) -> str:
        """What training mode does to this model, as far as the file shows."""
        parts = []
        reached = unpinned(self.context.models.contents_of_name(callee, at=at), self.context.keras_version)
        if self._contents(callee, scope, kind="dropout", at=at) is Tri.YES and reached.dropout is not Tri.NO:
            parts.append("Dropout drops")
        if self._contents(callee, scope, kind="batchnorm", at=at) is Tri.YES and reached.batchnorm is not Tri.NO:
            parts.append("BatchNormalization statistics move")
        if not parts:
            return "any Dropout drops, any BatchNormalization statistics move"
        return ", ".join(parts)

    def _evaluation_frame(self, frames: List[_Frame]) -> Optional[_Frame]:
        """The innermost enclosing evaluation context that trains nothing."""
        for frame in reversed(frames):
            if frame.kind == "step" or not frame.trains:
                return frame
        return None

    def _contents(self, callee: str, frame: _Frame, batchnorm: bool = False, kind: str = "",
                  at: Optional[cst.Call] = None) -> Tri:
        models = self.context.batchnorm if batchnorm else self.context.models
        if kind:
            models = self.context.models.view(kind)
        cls = frame.cls
        if cls is not None and (callee == "self" or callee.startswith("self.")):
            contents = ClassContents(ClassInfo.of(cls), self.context.models, self.context.imports)
            if callee == "self":
                return contents.of_self(models)
            if callee.count(".") == 1:
                return contents.of_attribute(callee.split(".", 1)[1], models)
            return Tri.UNKNOWN
        return models.of_name(callee, at=at)

    def _seen(self, callee: str, frame: _Frame, call: cst.Call):
        """Per kind, what the called model holds (for the message only)."""
        models = self.context.models
        if frame.cls is not None and (callee == "self" or callee.startswith("self.")):
            contents = ClassContents(ClassInfo.of(frame.cls), models, self.context.imports)
            seen = contents.contents_of_callee(callee)
            if callee == "self" and seen.any is Tri.UNKNOWN:
                # A functional subclass: the graphs it is instantiated with.
                scopes = [models.index.scope_of_call.get(id(c)) for c in contents.instantiations()]
                if scopes and None not in scopes:
                    return Contents(**{kind: Tri.any_of(models.of_scope(s, kind) for s in scopes) for kind in KINDS if kind != "any"})
            return seen
        seen = models.contents_of_name(callee, at=call)
        if seen.any is Tri.UNKNOWN:
            # A parameter (``evaluate(model, data)``): what the module's calls pass.
            seen = models.contents_of_parameter(callee, call) or seen
        return seen

    def _brief(self, callee: str, frame: _Frame, seen) -> str:
        if frame.kind in ("step", "named"):
            where = f"`{frame.node.name.value}`"
        else:
            where = "an evaluation loop"
        return f"`{callee}(...)` runs in training mode in {where} ({training_brief(seen)}); use `training=False`"

    def _message(self, callee: str, frame: _Frame, seen) -> str:
        if frame.kind == "step":
            where = f"`{frame.node.name.value}`"
            runner = "evaluate()" if frame.node.name.value == "test_step" else "predict()"
            what = f"{runner} runs this step"
        elif frame.kind == "named":
            where = f"`{frame.node.name.value}`, which evaluates or predicts without training anything"
            what = "this code measures the model"
        else:
            where = "a loop over evaluation data that trains nothing"
            what = "this code measures the model"
        return (
            f"`{callee}(...)` is called with `training=True` in {where}: {what}, but "
            f"{training_effect(seen)}, so {_CONSEQUENCE[seen.batchnorm]}. "
            f"Use `training=False`: `{callee}(..., training=False)`."
        )

    def _sampling_message(self, callee: str) -> str:
        return (
            f"`{callee}(...)` is sampled with `training=True` (Monte Carlo dropout), but it holds "
            "BatchNormalization: every sample also normalises with the batch's statistics and "
            "updates the moving statistics, so the model changes while it is measured. Keep "
            "`training=False` for the model and make only the dropout stochastic (a Dropout "
            "subclass whose `call` passes `training=True`)."
        )


def _use_training_false(call: cst.Call) -> Fix:
    """``training=True`` -> ``training=False`` (only the ``True``)."""
    [value] = [a.value for a in call.args if a.keyword is not None and a.keyword.value == "training"]
    return Fix.unsafe("Use `training=False`", [replace(value, "False")])


def _training_false(call: cst.Call) -> bool:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == "training":
            return isinstance(arg.value, cst.Name) and arg.value.value == "False"
    return False


def _training_true(call: cst.Call) -> bool:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == "training":
            return isinstance(arg.value, cst.Name) and arg.value.value == "True"
    return False


_TRAINED_SOURCES = re.compile(r"trainable|variables|weights|params|parameters", re.I)


def _trained_sources(code: str) -> bool:
    """``model.trainable_variables``, ``self.weights``, ``params``: a tape
    that computes gradients for training, not for attribution."""
    return _TRAINED_SOURCES.search(code) is not None


def _draws_samples(iterable: cst.CSTNode, target: cst.CSTNode) -> bool:
    """``for _ in range(n)`` / ``for i in tqdm(range(n))`` / ``for _ in ...``."""
    if isinstance(target, cst.Name) and target.value.startswith("_"):
        return True
    node = iterable
    while isinstance(node, cst.Call):
        name = dotted(node.func) or ""
        if name.rsplit(".", 1)[-1] in ("range", "arange", "trange"):
            return True
        node = node.args[0].value if node.args else None
    return False


def _self_and_descendants(node: cst.CSTNode):
    yield node
    yield from iter_descendants(node)
