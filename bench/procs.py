"""Run a command and measure it: wall time, CPU time of the whole process tree, peak memory of the tree.

Memory is sampled from /proc every `interval` seconds over the command and all its descendants (the
Prefect API server child, the fork server and the extraction workers): the peak of the summed RSS
(pages shared by forked workers count once per process: an upper bound) and of the summed PSS
(shared pages split between their users: what the tree really costs). CPU time is the larger of
wait4()'s (the command and every descendant it waited for) and the sum of the last sampled CPU time
of every process seen in the tree.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


@dataclass(frozen=True)
class Measured:
    args: tuple[str, ...]
    returncode: int
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    peak_pss_mb: float
    peak_processes: int
    cpu_by_role: dict[str, float]
    stdout: str
    stderr: str

    def check(self) -> Measured:
        if self.returncode != 0:
            raise RuntimeError(
                f"{' '.join(self.args)} exited with {self.returncode}\n"
                f"{self.stdout[-3000:]}\n{self.stderr[-3000:]}"
            )
        return self


_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _proc_table() -> dict[int, tuple[int, float]]:
    """pid -> (parent pid, CPU seconds used so far) for every process."""
    out: dict[int, tuple[int, float]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        rest = stat[stat.rfind(b")") + 2 :].split()
        if len(rest) > 12:  # rest[0] is field 3 (state): ppid is field 4, utime and stime 14 and 15
            out[int(entry.name)] = (int(rest[1]), (int(rest[11]) + int(rest[12])) / _TICKS)
    return out


def process_tree(root: int, table: dict[int, tuple[int, float]] | None = None) -> list[int]:
    """`root` and all its descendants alive now (by parent pid, so also children in other sessions)."""
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in (table if table is not None else _proc_table()).items():
        children.setdefault(ppid, []).append(pid)
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, ()))
    return tree


def _rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", "rb") as fh:
            return int(fh.read().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return 0


def _pss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as fh:
            for line in fh:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, IndexError, ValueError):
        return 0
    return 0


def _role(pid: int, root: int) -> str:
    """A short name for a process of the tree: the command, the API server, an extraction worker."""
    if pid == root:
        return "command"
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            cmd = fh.read().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return "other"
    if "flows.runtime" in cmd or "uvicorn" in cmd:
        return "prefect-server"
    if "forkserver" in cmd:
        return "extraction"  # the fork server and the workers forked from it
    return "other"


class TreeSampler:
    """Samples the memory of a process tree in a thread until stopped. `also`: other processes the
    command uses without being their parent (a lingering Prefect API server), counted in the memory and
    (from now on) the CPU time of the tree."""

    def __init__(self, root: int, interval: float = 0.2, also: Sequence[int] = ()) -> None:
        self.root = root
        self.also = tuple(also)
        table = _proc_table()
        self._cpu_before = {pid: table[pid][1] for pid in self.also if pid in table}
        self.interval = interval
        self.peak_rss = 0
        self.peak_pss = 0
        self.peak_processes = 0
        self.cpu: dict[int, float] = {}  # pid -> CPU seconds at its last sample
        self.names: dict[int, str] = {}  # pid -> what it is (for a breakdown of the CPU time)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="rss-sampler", daemon=True)

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def sample(self) -> None:
        table = _proc_table()
        pids = process_tree(self.root, table) + [p for p in self.also if p in table]
        for pid in pids:
            if pid in table:
                self.cpu[pid] = table[pid][1] - self._cpu_before.get(pid, 0.0)
                if pid not in self.names:
                    self.names[pid] = _role(pid, self.root)
        self.peak_processes = max(self.peak_processes, len(pids))
        self.peak_rss = max(self.peak_rss, sum(_rss_bytes(p) for p in pids))
        self.peak_pss = max(self.peak_pss, sum(_pss_bytes(p) for p in pids))

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)


def run_measured(
    args: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: Path,
    timeout: float = 1800.0,
    interval: float = 0.2,
    also: Sequence[int] = (),
) -> Measured:
    """Run `args` to completion; its output is captured into files (no pipe can fill up)."""
    out_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"newswatch-bench-{os.getpid()}.out"
    err_path = out_path.with_suffix(".err")
    started = time.perf_counter()
    with out_path.open("w+b") as out, err_path.open("w+b") as err:
        proc = subprocess.Popen(
            list(args), env=dict(env), cwd=cwd, stdout=out, stderr=err, stdin=subprocess.DEVNULL
        )
        with TreeSampler(proc.pid, interval, also) as sampler:
            deadline = started + timeout
            status, usage = 0, None
            while True:
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    break
                if time.perf_counter() > deadline:
                    proc.kill()
                    _, status, usage = os.wait4(proc.pid, 0)
                    break
                time.sleep(0.01)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    out_path.unlink(missing_ok=True)
    err_path.unlink(missing_ok=True)
    # wait4 misses descendants nobody waited for (the fork server's); the samples miss the last
    # `interval` of each process: the larger of the two
    waited = (usage.ru_utime + usage.ru_stime) if usage is not None else 0.0
    cpu = max(waited, sum(sampler.cpu.values()))
    return Measured(
        args=tuple(args),
        returncode=proc.returncode,
        wall_s=wall,
        cpu_s=cpu,
        peak_rss_mb=sampler.peak_rss / 2**20,
        peak_pss_mb=sampler.peak_pss / 2**20,
        peak_processes=sampler.peak_processes,
        cpu_by_role=_by_role(sampler),
        stdout=stdout,
        stderr=stderr,
    )


def _by_role(sampler: TreeSampler) -> dict[str, float]:
    out: dict[str, float] = {}
    for pid, seconds in sampler.cpu.items():
        role = sampler.names.get(pid, "other")
        out[role] = round(out.get(role, 0.0) + seconds, 2)
    return out
