"""Session kernels on two SSH kernel hosts (network namespaces on this machine) through
gateway_provisioners' distributed provisioner: state, the skill bridge, interrupts, rich
outputs, a kernel killed on its host, round-robin placement, nothing of the app's env there."""

from __future__ import annotations

import base64
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from kernels import KernelConfig, SessionKernels, SkillStub
from kernels.config import SshHosts
from tests.scale.kernel_hosts import KernelHosts, kill_kernel

pytestmark = pytest.mark.slow

APP_SECRET = "app-secret-7d2e"
# the address the kernel's own traffic leaves from: the host it runs on
WHERE = (
    "import socket as _s\n"
    "_c = _s.socket(_s.AF_INET, _s.SOCK_DGRAM); _c.connect(({gateway!r}, 9))\n"
    "print(_c.getsockname()[0]); _c.close(); del _c, _s"
)
# a 1x1 PNG
PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
)


class Outcome:
    def __init__(self, ok: bool, result: Any = None, error: str | None = None) -> None:
        self.ok, self.result, self.error, self.error_type = ok, result, error, None


async def echo(name: str, args: list[Any], kwargs: dict[str, Any]) -> Outcome:
    return Outcome(True, f"{name}:{args[0]}") if name == "echo" else Outcome(False, error=name)


def remote_config(hosts: KernelHosts, name: str) -> KernelConfig:
    base = Path(f"/tmp/akr-{os.getpid()}")
    return KernelConfig(
        placement="ssh",
        ssh=SshHosts(hosts=hosts.addresses, response_ip=hosts.gateway_ip, log_dir=hosts.home),
        workspace_root=base / name / "ws",
        runtime_dir=base / "rt",
        pool_size=1,
        max_kernels=6,
        run_timeout_s=30,
        interrupt_grace_s=3,
    )


@pytest_asyncio.fixture(scope="module")
async def remote(hosts: KernelHosts) -> AsyncIterator[SessionKernels]:
    os.environ["AGENT_TEST_SECRET"] = APP_SECRET
    config = remote_config(hosts, "kernels")
    pool = SessionKernels(config)
    await pool.start()
    try:
        yield pool
    finally:
        await pool.shutdown()
        os.environ.pop("AGENT_TEST_SECRET", None)
        shutil.rmtree(config.workspace_root.parent.parent, ignore_errors=True)
        left = {h.name: hosts.kernel_pids(h) for h in hosts.hosts}
        for h in hosts.hosts:
            hosts.kill_kernels(h)
        assert not any(left.values()), f"kernel processes left on the hosts: {left}"


async def where(pool: SessionKernels, session: str, hosts: KernelHosts) -> str:
    kernel = await pool.open(session)
    result = await kernel.run(WHERE.format(gateway=hosts.gateway_ip))
    assert result.status == "ok", result.error
    return result.stdout.strip()


async def test_two_turns_keep_state_on_a_remote_host(
    remote: SessionKernels, hosts: KernelHosts
) -> None:
    kernel = await remote.open("r-state")
    first = await kernel.run("x = 41\nimport os\nprint(os.getcwd())")
    assert first.status == "ok", first.error
    assert first.stdout.strip() == "/home/agent"
    second = await kernel.run("final_answer(x + 1)")
    assert second.status == "ok" and second.final_answer == 42 and not second.state_lost
    assert await where(remote, "r-state", hosts) in hosts.addresses
    assert kernel.live is not None and kernel.live.host in hosts.addresses
    assert remote.isolation.mode == "bubblewrap" and remote.isolation.network
    assert remote.isolation.details["cap_eff"].strip("0") == ""


async def test_skill_call_crosses_back_to_the_app(remote: SessionKernels) -> None:
    kernel = await remote.open("r-skill")
    await kernel.install_stubs([SkillStub("echo", "(text: str) -> str", "Echo.")])
    result = await kernel.run("final_answer(echo('hi') + '!')", on_call=echo)
    assert result.status == "ok", result.error
    assert result.final_answer == "echo:hi!"
    assert len(result.calls) == 1


async def test_interrupt_of_an_endless_loop_keeps_variables(remote: SessionKernels) -> None:
    kernel = await remote.open("r-loop")
    await kernel.run("kept = 'yes'")
    result = await kernel.run("while True:\n    pass", timeout=2)
    assert result.status == "timeout" and result.error is not None
    assert result.error.ename == "KeyboardInterrupt" and not result.state_lost
    after = await kernel.run("print(kept)")
    assert after.stdout.strip() == "yes"


async def test_image_output_comes_back(remote: SessionKernels) -> None:
    kernel = await remote.open("r-image")
    code = (
        "import base64\nfrom IPython.display import Image, display\n"
        f"display(Image(data=base64.b64decode({base64.b64encode(PIXEL).decode()!r})))"
    )
    result = await kernel.run(code)
    assert result.status == "ok", result.error
    images = [o for o in result.outputs if "image/png" in o.get("data", {})]
    assert len(images) == 1
    assert base64.b64decode(images[0]["data"]["image/png"]) == PIXEL


async def test_kernel_env_holds_nothing_of_the_app(remote: SessionKernels) -> None:
    kernel = await remote.open("r-env")
    result = await kernel.run(
        "import os, glob\nfound = [p for p in glob.glob('/proc/*/environ')]\n"
        "hits = []\nfor p in found:\n    try:\n        hits += [p] if b'" + APP_SECRET + "' "
        "in open(p, 'rb').read() else []\n    except OSError:\n        pass\n"
        "print(sorted(os.environ), hits)"
    )
    assert result.status == "ok", result.error
    assert APP_SECRET not in result.stdout and "AGENT_TEST_SECRET" not in result.stdout
    assert "[]" in result.stdout.splitlines()[-1]


async def test_channels_are_curve_encrypted(remote: SessionKernels) -> None:
    kernel = await remote.open("r-curve")
    assert kernel.live is not None
    info = kernel.live.manager.get_connection_info()
    assert info["transport"] == "tcp" and info["ip"] in remote.config.ssh.hosts
    assert kernel.live.manager.curve_publickey and kernel.live.client.curve_publickey
    provisioner = await kernel.live.manager.provisioner.get_provisioner_info()  # type: ignore[union-attr]
    assert provisioner["assigned_host"] == info["ip"] and provisioner["comm_port"] > 0


async def test_kernel_killed_on_its_host_gives_a_fresh_one(
    remote: SessionKernels, hosts: KernelHosts
) -> None:
    kernel = await remote.open("r-killed")
    await kernel.run("lost = 1")
    assert kernel.live is not None
    info = await kernel.live.manager.provisioner.get_provisioner_info()  # type: ignore[union-attr]
    assert kill_kernel(info["kernel_id"]), "the kernel's processes were not found on its host"
    result = await kernel.run("print(lost)")
    assert result.state_lost and result.status == "error"
    assert result.error is not None and result.error.ename == "NameError"
    again = await kernel.run("print('fresh')")
    assert again.status == "ok" and again.stdout.strip() == "fresh"


async def test_round_robin_uses_both_hosts(remote: SessionKernels, hosts: KernelHosts) -> None:
    seen = {await where(remote, f"r-rr-{n}", hosts) for n in range(4)}
    assert seen == set(hosts.addresses)


@pytest_asyncio.fixture(scope="module")
async def other(hosts: KernelHosts, remote: SessionKernels) -> AsyncIterator[SessionKernels]:
    """A second SessionKernels (another app instance's) on the same hosts and workspaces."""
    pool = SessionKernels(remote_config(hosts, "kernels"))
    await pool.start()
    try:
        yield pool
    finally:
        await pool.shutdown()


async def test_another_pool_attaches_and_keeps_the_variables(
    remote: SessionKernels, other: SessionKernels
) -> None:
    kernel = await remote.open("r-attach")
    first = await kernel.run("import random\nsecret = random.random()\nfinal_answer(secret)")
    assert first.status == "ok", first.error
    state = await kernel.export_state()
    assert state is not None and state.host in remote.config.ssh.hosts
    adopted = await other.adopt("r-attach", state)
    assert adopted is not None
    await remote.release("r-attach")  # the first lets go without ending the kernel
    second = await adopted.run("final_answer(secret)")
    assert second.status == "ok" and not second.state_lost, second.error
    assert second.final_answer == first.final_answer  # the same kernel: no replay could do this
    # and back: the first pool attaches again from the second's state
    back_state = await other.export("r-attach")
    assert back_state is not None and back_state.kernel_id == state.kernel_id
    await other.release("r-attach")
    back = await remote.adopt("r-attach", back_state)
    assert back is not None
    third = await back.run("final_answer(secret)")
    assert third.final_answer == first.final_answer
    await remote.close("r-attach")


async def test_attach_to_a_killed_kernel_fails_and_leaves_the_session_free(
    remote: SessionKernels, other: SessionKernels, hosts: KernelHosts
) -> None:
    kernel = await remote.open("r-gone")
    await kernel.run("gone = 1")
    state = await kernel.export_state()
    assert state is not None
    assert kill_kernel(state.kernel_id)
    await remote.release("r-gone")
    assert await other.adopt("r-gone", state, limit_s=3) is None
    fresh = await other.open("r-gone")  # a fresh kernel, as after any loss
    result = await fresh.run("print('new')")
    assert result.status == "ok" and result.stdout.strip() == "new"
    await other.close("r-gone")
