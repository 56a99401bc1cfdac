"""The agent-kubernetes kernelspec as `python -m kernels.kernelspec install --kubernetes` writes
it: jupyter_client takes it, its provisioner is gateway_provisioners' installed entry point, its
argv is what that launcher parses, and our pod template renders to a locked-down Pod.

No cluster is reached: the provisioner's module needs the `kubernetes` package, which is not
installed here, so it is found (entry point, module file) but not imported."""

from __future__ import annotations

import ast
import importlib.util
import json
import re
from pathlib import Path

import jinja2
import pytest
import yaml
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.provisioning.factory import KernelProvisionerFactory

from kernels.kernelspec import main
from kernels.kubernetes import KUBERNETES_KERNEL, POD_TEMPLATE

IMAGE = "registry.example/agent-kernel:1"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    prefix = tmp_path_factory.mktemp("prefix")
    assert main(["install", "--prefix", str(prefix), "--kubernetes", IMAGE]) == 0
    return prefix / "share" / "jupyter" / "kernels" / KUBERNETES_KERNEL


def _launcher_options(script: Path) -> set[str]:
    """The option strings the launcher's argparse defines, read from its source."""
    options = set()
    for node in ast.walk(ast.parse(script.read_text("utf-8"))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "add_argument"
        ):
            options |= {a.value for a in node.args if isinstance(a, ast.Constant)}
    return options


def test_jupyter_client_reads_the_spec(installed: Path) -> None:
    specs = KernelSpecManager(kernel_dirs=[str(installed.parent)])
    spec = specs.get_kernel_spec(KUBERNETES_KERNEL)
    provisioner = spec.metadata["kernel_provisioner"]
    assert provisioner["config"]["image_name"] == IMAGE
    assert spec.env["KERNEL_NAMESPACE"] == "agent-kernels"
    assert "curve" in spec.metadata["supported_encryption"]


def test_provisioner_is_an_installed_entry_point(installed: Path) -> None:
    name = json.loads((installed / "kernel.json").read_text())["metadata"]["kernel_provisioner"][
        "provisioner_name"
    ]
    entry = KernelProvisionerFactory.instance().provisioners[name]
    module, _, cls = entry.value.partition(":")
    assert (module, cls) == ("gateway_provisioners.k8s", "KubernetesProvisioner")
    assert importlib.util.find_spec(module) is not None
    source = Path(importlib.util.find_spec(module).origin or "").read_text("utf-8")
    assert f"class {cls}(" in source


def test_argv_is_what_the_launcher_parses(installed: Path) -> None:
    argv = json.loads((installed / "kernel.json").read_text())["argv"]
    script = Path(argv[1])
    assert script == installed / "scripts" / "launch_kubernetes.py" and script.is_file()
    assert Path(argv[0]).name.startswith("python")
    flags = {a for a in argv[2:] if a.startswith("--")}
    assert flags <= _launcher_options(script)
    # the placeholders gateway_provisioners' RemoteProvisionerBase.pre_launch fills
    placeholders = {m for a in argv for m in re.findall(r"\{([a-z_]+)\}", a)}
    assert placeholders == {
        "kernel_id",
        "port_range",
        "response_address",
        "public_key",
        "transport_encryption",
    }


def test_pod_template_renders_a_locked_down_pod(installed: Path) -> None:
    """Rendered as launch_kubernetes.py does: each KERNEL_* of the kernel's env as `kernel_*`."""
    spec = json.loads((installed / "kernel.json").read_text())
    env = {
        **spec["env"],
        "KERNEL_ID": "k-1",
        "KERNEL_POD_NAME": "agent-k-1",
        "KERNEL_IMAGE": IMAGE,
    }
    keywords = {name.lower(): yaml.safe_load(value) for name, value in env.items()}
    loader = jinja2.FileSystemLoader(str(installed / "scripts"))
    environment = jinja2.Environment(
        loader=loader, trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined
    )
    pod = yaml.safe_load(environment.get_template(POD_TEMPLATE).render(**keywords))
    assert pod["kind"] == "Pod" and pod["metadata"]["namespace"] == "agent-kernels"
    assert pod["spec"]["automountServiceAccountToken"] is False
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    assert pod["spec"]["securityContext"]["runAsUser"] == 1000
    (container,) = pod["spec"]["containers"]
    assert container["image"] == IMAGE
    assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["resources"]["limits"] == {
        "cpu": "1",
        "memory": "1Gi",
        "ephemeral-storage": "1Gi",
    }


def test_dockerfile_starts_the_launcher_as_non_root() -> None:
    dockerfile = Path(__file__).parents[2] / "deploy" / "kubernetes" / "Dockerfile"
    lines = [line.strip() for line in dockerfile.read_text().splitlines()]
    final = lines[max(i for i, line in enumerate(lines) if line.startswith("FROM ")) :]
    user = [line.split()[1] for line in final if line.startswith("USER ")]
    assert user and not user[-1].startswith(("0", "root"))
    assert any(line.startswith("CMD") and "bootstrap-kernel.sh" in line for line in final)
