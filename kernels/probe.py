"""The isolation in force, probed once at start from inside a real kernel."""

from __future__ import annotations

import ast
import json
import logging
from typing import Any

from kernels.cell import quiet_execute
from kernels.config import KernelConfig
from kernels.launcher import LiveKernel
from kernels.results import IsolationReport
from kernels.sandbox import bound_back

__all__ = ["PROBE", "probe_isolation"]

log = logging.getLogger(__name__)

# runs inside the kernel; leaves no variable behind. No outbound connection is tried.
PROBE = """\
def _agent_probe(hidden, allowed):
    import json, os, resource, socket
    status = dict(line.split(":", 1) for line in open("/proc/self/status") if ":" in line)
    def writable(path):
        try:
            with open(os.path.join(path, ".agent-probe"), "w"):
                pass
            os.remove(os.path.join(path, ".agent-probe"))
            return True
        except OSError:
            return False
    def listing(path):
        try:  # a session uid may not read a host directory at all (isolation: none)
            return os.listdir(path)
        except OSError:
            return []
    limits = {name: resource.getrlimit(getattr(resource, "RLIMIT_" + name.upper()))[0]
              for name in ("as", "nproc", "fsize", "cpu")}
    return json.dumps({
        "uid": os.getuid(),
        "pid": os.getpid(),
        "interfaces": sorted(name for _, name in socket.if_nameindex()),
        "cap_eff": status.get("CapEff", "").strip(),
        "root_writable": writable("/"),
        "cwd": os.getcwd(),
        "cwd_writable": writable("."),
        "hidden_visible": [
            os.path.join(p, e) for p in hidden for e in listing(p)
            if not any(a.startswith(os.path.join(p, e)) for a in allowed)
        ],
        "env": sorted(os.environ),
        "rlimits": limits,
    })
"""


async def probe_isolation(entry: tuple[LiveKernel, Any], config: KernelConfig) -> IsolationReport:
    """Ask a freshly started kernel what it can see and do."""
    live = entry[0]
    hidden = [str(p) for p in config.hide_paths]
    # what we put there ourselves: the binds, and masks nested in masks (empty tmpfs)
    allowed = [str(p) for p in [*bound_back(live.launch), live.launch.kernel_dir]] + hidden
    reply = await quiet_execute(
        live.client,
        PROBE,
        limit_s=config.start_timeout_s,
        expressions={"probe": f"_agent_probe({hidden!r}, {allowed!r})"},
    )
    await quiet_execute(live.client, "del _agent_probe", limit_s=config.start_timeout_s)
    found = (reply.get("user_expressions") or {}).get("probe") or {}
    text = (found.get("data") or {}).get("text/plain", "")
    try:
        details: dict[str, Any] = json.loads(ast.literal_eval(text))
    except (ValueError, SyntaxError) as exc:
        raise RuntimeError(f"the isolation probe failed: {found.get('evalue') or exc}") from None
    warnings: list[str] = []
    if config.isolation == "none":  # (local or remote)
        warnings.append(
            "isolation is 'none': kernels run unsandboxed with the server's network and files "
            "(a development setting)"
        )
        network = True
    elif live.launch.remote:
        # the kernel host's network is shared on purpose (TCP channels); said on /ready instead
        network = True
        details["host"] = live.host
    else:
        network = details["interfaces"] != ["lo"]
        if network:
            warnings.append(f"the sandbox sees network interfaces {details['interfaces']}")
        if details["cap_eff"].strip("0"):
            warnings.append(f"the kernel has capabilities {details['cap_eff']}")
        if details["root_writable"]:
            warnings.append("the sandbox's / is writable")
        if details["hidden_visible"]:
            warnings.append(f"masked paths are visible: {details['hidden_visible']}")
    return IsolationReport(
        mode=config.isolation, network=network, details=details, warnings=warnings
    )
