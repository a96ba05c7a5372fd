"""What a traced run shows that contradicts the code's evident intent, under
the static rules' codes (one knowledge base, two modes: the code's name and
page come from the rule registry).

Each check reads only what the run measured: the ``training`` values the
layers received, whether a noise layer changed its input, whether moving
statistics and weights changed between the phase's start and end. A check
that lacks a measurement says nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional

from . import recorder as rec
from .recorder import LayerInfo, LayerPhase, Phase, Recorder, Site

_EVALUATION_KINDS = ("evaluate", "predict", "test_on_batch", "predict_on_batch")


@dataclass
class RuntimeFinding:
    code: str
    site: Optional[Site]
    message: str
    phase: str  # the phase's label in the report

    @property
    def name(self) -> str:
        from ..rules import load

        return load(self.code).name


def phase_label(phase: Phase) -> str:
    names = {"custom-step": "custom training step", "tape": "GradientTape without optimizer step",
             "call": "direct call"}
    label = names.get(phase.kind, phase.kind)
    if phase.nested_in:
        label += f" (inside {phase.nested_in})"
    return f"{label} at {phase.site}" if phase.site else label


def _noisy_idle(info: LayerInfo, record: LayerPhase) -> bool:
    return info.kind in (rec.DROPOUT, rec.NOISE) and record.calls > 0 and record.changed == 0


def _bn_idle(info: LayerInfo, record: LayerPhase) -> bool:
    return info.kind == rec.BATCHNORM and record.calls > 0 and record.stats_moved is False


def _describe(infos: Iterable[LayerInfo], active: bool = False) -> str:
    """What the layers did: never dropped / kept their statistics, or (``active``)
    dropped / updated them."""
    infos = list(infos)
    dropout = [i.path for i in infos if i.kind in (rec.DROPOUT, rec.NOISE)]
    norm = [i.path for i in infos if i.kind == rec.BATCHNORM]
    parts = []
    if dropout:
        parts.append(f"{_names(dropout)} {'dropped' if active else 'never dropped'}")
    if norm:
        their = "its" if len(norm) == 1 else "their"
        parts.append(f"{_names(norm)} {'updated' if active else 'kept'} {their} moving statistics")
    return " and ".join(parts)


def _names(paths: List[str]) -> str:
    shown = ", ".join(f"`{p}`" for p in paths[:3])
    return shown + (f" and {len(paths) - 3} more" if len(paths) > 3 else "")


def _model_name(phase: Phase) -> str:
    return getattr(phase.model, "name", "the model")


def find(recorder: Recorder) -> List[RuntimeFinding]:
    recorder.subtrees = {}
    out: List[RuntimeFinding] = []
    for phase in recorder.phase_order:
        if phase.kind == "custom-step":
            out += _km101(recorder, phase)
        elif phase.kind == "fit" and not phase.nested_in:
            out += _km102(recorder, phase)
            out += _frozen_base(recorder, phase)
        if phase.kind in _EVALUATION_KINDS:
            out += _mc_dropout(recorder, phase)
        if phase.kind == "call":
            out += _bare_call_trains(recorder, phase)
        if phase.kind in rec.TRAINING_KINDS:
            out += _trainable(recorder, phase)
    return _unique(out)  # a phase run from several lines shows the same problem once


def _idle_layers(recorder: Recorder, phase: Phase, contexts=None) -> List[LayerInfo]:
    """Mode-dependent layers that never received ``training=True`` in the
    phase and did not do their training-time work (measured)."""
    idle = []
    for slot, record in phase.layers.items():
        info = recorder.by_slot[slot]
        if contexts is not None and not (record.contexts & contexts):
            continue
        if record.counts[rec.TRUE] == 0 and (_noisy_idle(info, record) or _bn_idle(info, record)):
            idle.append(info)
    return idle


def _km101(recorder: Recorder, phase: Phase) -> List[RuntimeFinding]:
    idle = _idle_layers(recorder, phase)
    if not idle:
        return []
    steps = f"{phase.steps} optimizer step{'s' if phase.steps != 1 else ''}"
    return [RuntimeFinding(
        "KM101", phase.site,
        f"`{_model_name(phase)}` ran in inference mode in a custom training step ({steps}): "
        f"{_describe(idle)}; pass `training=True`", phase_label(phase))]


def _km102(recorder: Recorder, phase: Phase) -> List[RuntimeFinding]:
    """fit() with an overridden train_step whose model call got no ``training=True``."""
    by_site: Dict[Site, List[int]] = {}
    for ctx in recorder.by_context:
        if ctx.kind == "phase" and ctx.site is not None and ctx.site.function == "train_step":
            by_site.setdefault(ctx.site, []).append(ctx.index)
    out = []
    applied = recorder.applied()
    for site, contexts in by_site.items():
        # Only what the step trains: not a frozen teacher, an EMA copy.
        contexts = [c for c in contexts if _trained(recorder, recorder.by_context[c].root, phase.model, applied)]
        idle = _idle_layers(recorder, phase, set(contexts))
        if idle:
            out.append(RuntimeFinding(
                "KM102", site,
                f"`train_step` called the model without `training=True` during fit: {_describe(idle)}; "
                f"pass `training=True`", phase_label(phase)))
    return out


def _trained(recorder: Recorder, root, model, applied) -> bool:
    """An optimizer stepped the called object's variables (or, for a layer
    without any, such as a Dropout, the model's)."""
    flavour = _flavour_of(recorder)
    variables = flavour.all_variables(root) if flavour else []
    if not variables and flavour is not None:
        variables = flavour.all_variables(model)
    return any(id(v) in applied or id(rec.unwrapped(v)) in applied for v in variables)


def _flavour_of(recorder: Recorder):
    from .instrument import _INSTALLED

    return next(iter(_INSTALLED.values()), None)


def _frozen_base(recorder: Recorder, phase: Phase) -> List[RuntimeFinding]:
    """KM201 (KM202 where the node said ``training=False``): a frozen base's
    Dropout dropped during fit, or the BatchNormalization of a base frozen in
    an earlier fit moved its statistics once the base was trained."""
    out = []
    dropped: Dict[int, List[LayerInfo]] = {}
    moved: Dict[int, List[LayerInfo]] = {}
    for slot, record in phase.layers.items():
        info = recorder.by_slot[slot]
        if (info.kind in (rec.DROPOUT, rec.NOISE) and record.frozen == {True} and record.changed
                and record.frozen_root is not None):
            dropped.setdefault(record.frozen_root, []).append(info)
        if info.kind == rec.BATCHNORM and record.stats_moved and record.frozen == {False}:
            earlier = _frozen_earlier(recorder, phase, slot)
            if earlier is not None:
                moved.setdefault(earlier, []).append(info)
    for root, infos in dropped.items():
        base = recorder.all_infos[root]
        code, site, how = _node(recorder, base, phase)
        out.append(RuntimeFinding(
            code, site,
            f"frozen `{base.path}` ran in training mode during fit{how}: {_names([i.path for i in infos])} "
            f"dropped while its weights were frozen", phase_label(phase)))
    for root, infos in moved.items():
        base = recorder.all_infos[root]
        code, site, how = _node(recorder, base, phase)
        out.append(RuntimeFinding(
            code, site,
            f"`{base.path}`, frozen in an earlier fit, ran in training mode once unfrozen{how}: "
            f"{_names([i.path for i in infos])} overwrote the moving statistics", phase_label(phase)))
    return out


def _frozen_earlier(recorder: Recorder, phase: Phase, slot: int) -> Optional[int]:
    for earlier in recorder.phase_order:
        if earlier is phase:
            return None
        record = earlier.layers.get(slot)
        if earlier.kind == "fit" and record is not None and record.frozen == {True} and record.frozen_root is not None:
            return record.frozen_root
    return None


def _node(recorder: Recorder, base: LayerInfo, phase: Phase):
    """KM202 when the base's node was written ``training=False`` (fit
    overrode it), else KM201; reported where the node was built."""
    written = recorder.node_training.get(id(base.layer))
    if written is not None and written[0] is False:
        return "KM202", written[1] or phase.site, " although its node says `training=False`"
    return "KM201", recorder.node_sites.get(id(base.layer)) or phase.site, ""


def _mc_dropout(recorder: Recorder, phase: Phase) -> List[RuntimeFinding]:
    """Dropout meant to sample at inference (``training=True`` on its node,
    or a ``call(..., training=True)`` default) that did not drop."""
    out = []
    for slot, record in phase.layers.items():
        info = recorder.by_slot[slot]
        if not (_noisy_idle(info, record) and record.counts[rec.FALSE]):
            continue
        written = recorder.node_training.get(id(info.layer))
        if written is not None and written[0] is True:
            out.append(RuntimeFinding(
                "KM202", written[1] or phase.site,
                f"`{info.path}` was written `training=True` (Monte-Carlo dropout) but {phase.kind} ran it with "
                f"training=False: it never dropped", phase_label(phase)))
            continue
        owner = _default_true_owner(recorder, info)
        if owner is not None:
            out.append(RuntimeFinding(
                "KM301", owner.class_site or phase.site,
                f"`{owner.class_name}.call` defaults to `training=True`, but {phase.kind} passed False: "
                f"`{info.path}` never dropped", phase_label(phase)))
    return _unique(out)


def _default_true_owner(recorder: Recorder, info: LayerInfo) -> Optional[LayerInfo]:
    candidates = [other for other in recorder.all_infos
                  if other.class_site is not None and other.call_default is True
                  and (info.path == other.path or info.path.startswith(other.path + "/"))]
    return max(candidates, key=lambda other: len(other.path)) if candidates else None


def _bare_call_trains(recorder: Recorder, phase: Phase) -> List[RuntimeFinding]:
    """KM301: a call without ``training=`` ran layers in training mode
    because a user layer's ``call`` defaults to ``training=True``."""
    bare = {ctx.index for ctx in recorder.by_context if not ctx.explicit}
    affected, owners = [], []
    for slot, record in phase.layers.items():
        info = recorder.by_slot[slot]
        if not (record.contexts & bare) or not record.counts[rec.TRUE]:
            continue
        if info.class_site is not None and info.call_default is True:
            owners.append(info)
        if (info.kind in (rec.DROPOUT, rec.NOISE) and record.changed) or (
                info.kind == rec.BATCHNORM and record.stats_moved):
            affected.append(info)
    if not owners or not affected:
        return []
    owner = min(owners, key=lambda info: len(info.path))
    return [RuntimeFinding(
        "KM301", owner.class_site or phase.site,
        f"`{owner.class_name}.call` defaults to `training=True`, so a call without `training=` trained: "
        f"{_describe(affected, active=True)}", phase_label(phase))]


def _trainable(recorder: Recorder, phase: Phase) -> List[RuntimeFinding]:
    """KM501: a training phase that did not follow the ``trainable`` flags
    it started with (weights of a layer set trainable did not change while
    others did, or those of a frozen layer changed), after a change since
    compile. KM502: a training call on a model that trained nothing at all
    although its weights were trainable when it was compiled."""
    out = []
    measured = [m for m in phase.measurements if m["changed"]]
    first = measured[0] if measured and not measured[0].get("previous_flags") else None
    if first is not None and not any(any(m["changed"].values()) for m in measured) and not any(
            first["flags"].values()) and any((first.get("compile_flags") or {}).values()):
        site = _assignment(recorder, [i for i, on in first["compile_flags"].items() if on], False)
        out.append(RuntimeFinding(
            "KM502", site or phase.site,
            f"`{_model_name(phase)}.{phase.kind}` trained none of its weights: they were trainable when it "
            f"was compiled and frozen at its first training call; set `trainable = True` before it",
            phase_label(phase)))
        return out
    for measurement in measured:
        flags, changed = measurement["flags"], measurement["changed"]
        compiled = measurement.get("compile_flags") or {}
        previous = measurement.get("previous_flags") or {}

        def flipped(index: int) -> bool:
            return (index in compiled and compiled[index] != flags[index]) or (
                index in previous and previous[index] != flags[index])

        if not measurement.get("previous_flags"):  # its first training call since compile
            leaked = [i for i, on in flags.items() if on and compiled.get(i) is False and changed.get(i)
                      and _trained_elsewhere_since(recorder, phase.model, i)]
            if leaked:
                site = _assignment(recorder, leaked, True)
                out.append(RuntimeFinding(
                    "KM502", site or phase.site,
                    f"`{_model_name(phase)}.{phase.kind}` trained "
                    f"{_names([recorder.all_infos[i].path for i in leaked])}, frozen when it was compiled: "
                    f"set `trainable = False` again before its first training call",
                    phase_label(phase)))
        ignored_on = [i for i, on in flags.items() if on and changed.get(i) is False and flipped(i)
                      and not _trained_elsewhere_since(recorder, phase.model, i)]
        ignored_off = [i for i, on in flags.items() if not on and changed.get(i) is True and flipped(i)
                       and not _meant_for_another_model(recorder, phase.model, i)]
        if ignored_on and any(changed.values()):
            site = _assignment(recorder, ignored_on, True)
            out.append(RuntimeFinding(
                "KM501", site or phase.site,
                f"{phase.kind} ignored `trainable = True`: "
                f"{_names([recorder.all_infos[i].path for i in ignored_on])} kept "
                f"{'its' if len(ignored_on) == 1 else 'their'} weights; compile again after the change",
                phase_label(phase)))
        if ignored_off:
            site = _assignment(recorder, ignored_off, False)
            out.append(RuntimeFinding(
                "KM501", site or phase.site,
                f"{phase.kind} ignored `trainable = False`: "
                f"{_names([recorder.all_infos[i].path for i in ignored_off])} still trained; "
                f"compile again after the change", phase_label(phase)))
    return _unique(out)


def _assignments(recorder: Recorder, index: int) -> List[tuple]:
    """The program's ``trainable`` assignments that reached the layer: to
    itself or to a layer holding it (a model sharing it counts)."""
    target = id(recorder.all_infos[index].layer)
    out = []
    for assigned in recorder.trainable_sets.values():
        if target in _subtree(recorder, assigned[3], assigned[4]):
            out.append(assigned)
    return out


def _subtree(recorder: Recorder, layer, flavour) -> set:
    cache = recorder.__dict__.setdefault("subtrees", {})  # cleared by each find()
    ids = cache.get(id(layer))
    if ids is None:
        ids, pending = set(), [layer]
        while pending:
            current = pending.pop()
            if id(current) not in ids:
                ids.add(id(current))
                pending.extend(flavour.children(current))
        cache[id(layer)] = ids
    return ids


def _assignment(recorder: Recorder, indices: List[int], value: bool) -> Optional[Site]:
    """The latest ``trainable = value`` assignment to these layers or to a layer holding them."""
    best = None
    for index in indices:
        for assigned in _assignments(recorder, index):
            if assigned[2] is value and (best is None or assigned[0] > best[0]):
                best = assigned
    return best[1] if best else None


def _meant_for_another_model(recorder: Recorder, model, index: int) -> bool:
    """The freeze was followed by the compile of another model holding the
    layer (the Keras 2 GAN recipe: it was meant for that model)."""
    assigned = [a[0] for a in _assignments(recorder, index)]
    if not assigned:
        return False
    latest = max(assigned)
    return any(other.model is not model and index in other.members and other.compile_seq >= latest
               for other in recorder.models.values())


def _trained_elsewhere_since(recorder: Recorder, model, index: int) -> bool:
    """The layer was made trainable for another model holding it, which
    trained after the assignment (the GAN toggle: True for D's step)."""
    assigned = [a[0] for a in _assignments(recorder, index)]
    if not assigned:
        return False
    latest = max(assigned)
    return any(other.model is not model and index in other.members and other.train_seq >= latest
               for other in recorder.models.values())


def _unique(findings: List[RuntimeFinding]) -> List[RuntimeFinding]:
    seen, out = set(), []
    for finding in findings:
        key = (finding.code, finding.site, finding.message)
        if key not in seen:
            seen.add(key)
            out.append(finding)
    return out
