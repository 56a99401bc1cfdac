"""Kernel "hosts" on this one machine: network namespaces with their own sshd, for remote kernels.

Each host is a namespace made with `ip netns add`, joined to a bridge in the machine's own
namespace by a veth pair, with a private 10.x address and no route beyond that subnet (it
reaches the app's bridge address and the other host, nothing else). Each runs Debian's
`/usr/sbin/sshd` on its own address with its own host key, accepting only a key made for the
run. The app side gets a HOME whose `.ssh` holds that key and a `known_hosts` with the hosts'
keys (paramiko's RejectPolicy refuses any other host). Everything is removed on exit, also when
the suite fails: sshd and every process left in the namespaces, the namespaces, veths, bridge
and temp files.

What is NOT like a real deployment: the namespaces share this machine's filesystem, users and
process table, so the venv, the launcher and WORKSPACE_DIR are at the same paths "on" every host
(a real kernel host needs them installed or mounted there; docs/scaling.md).
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psutil

IP = "/usr/sbin/ip"
SSHD = "/usr/sbin/sshd"
SSH_KEYGEN = "/usr/bin/ssh-keygen"
# candidate private subnets; the first one no route on this machine overlaps is used
SUBNETS = ["10.231.0.0/24", "10.232.0.0/24", "192.168.231.0/24", "192.168.232.0/24"]


class KernelHostsUnavailable(Exception):
    """This machine cannot make the namespaces or run sshd (the reason says why)."""


@dataclass
class KernelHost:
    name: str  # the network namespace
    ip: str
    veth: str  # the end in the machine's namespace, on the bridge
    root: Path
    sshd: subprocess.Popen[bytes] | None = None

    def pids(self) -> list[int]:
        out = subprocess.run(
            [IP, "netns", "pids", self.name], capture_output=True, text=True, check=False
        ).stdout
        return [int(p) for p in out.split()]


@dataclass
class KernelHosts:
    hosts: list[KernelHost]
    gateway_ip: str  # the app's address on the hosts' network (the bridge)
    home: Path  # HOME for the app: .ssh/id_ed25519, .ssh/known_hosts
    bridge: str
    prefix: int
    created_run_sshd: bool = False
    down: set[str] = field(default_factory=set)

    @property
    def addresses(self) -> list[str]:
        return [h.ip for h in self.hosts]

    def kernel_pids(self, host: KernelHost) -> list[int]:
        """Processes in the host's namespace other than its sshd listener (the kernels and
        their sandboxes)."""
        sshd = host.sshd.pid if host.sshd else None
        return [p for p in host.pids() if p != sshd and _running(p)]

    def kill_kernels(self, host: KernelHost) -> int:
        """SIGKILL every process in the host's namespace but sshd (a kernel killed on its host)."""
        pids = self.kernel_pids(host)
        _kill(pids)
        return len(pids)

    def take_down(self, host: KernelHost) -> None:
        """The host is gone: every process in it killed, its namespace and veth deleted."""
        _stop_host(host)
        self.down.add(host.name)

    def bring_up(self, host: KernelHost) -> None:
        if host.name in self.down:
            _make_host(host, self.bridge, self.prefix)
            _start_sshd(host, self.home)
            self.down.discard(host.name)


def kill_kernel(kernel_id: str) -> int:
    """SIGKILL every process whose command line names the kernel (the kernel, its sandbox and
    launcher, on whichever host); returns how many there were."""
    pids = []
    for proc in psutil.process_iter(["cmdline"]):
        if kernel_id in " ".join(proc.info["cmdline"] or []):
            pids.append(proc.pid)
    _kill(pids)  # killing one (bwrap, the launcher) may already have ended the next
    return len(pids)


def _run(*argv: str, netns: str | None = None) -> None:
    command = [IP, "netns", "exec", netns, *argv] if netns else list(argv)
    result = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    if result.returncode:
        raise KernelHostsUnavailable(f"`{' '.join(command)}` failed: {result.stderr.strip()}")


def _running(pid: int) -> bool:
    """Alive and not a zombie (an orphan's zombie waits on whatever reaps in this container)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _kill(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(_running(p) for p in pids):
        time.sleep(0.02)


def _subnet() -> ipaddress.IPv4Network:
    routes = subprocess.run([IP, "-4", "route"], capture_output=True, text=True, check=False)
    used = []
    for line in routes.stdout.splitlines():
        first = line.split()[0] if line.split() else ""
        with contextlib.suppress(ValueError):
            used.append(ipaddress.ip_network(first if first != "default" else "0.0.0.0/32"))
    for candidate in SUBNETS:
        net = ipaddress.ip_network(candidate)
        if not any(net.overlaps(u) for u in used if u.prefixlen > 0):
            return net  # type: ignore[return-value]
    raise KernelHostsUnavailable(f"every candidate subnet {SUBNETS} is already routed here")


def _make_host(host: KernelHost, bridge: str, prefix: int) -> None:
    _run(IP, "netns", "add", host.name)
    _run(IP, "link", "add", host.veth, "type", "veth", "peer", "name", "eth0", "netns", host.name)
    _run(IP, "link", "set", host.veth, "master", bridge, "up")
    _run(IP, "addr", "add", f"{host.ip}/{prefix}", "dev", "eth0", netns=host.name)
    _run(IP, "link", "set", "eth0", "up", netns=host.name)
    _run(IP, "link", "set", "lo", "up", netns=host.name)


def _start_sshd(host: KernelHost, home: Path) -> None:
    key = host.root / "host_ed25519"
    if not key.exists():
        _run(SSH_KEYGEN, "-q", "-t", "ed25519", "-N", "", "-f", str(key))
    config = host.root / "sshd_config"
    config.write_text(
        f"ListenAddress {host.ip}\nPort 22\nHostKey {key}\n"
        f"AuthorizedKeysFile {home / 'authorized_keys'}\n"
        f"PidFile {host.root / 'sshd.pid'}\n"
        "PermitRootLogin prohibit-password\nPasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\nUseDNS no\n"
        "X11Forwarding no\nAllowTcpForwarding no\nPrintMotd no\nLogLevel ERROR\n",
        encoding="utf-8",
    )
    log = open(host.root / "sshd.log", "ab")  # noqa: SIM115  # sshd writes it while it runs
    host.sshd = subprocess.Popen(
        [IP, "netns", "exec", host.name, SSHD, "-D", "-e", "-f", str(config)],
        stdout=log,
        stderr=log,
        stdin=subprocess.DEVNULL,
    )
    log.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # listening on its address, from inside its namespace
        probe = subprocess.run(
            [IP, "netns", "exec", host.name, "ss", "-Htln", f"src {host.ip}:22"],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.stdout.strip():
            return
        if host.sshd.poll() is not None:
            break
        time.sleep(0.05)
    reason = (host.root / "sshd.log").read_text(errors="replace").strip()[-400:]
    raise KernelHostsUnavailable(f"sshd did not start in {host.name}: {reason}")


def _stop_host(host: KernelHost) -> None:
    if host.sshd is not None:
        host.sshd.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            host.sshd.wait(5)
        host.sshd = None
    _kill(host.pids())
    subprocess.run([IP, "link", "del", host.veth], capture_output=True, check=False)
    subprocess.run([IP, "netns", "del", host.name], capture_output=True, check=False)


def check_machine() -> None:
    """Raise KernelHostsUnavailable naming what this machine lacks."""
    if os.geteuid() != 0:
        raise KernelHostsUnavailable("making network namespaces needs root")
    for tool, hint in ((IP, "apt package iproute2"), (SSHD, "apt package openssh-server")):
        if not os.access(tool, os.X_OK):
            raise KernelHostsUnavailable(f"{tool} is missing ({hint}; make setup installs it)")


@contextlib.contextmanager
def kernel_hosts(root: Path, count: int = 2) -> Iterator[KernelHosts]:
    """`count` kernel hosts reachable only at their private addresses; all removed on exit."""
    check_machine()
    net = _subnet()
    addresses = list(net.hosts())
    tag = f"{os.getpid() % 100000}"
    bridge = f"akb{tag}"
    home = root / "home"
    (home / ".ssh").mkdir(parents=True, mode=0o700)
    run_sshd = Path("/run/sshd")  # sshd's privilege-separation directory
    hosts = KernelHosts([], str(addresses[0]), home, bridge, net.prefixlen)
    if not run_sshd.exists():
        run_sshd.mkdir(mode=0o755)
        hosts.created_run_sshd = True
    try:
        _run(IP, "link", "add", bridge, "type", "bridge")
        _run(IP, "addr", "add", f"{hosts.gateway_ip}/{net.prefixlen}", "dev", bridge)
        _run(IP, "link", "set", bridge, "up")
        ident = home / ".ssh" / "id_ed25519"
        _run(SSH_KEYGEN, "-q", "-t", "ed25519", "-N", "", "-C", "agent-app", "-f", str(ident))
        shutil.copy(f"{ident}.pub", home / "authorized_keys")
        known = []
        for n in range(count):
            host_root = root / f"host{n}"
            host_root.mkdir()
            host = KernelHost(f"akh{n}-{tag}", str(addresses[10 + n]), f"akv{n}-{tag}", host_root)
            hosts.hosts.append(host)
            _make_host(host, bridge, net.prefixlen)
            _start_sshd(host, home)
            public = (host_root / "host_ed25519.pub").read_text().split()
            known.append(f"{host.ip} {public[0]} {public[1]}\n")
        (home / ".ssh" / "known_hosts").write_text("".join(known), encoding="utf-8")
        yield hosts
    finally:
        for host in hosts.hosts:
            _stop_host(host)
        subprocess.run([IP, "link", "del", bridge], capture_output=True, check=False)
        if hosts.created_run_sshd:
            shutil.rmtree(run_sshd, ignore_errors=True)
        shutil.rmtree(root, ignore_errors=True)
