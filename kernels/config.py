"""Settings of the kernel layer: the sandbox, the pool and the limits (config/kernels.yaml)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["PROJECT_DIR", "KernelConfig", "KubernetesPods", "SandboxLimits", "SshHosts"]

# the checkout this package runs from: masked inside the sandbox (it holds .env and the code)
PROJECT_DIR = Path(__file__).resolve().parent.parent


class SandboxLimits(BaseModel):
    """rlimits and output caps applied to every sandboxed kernel."""

    model_config = ConfigDict(extra="forbid")

    memory_mb: int = Field(1024, ge=64, description="RLIMIT_AS of the kernel process")
    max_processes: int = Field(64, ge=8, description="RLIMIT_NPROC of the session's uid")
    file_size_mb: int = Field(64, ge=1, description="RLIMIT_FSIZE")
    cpu_seconds: int = Field(3600, ge=1, description="RLIMIT_CPU over the kernel's life")
    tmp_mb: int = Field(
        256, ge=8, description="size of each private tmpfs (/tmp, /var/tmp, /dev/shm): host RAM"
    )
    output_bytes: int = Field(
        64 * 1024, ge=1024, description="cap per stream per run (head+tail kept)"
    )


class SshHosts(BaseModel):
    """Kernel hosts reached over SSH by gateway_provisioners' distributed provisioner.

    The SSH key and known_hosts are the app user's own (~/.ssh, as paramiko reads them; an
    unknown host key is refused). Each host needs the same venv (and so the launcher) and the
    same WORKSPACE_DIR, on shared storage, at the same paths as the app (docs/scaling.md)."""

    model_config = ConfigDict(extra="forbid")

    hosts: list[str] = Field(default_factory=list, description="names or addresses, round-robin")
    user: str = Field("root", description="the SSH user; root allows per-session uids")
    port: int = Field(22, ge=1, le=65535)
    response_ip: str | None = Field(
        None, description="the app's address the hosts reach (default: its first public IP)"
    )
    response_port: int = Field(8877, ge=1024, le=65535, description="tried first, then others")
    port_range: str = Field(
        "0..0", pattern=r"^\d+\.\.\d+$", description="the kernels' ports on a host; 0..0: any"
    )
    encryption: Literal["disabled", "auto", "required"] = Field(
        "required", description="CurveZMQ on the kernel's ZMQ channels"
    )
    python: str | None = Field(None, description="the kernel's interpreter there (default: ours)")
    signal_timeout_s: float = Field(
        0.5, gt=0, le=5, description="a liveness poll of a launcher's comm port; no answer: gone"
    )
    log_dir: Path = Field(Path("/tmp"), description="on each host: the launchers' logs")


class KubernetesPods(BaseModel):
    """Kernel pods of gateway_provisioners' kubernetes-provisioner (the `agent-kubernetes`
    kernelspec; deploy/kubernetes/ has the image and the cluster objects)."""

    model_config = ConfigDict(extra="forbid")

    image: str = Field(description="the kernel image (deploy/kubernetes/Dockerfile), pushed")
    namespace: str = Field("agent-kernels", description="where kernel pods are created")
    service_account: str = Field("agent-kernel", description="the kernel pods' (no rights)")
    uid: int = Field(1000, ge=1, description="the image's non-root user")
    cpu: str = Field("250m", description="request")
    cpu_limit: str = Field("1")
    memory: str = Field("256Mi", description="request")
    memory_limit: str = Field("1Gi")
    storage_limit: str = Field("1Gi", description="the workspace and the container's writes")
    tmp_limit: str = Field("256Mi", description="/tmp, in memory")
    port_range: str = Field("0..0", pattern=r"^\d+\.\.\d+$")


class KernelConfig(BaseModel):
    """How session kernels are launched, pooled and bounded."""

    model_config = ConfigDict(extra="forbid")

    isolation: Literal["bubblewrap", "none"] = "bubblewrap"
    placement: Literal["local", "ssh"] = Field(
        "local", description="local: kernels on this host; ssh: on `ssh.hosts`"
    )
    ssh: SshHosts = SshHosts()
    python: str = Field(default_factory=lambda: sys.executable, description="a real binary path")
    bwrap: str = Field("/usr/bin/bwrap", description="the bubblewrap binary")
    workspace_root: Path = Path("workspace")
    runtime_dir: Path = Field(
        default_factory=lambda: Path("/tmp/agent-kernels"),
        description="per-kernel directories for connection and ipc socket files (short paths)",
    )
    hide_paths: list[Path] = Field(
        default_factory=lambda: [PROJECT_DIR, Path.home()],
        description="masked with an empty tmpfs inside the sandbox (the project, $HOME)",
    )
    pool_size: int = Field(2, ge=0)
    max_kernels: int = Field(8, ge=1)
    open_wait_s: float = Field(30.0, gt=0, description="how long open() waits for a free slot")
    idle_cull_s: float = Field(900.0, gt=0)
    run_timeout_s: float = Field(60.0, gt=0)
    interrupt_grace_s: float = Field(5.0, gt=0)
    start_timeout_s: float = Field(30.0, gt=0, description="kernel start to ready")
    uid_base: int = Field(200000, ge=1000, description="per-session uids when running as root")
    uid_count: int = Field(10000, ge=16, description="size of the per-session uid range")
    limits: SandboxLimits = SandboxLimits()
