"""Latency of `kerasmode-lint server`: from a `textDocument/didChange` to the
`textDocument/publishDiagnostics` that answers it, for a 300-line training
script (a custom loop with one KM101 finding), warm (after the first lint).

    python benchmarks/server_latency.py [--edits 40] [--lines 300]

Starts the real server over stdio with the default settings (the debounce
included), edits one line per round, 0.15 s apart as a typist's keystrokes (the finding stays) and prints the
median, 90th percentile and maximum of the rounds after the first three.
Needs the `server` and `test` extras (pygls, pytest-lsp's client).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

HEADER = '''"""A training script of the usual shape: data, a model, a custom loop."""
import numpy as np
import tensorflow as tf
from tensorflow import keras


def make_dataset(n, batch):
    x = np.random.rand(n, 32).astype("float32")
    y = (x.sum(axis=1) > 16).astype("float32")
    return tf.data.Dataset.from_tensor_slices((x, y)).shuffle(n).batch(batch)


def make_model():
    inputs = keras.Input(shape=(32,))
    x = keras.layers.Dense(64, activation="relu")(inputs)
    x = keras.layers.Dropout(0.5)(x)
    x = keras.layers.BatchNormalization()(x)
    outputs = keras.layers.Dense(1, activation="sigmoid")(x)
    return keras.Model(inputs, outputs)


model = make_model()
optimizer = keras.optimizers.Adam(1e-3)
loss_fn = keras.losses.BinaryCrossentropy()


@tf.function
def train_step(x, y):
    with tf.GradientTape() as tape:
        predictions = model(x)
        loss = loss_fn(y, predictions)
    grads = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
    return loss

'''

HELPER = '''
def report_{n}(history, step):
    """Summarise metrics at step {n}."""
    values = [float(v) for v in history[-10:]]
    mean = sum(values) / max(len(values), 1)
    if step % 10 == 0:
        print("step", step, "mean loss", round(mean, 4))
    return mean

'''

FOOTER = '''
history = []
for epoch in range(3):
    for step, (x, y) in enumerate(make_dataset(1024, 32)):
        history.append(train_step(x, y))
'''


def training_script(lines: int) -> str:
    text, n = HEADER, 0
    while text.count("\n") + FOOTER.count("\n") + HELPER.count("\n") <= lines:
        text += HELPER.format(n=n)
        n += 1
    return text + FOOTER


async def measure(edits: int, lines: int, pause: float) -> list:
    from lsprotocol import types
    from pytest_lsp import make_test_lsp_client

    folder = Path(tempfile.mkdtemp(prefix="km_latency_"))
    (folder / ".git").mkdir()
    path = folder / "train.py"
    text = training_script(lines)
    path.write_text(text)
    uri = path.as_uri()
    client = make_test_lsp_client()
    await client.start_io(sys.executable, "-m", "kerasmode_lint", "server")
    await client.initialize_session(types.InitializeParams(
        capabilities=types.ClientCapabilities(),
        workspace_folders=[types.WorkspaceFolder(folder.as_uri(), "bench")]))
    client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, "python", 1, text)))
    await client.wait_for_notification("textDocument/publishDiagnostics")
    assert any(d.code == "KM101" for d in client.diagnostics[uri]), "the script's finding is missing"
    line = text.splitlines().index("    mean = sum(values) / max(len(values), 1)")
    timings = []
    pid = client._server.pid
    cpu_before = _cpu_seconds(pid)
    for round_ in range(edits):
        await asyncio.sleep(pause)  # a typist's pause between keystrokes
        new = f"    mean = sum(values) / max(len(values), {round_ + 2})"
        old_length = len(text.splitlines()[line])
        change = types.TextDocumentContentChangePartial(
            range=types.Range(types.Position(line, 0), types.Position(line, old_length)), text=new)
        lines_now = text.splitlines()
        lines_now[line] = new
        text = "\n".join(lines_now) + "\n"
        waiting = asyncio.ensure_future(client.wait_for_notification("textDocument/publishDiagnostics"))
        start = time.perf_counter()
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(uri=uri, version=round_ + 2), [change]))
        await waiting
        timings.append(time.perf_counter() - start)
        assert any(d.code == "KM101" for d in client.diagnostics[uri])
    cpu = _cpu_seconds(pid) - cpu_before if cpu_before is not None else None
    await client.shutdown_session()
    await client.stop()
    return timings, cpu, _in_process(path, text)


def _cpu_seconds(pid: int):
    """The server process's user + system CPU time (Linux), which other load
    on the machine changes far less than the wall-clock latency."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _in_process(path: Path, text: str, rounds: int = 15) -> float:
    """The median time of the CLI's own lint of the same text in this
    process (the part of the latency that is the linter, not the server)."""
    from kerasmode_lint.frontends.cli import lint_task
    from kerasmode_lint.engine.settings import Resolver

    options = Resolver().options_for(str(path))
    data = text.encode()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        lint_task(str(path), data, options)
        times.append(time.perf_counter() - start)
    return statistics.median(times[2:])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=40)
    parser.add_argument("--lines", type=int, default=300)
    parser.add_argument("--pause", type=float, default=0.15, help="seconds between edits (default 0.15)")
    args = parser.parse_args()
    timings, cpu, lint_alone = asyncio.run(measure(args.edits, args.lines, args.pause))
    warm = sorted(timings[3:]) or sorted(timings)
    ms = [t * 1000 for t in warm]
    print(f"{args.lines}-line script, {len(ms)} warm edits: median {statistics.median(ms):.1f} ms, "
          f"p90 {ms[int(len(ms) * 0.9) - 1]:.1f} ms, max {ms[-1]:.1f} ms (first edit {timings[0] * 1000:.1f} ms)")
    if cpu is not None:
        print(f"server CPU time per edit: {cpu * 1000 / len(timings):.1f} ms")
    print(f"the CLI's lint of the same text in one process: median {lint_alone * 1000:.1f} ms")
    try:
        print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    except OSError:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
