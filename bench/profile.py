"""py-spy profiles of a server process while a benchmark phase runs (`--profile DIR`).

py-spy samples every thread that is not idle, without pausing the process (--nonblocking), into
a collapsed-stack file; the summary keeps the frames that hold the largest shares of samples,
counted once per sample (inclusive) and where the sample stood (self).
"""

from __future__ import annotations

import contextlib
import re
import shutil
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.common import say

# Frames every sample passes through, which say nothing about where the time goes.
PLUMBING = re.compile(
    r"^(<module>|_run_module_as_main|_run_code|main|run|_bootstrap|_bootstrap_inner|_worker|"
    r"Thread\.run|Thread\._bootstrap.*|_WorkItem\.run|BaseEventLoop\.run_forever|"
    r"BaseEventLoop\._run_once|CommandLineInterface\.run|Server\.run|"
    r"AsyncioSelectorReactor\.run) "
)


def py_spy() -> str | None:
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else shutil.which("py-spy")


def _frame(raw: str) -> str:
    """'function (path/to/file.py:123)' -> 'function (to/file.py)'."""
    match = re.match(r"^(.*) \((.*?)(?::\d+)?\)$", raw)
    if not match:
        return raw
    name, path = match.groups()
    return f"{name} ({'/'.join(Path(path).parts[-2:])})"


def summarize(collapsed: Path, top: int = 15) -> dict[str, Any]:
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    if collapsed.exists():
        for line in collapsed.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not stack or not count.isdigit():
                continue
            samples = int(count)
            total += samples
            frames = [_frame(f) for f in stack.split(";")]
            for frame in set(frames):
                inclusive[frame] += samples
            own[frames[-1]] += samples
    share = (lambda n: round(100 * n / total, 1)) if total else (lambda n: 0.0)
    return {
        "file": str(collapsed),
        "samples": total,
        "inclusive_percent": [
            [f, share(n)] for f, n in inclusive.most_common() if not PLUMBING.match(f)
        ][:top],
        "self_percent": [[f, share(n)] for f, n in own.most_common(top)],
    }


@contextlib.contextmanager
def profiled(
    pid: int, name: str, directory: Path | None, gil: bool = False
) -> Iterator[dict[str, Any]]:
    """Record `pid` while the block runs (when a directory is given); the dict yielded gets the
    summary afterwards. With `gil`, only the thread holding the GIL is sampled: where a
    CPU-bound process spends its one core, without threads waiting for it."""
    summary: dict[str, Any] = {}
    binary = py_spy()
    if directory is None or binary is None:
        if directory is not None:
            say("profile skipped: py-spy is not installed (uv sync installs the dev group)")
        yield summary
        return
    directory.mkdir(parents=True, exist_ok=True)
    output = directory / f"{re.sub(r'[^A-Za-z0-9]+', '-', name).strip('-')}.txt"
    process = subprocess.Popen(
        [binary, "record", "--pid", str(pid), "--rate", "100", "--nonblocking",
         "--format", "raw", "--output", str(output), *(["--gil"] if gil else [])],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        yield summary
    finally:
        process.send_signal(signal.SIGINT)
        try:
            _, errors = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            errors = b""
        summary.update(summarize(output))
        if not summary["samples"]:
            summary["error"] = errors.decode(errors="replace")[-500:]
        say(f"profile of {name}: {summary['samples']} samples -> {output}")


def render(name: str, summary: dict[str, Any], lines: int = 8) -> str:
    if not summary.get("samples"):
        return f"{name}: no samples ({summary.get('error', 'not profiled')})"
    parts = [f"{name} ({summary['samples']} samples): inclusive"]
    parts += [f"  {share:5.1f}%  {frame}" for frame, share in summary["inclusive_percent"][:lines]]
    parts.append("  self")
    parts += [f"  {share:5.1f}%  {frame}" for frame, share in summary["self_percent"][:lines]]
    return "\n".join(parts)
