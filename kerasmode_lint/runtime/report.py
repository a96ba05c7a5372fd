"""The trace report: per phase a table of the mode-dependent layers, then the
findings (text), or the same as one JSON object (``--output-format json``)."""
from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Optional

from . import recorder as rec
from .findings import find, phase_label
from .recorder import Recorder, Site

SCHEMA = 1


def _site(site: Optional[Site]) -> Optional[Dict[str, Any]]:
    return None if site is None else {"path": site.path, "line": site.line}


def build(recorder: Recorder) -> Dict[str, Any]:
    phases = []
    for phase in recorder.phase_order:
        rows = []
        for slot in sorted(phase.layers, key=lambda s: recorder.by_slot[s].path):
            record = phase.layers[slot]
            if not record.calls:
                continue
            info = recorder.by_slot[slot]
            noisy = info.kind in rec.NOISY_KINDS
            rows.append({
                "layer": info.path,
                "class": info.class_name,
                "kind": info.kind,
                "training": {name: count for name, count in zip(("True", "False", "None"), record.counts) if count},
                "calls": record.calls,
                "changed_input": record.changed if noisy else None,
                "stats_moved": record.stats_moved if info.kind == rec.BATCHNORM else None,
                "weights_changed": record.weights_changed,
                "frozen": (True in record.frozen) if record.frozen else None,
            })
        phases.append({
            "phase": phase.kind,
            "label": phase_label(phase),
            "site": _site(phase.site),
            "model": getattr(phase.model, "name", None),
            "invocations": phase.invocations,
            "optimizer_steps": phase.steps if phase.kind == "custom-step" else None,
            "layers": rows,
        })
    findings = []
    for finding in find(recorder):
        findings.append({
            "code": finding.code,
            "name": finding.name,
            "message": finding.message,
            "path": finding.site.path if finding.site else None,
            "line": finding.site.line if finding.site else None,
            "phase": finding.phase,
            "doc": f"rules/{finding.code}.md",
        })
    notes = list(recorder.errors)
    if recorder.dropped_layers:
        notes.append(f"{recorder.dropped_layers} layers beyond the tracer's limit were not traced")
    return {"schema": SCHEMA, "keras": list(recorder.flavours), "phases": phases, "findings": findings,
            "notes": notes}


def _yes_no(value) -> str:
    return "-" if value is None else ("yes" if value else "no")


def _relative(path: Optional[str]) -> str:
    if not path:
        return "?"
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return path
    return path if relative.startswith("..") else relative


def render_text(data: Dict[str, Any]) -> str:
    lines: List[str] = []
    if not data["keras"]:
        lines.append("kerasmode-lint trace: the program did not import Keras; nothing traced")
        return "\n".join(lines) + "\n"
    lines.append(f"kerasmode-lint trace ({', '.join(data['keras'])})")
    for phase in data["phases"]:
        label = phase["label"]
        if phase["site"]:
            label = label.replace(f"{phase['site']['path']}:", f"{_relative(phase['site']['path'])}:")
        extra = []
        if phase["invocations"] > 1 and phase["phase"] in rec.PHASE_KINDS:
            extra.append(f"{phase['invocations']} calls")
        if phase["optimizer_steps"]:
            extra.append(f"{phase['optimizer_steps']} optimizer steps")
        lines.append("")
        lines.append(f"{label}" + (f" ({', '.join(extra)})" if extra else "") +
                     (f": model `{phase['model']}`" if phase["model"] else ""))
        if not phase["layers"]:
            lines.append("  no mode-dependent layer ran")
            continue
        table = [("layer", "training", "dropped", "stats moved", "weights changed")]
        for row in phase["layers"]:
            training = ", ".join(f"{name}×{count}" for name, count in row["training"].items())
            dropped = "-" if row["changed_input"] is None else (
                f"{'yes' if row['changed_input'] else 'no'} ({row['changed_input']}/{row['calls']})")
            table.append((row["layer"] + (" (frozen)" if row["frozen"] else ""), training, dropped,
                          _yes_no(row["stats_moved"]), _yes_no(row["weights_changed"])))
        widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
        for r in table:
            lines.append("  " + "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(r)).rstrip())
    lines.append("")
    if data["findings"]:
        for finding in data["findings"]:
            lines.append(f"{_relative(finding['path'])}:{finding['line'] or 0}: {finding['code']} {finding['message']}")
        count = len(data["findings"])
        lines.append(f"Found {count} mode problem{'s' if count != 1 else ''} in this run.")
    else:
        layers = {row["layer"] for phase in data["phases"] for row in phase["layers"]}
        lines.append(f"No mode problem seen in this run ({len(data['phases'])} phases, "
                     f"{len(layers)} mode-dependent layers).")
    for note in data["notes"]:
        lines.append(f"note: {note}")
    return "\n".join(lines) + "\n"


def render(data: Dict[str, Any], output_format: str) -> str:
    if output_format == "json":
        return json.dumps(data, indent=2) + "\n"
    return render_text(data)
