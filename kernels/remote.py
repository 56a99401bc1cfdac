"""Kernels on other hosts: gateway_provisioners' `distributed-provisioner`, with our sandbox there.

The `agent-remote` kernelspec names the stock DistributedProvisioner (round-robin over
`ssh.hosts`, the kernelspec's argv run over SSH with paramiko, the connection info sent back
encrypted to its response address, signals and liveness through the launcher's comm port).
Its argv is gateway_provisioners' own `launch_ipykernel.py` (installed beside the kernelspec by
`python -m kernels.kernelspec install`) under prlimit; for a session kernel the argv also
carries the bubblewrap command line of that kernel (its workspace, its uid), so each session
kernel is launched from a kernelspec of its own.

Settings the provisioner reads only from the process environment when it is imported (the SSH
user and port, the response address, the log directory) are set from KernelConfig here, once,
before the import.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import sys
from importlib import resources
from pathlib import Path
from typing import Any

from jupyter_client.kernelspec import KernelSpec, KernelSpecManager

from kernels.config import KernelConfig, SshHosts

__all__ = [
    "LAUNCHER_FLAGS",
    "REMOTE_KERNEL",
    "LaunchSpecs",
    "configure_gateway",
    "install_launcher",
    "launcher_path",
    "remote_spec",
]

REMOTE_KERNEL = "agent-remote"
# gateway_provisioners' launchers (SSH and Kubernetes) take the same flags; the provisioner fills
# the placeholders in its pre_launch
LAUNCHER_FLAGS = [
    "--kernel-id",
    "{kernel_id}",
    "--port-range",
    "{port_range}",
    "--response-address",
    "{response_address}",
    "--public-key",
    "{public_key}",
    "--transport-encryption",
    "{transport_encryption}",
    "--kernel-class-name",
    "ipykernel.ipkernel.IPythonKernel",
]
PROVISIONER = "distributed-provisioner"
# the kernel's username as the provisioner sees it (its default, the server's user, is
# refused when it is root); the kernel itself runs as the session's uid on the host
KERNEL_USERNAME = "agent"
_PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


def launcher_path(config: KernelConfig) -> Path:
    """Where the launcher lives on every kernel host: beside the kernelspec in the venv."""
    prefix = Path(config.ssh.python or config.python).absolute().parent.parent
    return (
        prefix / "share" / "jupyter" / "kernels" / REMOTE_KERNEL / "scripts" / "launch_ipykernel.py"
    )


def _launcher_argv(config: KernelConfig) -> list[str]:
    """The launcher with the provisioner's placeholders (filled in its pre_launch)."""
    return [
        config.ssh.python or config.python,
        str(launcher_path(config)),
        *LAUNCHER_FLAGS,
    ]


def remote_spec(config: KernelConfig, wrap: list[str]) -> dict[str, Any]:
    """kernel.json of a remote kernel: `wrap` (prlimit, bwrap...) then the launcher.

    The provisioner joins the argv with spaces into a shell command on the host, so every
    element is shell-quoted here but its placeholders, whose values (ids, addresses, base64,
    port ranges) are shell-safe."""
    argv = [
        a if _PLACEHOLDER.fullmatch(a) else shlex.quote(a) for a in [*wrap, *_launcher_argv(config)]
    ]
    return {
        "argv": argv,
        "display_name": "Python 3 (agent sandbox, remote host)",
        "language": "python",
        # SIGINT would go to the launcher's process (bwrap's pid 1 inside the sandbox)
        "interrupt_mode": "message",
        "metadata": {
            "supported_encryption": ["curve"],
            "kernel_provisioner": {
                "provisioner_name": PROVISIONER,
                "config": {
                    # none given: the provisioner's own default (GP_REMOTE_HOSTS, or localhost)
                    **({"remote_hosts": list(config.ssh.hosts)} if config.ssh.hosts else {}),
                    "load_balancing_algorithm": "round-robin",
                    "port_range": config.ssh.port_range,
                    "launch_timeout": int(config.start_timeout_s),
                    "unauthorized_users": [],
                },
            },
        },
    }


class LaunchSpecs(KernelSpecManager):
    """One kernelspec made for one launch (the remote argv names the kernel's own sandbox)."""

    def __init__(self, name: str, spec: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._name = name
        self._spec = spec

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        if kernel_name == self._name:
            return KernelSpec(resource_dir="", **self._spec)
        return super().get_kernel_spec(kernel_name)


_GATEWAY_ENV = {
    "GP_REMOTE_USER": lambda s: s.user,
    "GP_SSH_PORT": lambda s: str(s.port),
    "GP_RESPONSE_PORT": lambda s: str(s.response_port),
    "GP_KERNEL_LOG_DIR": lambda s: str(s.log_dir),
    # 0: its sockets non-blocking. With a timeout, its response socket's accept and each
    # comm-port connect block the event loop for up to that long, again and again (seen here:
    # every message from a kernel delayed by up to the timeout). LiveKernel bounds the waits.
    "GP_SOCKET_TIMEOUT": lambda s: "0",
}


def configure_gateway(ssh: SshHosts) -> None:
    """Hand our settings to gateway_provisioners before it is imported (it reads them then).

    A second configuration with other values in the same process is refused: the provisioner's
    response socket is one per process."""
    wanted = {name: get(ssh) for name, get in _GATEWAY_ENV.items()}
    if ssh.response_ip:
        wanted["GP_RESPONSE_IP"] = ssh.response_ip
    if "gateway_provisioners.response_manager" in sys.modules:
        clash = {k: (os.environ.get(k), v) for k, v in wanted.items() if os.environ.get(k) != v}
        if clash:
            raise RuntimeError(
                f"gateway_provisioners was already loaded with other settings: {clash}"
            )
        return
    os.environ.update(wanted)
    from gateway_provisioners import response_manager

    # start its response socket now, on this address, rather than inside the first launch
    response_manager.ResponseManager.instance()


def install_launcher(target: Path) -> Path:
    """Put gateway_provisioners' Python launcher, assembled with its shared listener (as its
    own `jupyter-ssh-spec install` does), into `target/scripts`."""
    package = resources.files("gateway_provisioners").joinpath("kernel-launchers")
    scripts = target / "scripts"
    scripts.mkdir(parents=True, exist_ok=True)
    for source in (
        package.joinpath("python", "scripts", "launch_ipykernel.py"),
        package.joinpath("shared", "scripts", "server_listener.py"),
    ):
        with resources.as_file(source) as path:
            shutil.copyfile(path, scripts / path.name)
    return scripts / "launch_ipykernel.py"
