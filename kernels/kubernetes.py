"""Kernels as Kubernetes pods: the `agent-kubernetes` kernelspec for gateway_provisioners' stock
`kubernetes-provisioner`.

Its argv runs on the app's side: gateway_provisioners' `launch_kubernetes.py` renders the pod
template beside it (ours, `kernel-pod.yaml.j2`: non-root, no capabilities, read-only root, no
service-account token, resource limits) from the KERNEL_* variables of the kernel's environment
and creates the pod; the image (deploy/kubernetes/Dockerfile) starts the Python launcher, which
sends the connection info back to the provisioner's response address, as over SSH.

Not wired into `placement` (no cluster is reachable here): the spec is written by
`python -m kernels.kernelspec install --kubernetes IMAGE`. The provisioner's module needs the
`kubernetes` and `jinja2` packages (gateway_provisioners' `k8s` extra) where it runs.
"""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path
from typing import Any

from kernels.config import KubernetesPods
from kernels.remote import LAUNCHER_FLAGS

__all__ = [
    "KUBERNETES_KERNEL",
    "KUBERNETES_PROVISIONER",
    "POD_TEMPLATE",
    "install_kubernetes_launcher",
    "kubernetes_spec",
]

KUBERNETES_KERNEL = "agent-kubernetes"
KUBERNETES_PROVISIONER = "kubernetes-provisioner"
POD_TEMPLATE = "kernel-pod.yaml.j2"  # the launcher reads this name from its own directory


def kubernetes_spec(python: str, scripts: Path, pods: KubernetesPods) -> dict[str, Any]:
    """kernel.json: `python` runs the pod launcher in `scripts` on the app's side."""
    return {
        "argv": [
            python,
            str(scripts / "launch_kubernetes.py"),
            *LAUNCHER_FLAGS,
        ],
        "display_name": "Python 3 (agent kernel, Kubernetes pod)",
        "language": "python",
        "interrupt_mode": "message",
        # each KERNEL_* becomes a `kernel_*` name in the pod template
        "env": {
            "KERNEL_NAMESPACE": pods.namespace,
            "KERNEL_SERVICE_ACCOUNT_NAME": pods.service_account,
            "KERNEL_UID": str(pods.uid),
            "KERNEL_GID": str(pods.uid),
            "KERNEL_CPUS": pods.cpu,
            "KERNEL_CPUS_LIMIT": pods.cpu_limit,
            "KERNEL_MEMORY": pods.memory,
            "KERNEL_MEMORY_LIMIT": pods.memory_limit,
            "KERNEL_STORAGE_LIMIT": pods.storage_limit,
            "KERNEL_TMP_LIMIT": pods.tmp_limit,
        },
        "metadata": {
            "supported_encryption": ["curve"],
            "kernel_provisioner": {
                "provisioner_name": KUBERNETES_PROVISIONER,
                "config": {"image_name": pods.image, "port_range": pods.port_range},
            },
        },
    }


def install_kubernetes_launcher(target: Path) -> Path:
    """gateway_provisioners' pod launcher and our pod template into `target/scripts`."""
    scripts = target / "scripts"
    scripts.mkdir(parents=True, exist_ok=True)
    launcher = resources.files("gateway_provisioners").joinpath(
        "kernel-launchers", "kubernetes", "scripts", "launch_kubernetes.py"
    )
    for source in (launcher, resources.files("kernels").joinpath(POD_TEMPLATE)):
        with resources.as_file(source) as path:
            shutil.copyfile(path, scripts / path.name)
    return scripts
