"""Latency of `kerasmode-lint server`: from a `textDocument/didChange` to the
`textDocument/publishDiagnostics` that answers it, for a 300-line training
script (a custom loop with one KM101 finding, no pins: the Keras version is
assumed, so the rules run under both versions), warm (after the first lint).

    python benchmarks/server_latency.py [--edits 40] [--lines 300] [--pause 0.15]

Starts the real server over stdio with the default settings (the debounce
included) and edits one line per round, 0.15 s apart as a typist's
keystrokes (the finding stays); prints the median, 90th percentile and
maximum of the rounds after the first three, and the server's CPU time per
edit. A second server, started the same way but parsing each text whole
(without the statement cache, engine/parse_cache.py), gets the same edits,
interleaved with the first one's: the ratio of the two is what the cache
saves, whatever else the machine is doing.
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
    padding = max(lines - text.count("\n") - FOOTER.count("\n"), 0)
    return text + "".join(f"LOG_EVERY_{i} = {i + 1}\n" for i in range(padding)) + FOOTER


# The same server with every text parsed whole: the statement cache is never installed.
WHOLE_PARSE_SERVER = (
    "import sys\n"
    "from kerasmode_lint.engine import lint\n"
    "from kerasmode_lint.frontends.server import main\n"
    "lint.use_statement_cache = lambda cache: None\n"
    "sys.exit(main([]))\n"
)


class Server:
    def __init__(self, name: str, command, lines: int) -> None:
        self.name, self.command = name, command
        self.folder = Path(tempfile.mkdtemp(prefix="km_latency_"))
        (self.folder / ".git").mkdir()
        self.path = self.folder / "train.py"
        self.text = training_script(lines)
        self.path.write_text(self.text)
        self.uri = self.path.as_uri()
        self.timings = []

    async def start(self) -> None:
        from lsprotocol import types
        from pytest_lsp import make_test_lsp_client

        self.client = client = make_test_lsp_client()
        await client.start_io(*self.command)
        await client.initialize_session(types.InitializeParams(
            capabilities=types.ClientCapabilities(),
            workspace_folders=[types.WorkspaceFolder(self.folder.as_uri(), "bench")]))
        client.text_document_did_open(types.DidOpenTextDocumentParams(
            types.TextDocumentItem(self.uri, "python", 1, self.text)))
        await client.wait_for_notification("textDocument/publishDiagnostics")
        assert any(d.code == "KM101" for d in client.diagnostics[self.uri]), "the script's finding is missing"
        self.line = self.text.splitlines().index("    mean = sum(values) / max(len(values), 1)")
        self.pid = client._server.pid
        self.cpu_before = _cpu_seconds(self.pid)

    async def edit(self, round_: int) -> None:
        from lsprotocol import types

        client, line = self.client, self.line
        new = f"    mean = sum(values) / max(len(values), {round_ + 2})"
        old_length = len(self.text.splitlines()[line])
        change = types.TextDocumentContentChangePartial(
            range=types.Range(types.Position(line, 0), types.Position(line, old_length)), text=new)
        lines_now = self.text.splitlines()
        lines_now[line] = new
        self.text = "\n".join(lines_now) + "\n"
        waiting = asyncio.ensure_future(client.wait_for_notification("textDocument/publishDiagnostics"))
        start = time.perf_counter()
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(uri=self.uri, version=round_ + 2), [change]))
        await waiting
        self.timings.append(time.perf_counter() - start)
        assert any(d.code == "KM101" for d in client.diagnostics[self.uri])

    async def stop(self) -> None:
        after = _cpu_seconds(self.pid)
        self.cpu = after - self.cpu_before if after is not None and self.cpu_before is not None else None
        await self.client.shutdown_session()
        await self.client.stop()


async def measure(edits: int, lines: int, pause: float):
    servers = [Server("server", [sys.executable, "-m", "kerasmode_lint", "server"], lines),
               Server("whole parse", [sys.executable, "-c", WHOLE_PARSE_SERVER], lines)]
    for server in servers:
        await server.start()
    for round_ in range(edits):
        # Interleaved, the order swapped every round: both meet the same load.
        for server in servers if round_ % 2 == 0 else servers[::-1]:
            await asyncio.sleep(pause)  # a typist's pause between keystrokes
            await server.edit(round_)
    for server in servers:
        await server.stop()
    return servers, _in_process(servers[0].path, servers[0].text)


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
    servers, lint_alone = asyncio.run(measure(args.edits, args.lines, args.pause))
    medians = []
    for server in servers:
        warm = sorted(server.timings[3:]) or sorted(server.timings)
        ms = [t * 1000 for t in warm]
        medians.append(statistics.median(ms))
        cpu = f", CPU {server.cpu * 1000 / len(server.timings):.1f} ms per edit" if server.cpu is not None else ""
        print(f"{server.name}: {args.lines}-line script, {len(ms)} warm edits: median {medians[-1]:.1f} ms, "
              f"p90 {ms[int(len(ms) * 0.9) - 1]:.1f} ms, max {ms[-1]:.1f} ms{cpu}")
    print(f"median latency, server / whole parse: {medians[0] / medians[1]:.2f}")
    print(f"the CLI's lint of the same text in one process: median {lint_alone * 1000:.1f} ms")
    try:
        print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    except OSError:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
