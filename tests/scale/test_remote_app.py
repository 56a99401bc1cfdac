"""One app instance whose session kernels run on two SSH kernel hosts: a two-turn session
through REST, then the session's host taken down and its next turn rehydrated on the other."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from tests.app.conftest import Server, runtime_missing, server_env, start_server
from tests.fake_llm import FakeLLM
from tests.scale.conftest import wait_done
from tests.scale.kernel_hosts import KernelHosts
from tests.scale.test_instances import respond, submit

pytestmark = pytest.mark.slow

# the address the kernel's traffic leaves from: the host it runs on
HERE = (
    "import socket as _s\n_c = _s.socket(_s.AF_INET, _s.SOCK_DGRAM)\n"
    "_c.connect(({gateway!r}, 9)); here = _c.getsockname()[0]; _c.close()\n"
)


@pytest.fixture
def llm(fake_llm: FakeLLM) -> FakeLLM:
    fake_llm.responder = respond
    return fake_llm


@pytest.fixture(scope="module")
def remote_app(
    hosts: KernelHosts, fake_llm_server: FakeLLM, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    reason = runtime_missing()
    if reason:
        pytest.skip(reason)
    base = tmp_path_factory.mktemp("remote-app")
    shutil.copytree(hosts.home / ".ssh", base / ".ssh")  # server_env makes base its HOME
    env = server_env(
        fake_llm_server,
        base,
        KERNEL_PLACEMENT="ssh",
        KERNEL_HOSTS=",".join(hosts.addresses),
        KERNEL_RESPONSE_IP=hosts.gateway_ip,
        KERNEL_LOG_DIR=str(base),
        KERNEL_POOL_SIZE="1",
    )
    server = start_server(env, base, name="remote")
    yield server
    server.stop()


def test_two_turn_session_runs_on_a_kernel_host(
    remote_app: Server, hosts: KernelHosts, llm: FakeLLM
) -> None:
    code = HERE.format(gateway=hosts.gateway_ip) + "n = 20\nfinal_answer([here, n])"
    first = wait_done(remote_app, submit(remote_app, code, "ses-remote"))
    assert first["status"] == "completed", first["error"]
    host, n = first["result"]
    assert host in hosts.addresses and n == 20
    second = wait_done(remote_app, submit(remote_app, "final_answer([here, n + 1])", "ses-remote"))
    assert second["status"] == "completed", second["error"]
    assert second["result"] == [host, 21]  # the same kernel, its variables kept


def test_host_taken_down_session_rehydrated_on_the_other(
    remote_app: Server, hosts: KernelHosts, llm: FakeLLM
) -> None:
    gateway = hosts.gateway_ip
    first = wait_done(
        remote_app,
        submit(remote_app, HERE.format(gateway=gateway) + "x = 41\nfinal_answer(here)", "ses-down"),
    )
    assert first["status"] == "completed", first["error"]
    gone = next(h for h in hosts.hosts if h.ip == first["result"])
    hosts.take_down(gone)
    try:
        code = HERE.format(gateway=gateway) + "final_answer([here, x + 1])"
        second = wait_done(remote_app, submit(remote_app, code, "ses-down"), timeout=180)
        assert second["status"] == "completed", second["error"]
        where, value = second["result"]
        assert value == 42  # x is back: the first turn's notebook was replayed
        assert where in hosts.addresses and where != gone.ip
    finally:
        hosts.bring_up(gone)
