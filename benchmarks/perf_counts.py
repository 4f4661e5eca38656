"""Context switches and system calls of a running process, counted by ``perf stat``.

This VM exposes no hardware counters (no instruction counts), but software
events and syscall tracepoints work; counts, unlike CPU time, do not depend on
what else the machine runs. Used by ws_cost.py and ws_bench.py (``--counts``).
"""

from __future__ import annotations

import os
import signal
import subprocess

#: Software events ``perf stat`` counts on this VM (it has no hardware counters).
PERF_EVENTS = ("context-switches", "cpu-migrations", "raw_syscalls:sys_enter", "syscalls:sys_enter_sendto", "syscalls:sys_enter_write",
               "syscalls:sys_enter_writev", "syscalls:sys_enter_recvfrom", "syscalls:sys_enter_read",
               "syscalls:sys_enter_epoll_wait", "syscalls:sys_enter_futex", "syscalls:sys_enter_epoll_ctl")


class PerfCounts:
    """``perf stat`` attached to a process with its events off; they count from
    ``start()`` to ``stop()`` only (perf's control descriptors), so attaching
    takes no time out of the measured part."""

    def __init__(self, pid: int | list[int]) -> None:
        # Several processes (Granian's parent and worker) are counted together.
        pids = ",".join(str(p) for p in pid) if isinstance(pid, list) else str(pid)
        self._ctl_r, self._ctl_w = os.pipe()
        self._ack_r, self._ack_w = os.pipe()
        self.proc = subprocess.Popen(
            ["perf", "stat", "-x", ",", "-D", "-1", "--control", f"fd:{self._ctl_r},{self._ack_w}",
             "-e", ",".join(PERF_EVENTS), "-p", pids],
            pass_fds=(self._ctl_r, self._ack_w), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def _command(self, command: bytes) -> None:
        os.write(self._ctl_w, command + b"\n")
        os.read(self._ack_r, 16)  # perf acknowledges once the events are switched

    def start(self) -> None:
        self._command(b"enable")

    def stop(self) -> dict[str, int]:
        """Stops counting and perf; the counts by event (``syscalls``: all system calls)."""
        self._command(b"disable")
        self.proc.send_signal(signal.SIGINT)
        _, err = self.proc.communicate(timeout=60)
        for fd in (self._ctl_r, self._ctl_w, self._ack_r, self._ack_w):
            os.close(fd)
        counts = {}
        for line in err.splitlines():
            fields = line.split(",")
            if len(fields) > 2 and fields[2] in PERF_EVENTS and fields[0].isdigit():
                name = fields[2].removeprefix("syscalls:sys_enter_").removeprefix("raw_syscalls:sys_enter")
                counts[name or "syscalls"] = int(fields[0])
        return counts
