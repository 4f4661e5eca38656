"""Hosts in network namespaces for the several-hosts tests (root only).

``Network()`` makes a bridge on this machine with the address ``.1`` of a
private /24 (picked at random, so that parallel runs do not meet); each
``network.add_host()`` is a namespace joined to the bridge by a veth pair,
with the next address. ``host.popen(argv)`` runs a process inside it;
``host.kill()`` SIGKILLs every process in it. ``network.remove()`` (always
called, by the fixture) kills what is left and deletes namespaces, veths and
the bridge.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import uuid
from dataclasses import dataclass, field


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=30)


def permitted() -> str | None:
    """None if this process may make network namespaces, else why not."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    probe = f"hdprobe{uuid.uuid4().hex[:6]}"
    try:
        _ip("netns", "add", probe)
    except (subprocess.CalledProcessError, FileNotFoundError) as exc:
        return f"`ip netns add` is not permitted here: {getattr(exc, 'stderr', exc)!r}"
    _ip("netns", "del", probe)
    return None


@dataclass
class Host:
    name: str
    address: str
    processes: list[subprocess.Popen] = field(default_factory=list)

    def popen(self, argv: list[str], **options) -> subprocess.Popen:
        """Starts ``argv`` inside the namespace."""
        proc = subprocess.Popen(["ip", "netns", "exec", self.name, *argv], **options)
        self.processes.append(proc)
        return proc

    def pids(self) -> list[int]:
        result = subprocess.run(["ip", "netns", "pids", self.name], capture_output=True, text=True, timeout=30)
        return [int(pid) for pid in result.stdout.split()]

    def kill(self) -> None:
        """SIGKILLs every process in the namespace, as a power cut would."""
        for pid in self.pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for proc in self.processes:
            proc.wait(timeout=30)

    def terminate(self) -> None:
        """SIGTERM to the processes started here, then SIGKILL to whatever is left."""
        for proc in self.processes:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.processes:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                pass
        self.kill()


class Network:
    """A bridge and its hosts; see the module docs."""

    def __init__(self) -> None:
        tag = uuid.uuid4().hex[:6]
        self.tag = tag
        self.prefix = f"10.{random.randint(64, 127)}.{random.randint(0, 255)}"
        self.bridge = f"hdbr{tag}"
        self.address = f"{self.prefix}.1"
        self.hosts: list[Host] = []
        _ip("link", "add", self.bridge, "type", "bridge")
        _ip("addr", "add", f"{self.address}/24", "dev", self.bridge)
        _ip("link", "set", self.bridge, "up")

    def add_host(self) -> Host:
        number = len(self.hosts) + 2
        name = f"hd{self.tag}n{number}"
        outside, inside = f"hd{self.tag}h{number}", f"hd{self.tag}v{number}"
        host = Host(name, f"{self.prefix}.{number}")
        self.hosts.append(host)
        _ip("netns", "add", name)
        _ip("link", "add", outside, "type", "veth", "peer", "name", inside)
        _ip("link", "set", outside, "master", self.bridge)
        _ip("link", "set", outside, "up")
        _ip("link", "set", inside, "netns", name)
        _ip("-n", name, "addr", "add", f"{host.address}/24", "dev", inside)
        _ip("-n", name, "link", "set", inside, "up")
        _ip("-n", name, "link", "set", "lo", "up")
        return host

    def remove(self) -> None:
        for host in self.hosts:
            host.terminate()
            subprocess.run(["ip", "netns", "del", host.name], capture_output=True, timeout=30)
        # Deleting a namespace deletes its veth end, and with it the peer on the bridge.
        subprocess.run(["ip", "link", "del", self.bridge], capture_output=True, timeout=30)
