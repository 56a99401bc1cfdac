"""The kernelspecs: `python3` (plain ipykernel), `agent-sandbox` (our provisioner) and
`agent-remote` (gateway_provisioners' distributed provisioner, kernels on SSH hosts); with
`--kubernetes IMAGE` also `agent-kubernetes` (its kubernetes provisioner, kernels as pods).

`python -m kernels.kernelspec install --prefix PREFIX` writes them into
PREFIX/share/jupyter/kernels (idempotent), with the remote launcher's scripts beside
`agent-remote` (a kernel host runs them from there). `SandboxSpecManager` serves them from
memory, so session kernels start the same way whether or not the specs are installed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from jupyter_client.kernelspec import KernelSpec, KernelSpecManager

from kernels.config import KernelConfig, KubernetesPods
from kernels.kubernetes import KUBERNETES_KERNEL, install_kubernetes_launcher, kubernetes_spec
from kernels.remote import REMOTE_KERNEL, install_launcher, remote_spec
from kernels.sandbox import prlimit_argv

__all__ = ["SANDBOX_KERNEL", "SandboxSpecManager", "install", "kernel_specs", "main"]

SANDBOX_KERNEL = "agent-sandbox"


def kernel_specs(config: KernelConfig) -> dict[str, dict[str, Any]]:
    """kernel.json contents by kernel name."""
    argv = [config.python, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    return {
        "python3": {
            "argv": argv,
            "display_name": "Python 3 (ipykernel)",
            "language": "python",
            "metadata": {"debugger": True},
        },
        SANDBOX_KERNEL: {
            "argv": argv,
            "display_name": "Python 3 (agent sandbox)",
            "language": "python",
            # SIGINT to the process group would kill bwrap and the kernel with it
            "interrupt_mode": "message",
            "metadata": {
                "kernel_provisioner": {
                    "provisioner_name": "sandbox-provisioner",
                    "config": {
                        "isolation": config.isolation,
                        "runtime_dir": str(config.runtime_dir),
                        "limits": config.limits.model_dump(),
                    },
                }
            },
        },
        # limits only: a session kernel's own spec adds its bubblewrap command line
        REMOTE_KERNEL: remote_spec(config, prlimit_argv(config.limits)),
    }


class SandboxSpecManager(KernelSpecManager):
    """Our specs from memory, built from the server's KernelConfig."""

    def __init__(self, config: KernelConfig, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._specs = kernel_specs(config)

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        if kernel_name in self._specs:
            return KernelSpec(resource_dir="", **self._specs[kernel_name])
        return super().get_kernel_spec(kernel_name)


def install(
    prefix: Path, config: KernelConfig | None = None, pods: KubernetesPods | None = None
) -> list[Path]:
    """Write (or rewrite) the kernelspecs under PREFIX/share/jupyter/kernels, and the remote
    launcher's scripts beside `agent-remote` (and with `pods`, `agent-kubernetes`'s)."""
    config = config or KernelConfig(python=str(Path(prefix) / "bin" / "python"))
    root = Path(prefix) / "share" / "jupyter" / "kernels"
    specs = kernel_specs(config)
    if pods is not None:
        scripts = root / KUBERNETES_KERNEL / "scripts"
        specs[KUBERNETES_KERNEL] = kubernetes_spec(config.python, scripts, pods)
    written = []
    for name, spec in specs.items():
        target = root / name
        target.mkdir(parents=True, exist_ok=True)
        path = target / "kernel.json"
        path.write_text(json.dumps(spec, indent=1) + "\n", encoding="utf-8")
        written.append(path)
        if name == REMOTE_KERNEL:
            written.append(install_launcher(target))
        if name == KUBERNETES_KERNEL:
            written.append(install_kubernetes_launcher(target))
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kernels.kernelspec")
    sub = parser.add_subparsers(dest="command", required=True)
    inst = sub.add_parser("install", help="install the python3, agent-sandbox, agent-remote specs")
    inst.add_argument("--prefix", type=Path, default=Path(sys.prefix))
    inst.add_argument(
        "--ssh-host", action="append", default=[], help="a kernel host for agent-remote"
    )
    inst.add_argument(
        "--kubernetes",
        metavar="IMAGE",
        help="also agent-kubernetes, kernels as pods of this image (deploy/kubernetes/)",
    )
    inst.add_argument("--k8s-namespace", default="agent-kernels", help="the kernel pods' namespace")
    args = parser.parse_args(argv)
    prefix = args.prefix.resolve()
    python = prefix / "bin" / "python"
    config = KernelConfig(python=str(python if python.exists() else sys.executable))
    config.ssh.hosts = list(args.ssh_host)
    pods = None
    if args.kubernetes:
        pods = KubernetesPods(image=args.kubernetes, namespace=args.k8s_namespace)
    for path in install(prefix, config, pods):
        print(f"kernelspec: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
