"""Hostile programs (tests/kernels/programs/) against the sandbox: each is contained, the session
stays usable and the server keeps serving."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import psutil
import pytest

from kernels import SessionKernel, SessionKernels
from kernels.config import PROJECT_DIR
from tests.kernels.conftest import HOST_SECRET, program, running

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
async def victim(kernels: SessionKernels) -> AsyncIterator[SessionKernel]:
    """Another session, live, with a secret in its workspace."""
    session = await kernels.open("victim-" + uuid.uuid4().hex[:6])
    await session.run("open('diary.txt', 'w').write('victim secret')")
    yield session
    await kernels.close(session.session_id)


@pytest.fixture(scope="module")
async def hostile(kernels: SessionKernels) -> AsyncIterator[SessionKernel]:
    session = await kernels.open("hostile-" + uuid.uuid4().hex[:6])
    yield session
    await kernels.close(session.session_id)


async def run_program(session: SessionKernel, name: str, **names: object) -> str:
    setup = "\n".join(f"{key} = {value!r}" for key, value in names.items())
    if setup:
        assert (await session.run(setup)).ok
    result = await session.run(program(name), timeout=20)
    return result.stdout + result.stderr + (result.error.evalue if result.error else "")


async def assert_usable(session: SessionKernel) -> None:
    result = await session.run("print('usable', 6 * 7)")
    assert result.ok and result.stdout == "usable 42\n", result


async def test_host_secrets_in_env_and_proc_are_unseen(hostile: SessionKernel) -> None:
    assert os.environ["AGENT_TEST_SECRET"] == HOST_SECRET
    out = await run_program(hostile, "env_secrets.py", SECRET=HOST_SECRET)
    assert out.startswith("CLEAN"), out


async def test_host_tcp_listener_is_unreachable(hostile: SessionKernel) -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        server.settimeout(0)
        out = await run_program(hostile, "host_tcp.py", HOST_PORT=server.getsockname()[1])
        with pytest.raises(BlockingIOError):
            server.accept()
    assert out.startswith("BLOCKED"), out


async def test_writes_outside_the_workspace_fail(
    kernels: SessionKernels, hostile: SessionKernel, victim: SessionKernel
) -> None:
    marker = f"/tmp/agent-escape-{uuid.uuid4().hex[:8]}"
    targets = [marker, str(victim.workspace / "planted.txt"), "/etc/agent-escape", "/usr/x"]
    out = await run_program(hostile, "write_outside.py", TARGETS=targets)
    # writes may land in the sandbox's private /tmp, never on the host
    assert not Path(marker).exists()
    assert not (victim.workspace / "planted.txt").exists()
    assert "'/etc/agent-escape': 'WROTE'" not in out and "'/usr/x': 'WROTE'" not in out, out


async def test_secret_files_are_unreadable(
    kernels: SessionKernels, hostile: SessionKernel, victim: SessionKernel
) -> None:
    env_file = PROJECT_DIR / ".env"
    created = not env_file.exists()
    if created:
        env_file.write_text("LLM_API_KEY=host-only\n")
    try:
        targets = [
            "/etc/shadow",
            str(env_file),
            str(PROJECT_DIR / "pyproject.toml"),
            str(victim.workspace / "diary.txt"),
        ]
        out = await run_program(
            hostile, "read_secrets.py", TARGETS=targets, PROJECT=str(PROJECT_DIR)
        )
    finally:
        if created:
            env_file.unlink()
    assert "READ:" not in out, out
    assert "host-only" not in out and "victim secret" not in out


async def test_read_only_paths_cannot_be_remounted(hostile: SessionKernel) -> None:
    out = await run_program(hostile, "remount.py")
    assert "WROTE" not in out and not Path("/usr/agent-remount-probe").exists()
    assert "', 0, " not in out, out  # mount(2) returned 0 nowhere


async def test_other_kernels_cannot_be_reached(
    kernels: SessionKernels, hostile: SessionKernel, victim: SessionKernel
) -> None:
    assert victim.live is not None
    out = await run_program(
        hostile, "other_kernels.py", RUNTIME_DIR=str(kernels.config.runtime_dir)
    )
    assert out.startswith("NONE") and "foreign: []" in out, out


async def test_infinite_loop_times_out_and_the_session_survives(hostile: SessionKernel) -> None:
    await hostile.run("survivor = 'yes'")
    result = await hostile.run(program("infinite_loop.py"), timeout=1.5)
    assert result.status == "timeout" and not result.state_lost
    assert (await hostile.run("print(survivor)")).stdout == "yes\n"


async def test_six_gib_allocation_is_a_memory_error(hostile: SessionKernel) -> None:
    result = await hostile.run(program("big_alloc.py"))
    assert result.error is not None and result.error.ename == "MemoryError"
    await assert_usable(hostile)


async def test_fork_bomb_is_limited_and_swept(hostile: SessionKernel) -> None:
    result = await hostile.run(program("fork_bomb.py"), timeout=20)
    assert result.error is not None and result.error.ename == "BlockingIOError"
    made = int(result.stdout.split()[-1])
    assert 0 < made < 300
    assert "leftover process" in result.stderr
    live = hostile.live
    assert live is not None
    assert not live.strays(), [
        (p.pid, p.status()) for p in psutil.Process(live.launcher_pid).children(recursive=True)
    ]
    forks = await hostile.run("import subprocess\nprint(subprocess.run(['true']).returncode)")
    assert forks.stdout == "0\n", forks  # the zombies were reaped: RLIMIT_NPROC has room again
    await assert_usable(hostile)


async def test_filling_tmp_stops_at_its_size(
    kernels: SessionKernels, hostile: SessionKernel
) -> None:
    result = await hostile.run(program("fill_tmp.py"), timeout=60)
    assert "STOPPED OSError 28" in result.stdout, result  # ENOSPC, not the host's memory
    written = int(result.stdout.split()[-1])
    assert written <= kernels.config.limits.tmp_mb
    await assert_usable(hostile)


async def test_killing_parent_init_and_host_fails(hostile: SessionKernel) -> None:
    out = await run_program(hostile, "kill_parent.py", HOST_PID=os.getpid())
    assert "'host': 'ProcessLookupError'" in out, out
    if os.geteuid() == 0:  # bwrap and its init run as root, the kernel as the session's uid
        assert "'parent': 'PermissionError'" in out and "'init': 'PermissionError'" in out
    assert running(os.getpid())
    await assert_usable(hostile)


async def test_exit_kernel_is_reported_and_recovered(kernels: SessionKernels) -> None:
    session = await kernels.open("exits-" + uuid.uuid4().hex[:6])
    result = await session.run(program("exit_kernel.py"))
    assert result.status == "died" and result.state_lost
    await assert_usable(session)
    await kernels.close(session.session_id)


async def test_output_flood_is_cut_and_the_server_keeps_serving(
    kernels: SessionKernels, hostile: SessionKernel
) -> None:
    result = await hostile.run(program("output_flood.py"), timeout=60)
    assert result.ok
    assert result.truncated_bytes > 40_000_000 and result.stdout.endswith("END\n")
    assert len(result.stdout) < kernels.config.limits.output_bytes + 200
    await assert_usable(hostile)
    assert psutil.Process().memory_info().rss < 2 * 1024**3


async def test_other_sessions_are_served_while_a_hostile_program_runs(
    kernels: SessionKernels, hostile: SessionKernel, victim: SessionKernel
) -> None:
    looping = asyncio.create_task(hostile.run(program("infinite_loop.py"), timeout=8))
    await asyncio.sleep(0.5)
    try:
        assert not looping.done() and hostile.busy
        served = await victim.run("print(open('diary.txt').read())")
        assert served.stdout == "victim secret\n", served
        fresh = await kernels.open("after-" + uuid.uuid4().hex[:6])
        assert (await fresh.run("print(2 + 2)")).stdout == "4\n"
        await kernels.close(fresh.session_id)
        assert not looping.done()  # both answered while the loop was still running
    finally:
        await hostile.interrupt()
        result = await looping
    assert result.status == "interrupted", result
    await assert_usable(hostile)
