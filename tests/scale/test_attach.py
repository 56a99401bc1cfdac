"""Two app instances on one PostgreSQL, kernels on the SSH kernel hosts, KERNEL_STATE_KEY set:
a turn taken by the other instance attaches to the session's running kernel (a random value no
replay could rebuild comes back), the kernel row names the new driver, the secrets are not in
the database in clear, the first instance takes the session back without having killed the
kernel; a kernel killed on its host makes the other instance rehydrate instead; a kernel its
driver evicted leaves no row behind; the instance that drove a kernel is SIGKILLed and the other
one attaches to it all the same."""

from __future__ import annotations

import contextlib
import shutil
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text

from tests.app.conftest import Server, runtime_missing, server_env, start_server
from tests.fake_llm import FakeLLM
from tests.scale.conftest import Postgres, wait_done
from tests.scale.kernel_hosts import KernelHosts, kill_kernel
from tests.scale.test_instances import respond, runner_pid, submit

pytestmark = pytest.mark.slow

SECRET = (
    "import random\nsecret = random.random()\n"
    "key = get_ipython().kernel.session.key.decode()\nfinal_answer([secret, key])"
)


MAX_KERNELS = 4  # session kernels per instance


@dataclass
class Pair:
    a: Server
    b: Server
    pg: Postgres
    env: dict[str, str]
    base: Path

    def restart_a(self) -> None:
        self.a = start_server(self.env, self.base, name="attach-a")


@pytest.fixture
def llm(fake_llm: FakeLLM) -> FakeLLM:
    fake_llm.responder = respond
    return fake_llm


@pytest.fixture(scope="module")
def pair(
    postgres: Postgres,
    hosts: KernelHosts,
    fake_llm_server: FakeLLM,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Pair]:
    reason = runtime_missing()
    if reason:
        pytest.skip(reason)
    base = tmp_path_factory.mktemp("attach")
    shutil.copytree(hosts.home / ".ssh", base / ".ssh")  # server_env makes base their HOME
    env = server_env(
        fake_llm_server,
        base,
        DATABASE_URL=postgres.url,
        QUEUE_STALLED_MS="4000",
        KERNEL_PLACEMENT="ssh",
        KERNEL_HOSTS=",".join(hosts.addresses),
        KERNEL_RESPONSE_IP=hosts.gateway_ip,
        KERNEL_LOG_DIR=str(base),
        KERNEL_POOL_SIZE="1",
        MAX_KERNELS=str(MAX_KERNELS),
        KERNEL_STATE_KEY=Fernet.generate_key().decode(),
    )
    a = start_server(env, base, name="attach-a")
    b = start_server(env, base, name="attach-b")
    made = Pair(a, b, postgres, env, base)
    yield made
    for server in (made.a, made.b):
        server.stop()
    for host in hosts.hosts:  # a SIGKILLed instance's remote kernels outlive it, by design
        hosts.kill_kernels(host)


@contextlib.contextmanager
def paused(server: Server) -> Iterator[None]:
    """SIGSTOP the instance, so that the other one's worker takes the next job; its kernels and
    database rows stay as they are (SIGTERM would shut its kernels down)."""
    server.process.send_signal(signal.SIGSTOP)
    try:
        yield
    finally:
        server.process.send_signal(signal.SIGCONT)


def turn(pair: Pair, on: Server, code: str, session: str) -> dict:
    """A turn run by `on` (the other instance paused meanwhile)."""
    with paused(pair.b if on is pair.a else pair.a):
        execution_id = submit(on, code, session)
        record = wait_done(on, execution_id)
    assert record["status"] == "completed", record["error"]
    assert runner_pid(pair.pg, execution_id) == on.process.pid
    return record


def kernel_row(pg: Postgres, session: str) -> dict | None:
    """The session's kernel row, with the pid of the instance it names."""
    engine = create_engine(pg.url)
    try:
        with engine.connect() as conn:
            row = conn.execute(
                text(
                    "SELECT k.kernel_id, k.host, k.state, i.pid FROM session_kernels k "
                    "LEFT JOIN instances i ON i.instance_id = k.instance WHERE k.session_id = :s"
                ),
                {"s": session},
            ).first()
    finally:
        engine.dispose()
    return None if row is None else dict(row._mapping)


def test_the_other_instance_attaches_to_the_running_kernel(pair: Pair, llm: FakeLLM) -> None:
    first = turn(pair, pair.a, SECRET, "ses-attach")
    secret, key = first["result"]
    row = kernel_row(pair.pg, "ses-attach")
    assert row is not None and row["pid"] == pair.a.process.pid
    assert key and key not in row["state"]  # the HMAC key is sealed, not stored in clear
    kernel_id = row["kernel_id"]

    second = turn(pair, pair.b, "final_answer(secret)", "ses-attach")
    assert second["result"] == secret  # the same kernel: a replay would draw a new number
    row = kernel_row(pair.pg, "ses-attach")
    assert row is not None and row["pid"] == pair.b.process.pid and row["kernel_id"] == kernel_id

    # back on the first instance: it let the kernel go instead of killing it, and attaches again
    third = turn(pair, pair.a, "final_answer(secret)", "ses-attach")
    assert third["result"] == secret
    row = kernel_row(pair.pg, "ses-attach")
    assert row is not None and row["pid"] == pair.a.process.pid and row["kernel_id"] == kernel_id


def test_a_killed_kernel_makes_the_other_instance_rehydrate(pair: Pair, llm: FakeLLM) -> None:
    code = "import random\nx = 41\nsecret = random.random()\nfinal_answer(secret)"
    first = turn(pair, pair.a, code, "ses-attach-gone")
    row = kernel_row(pair.pg, "ses-attach-gone")
    assert row is not None
    assert kill_kernel(row["kernel_id"]), "the kernel's processes were not found on its host"

    second = turn(pair, pair.b, "final_answer([x + 1, secret])", "ses-attach-gone")
    value, again = second["result"]
    assert value == 42  # the first turn's notebook was replayed into a fresh kernel
    assert again != first["result"]  # ...which drew its random number anew: no attach
    row2 = kernel_row(pair.pg, "ses-attach-gone")
    assert row2 is not None and row2["pid"] == pair.b.process.pid
    assert row2["kernel_id"] != row["kernel_id"]


def test_an_evicted_kernel_leaves_no_row_behind(pair: Pair, llm: FakeLLM) -> None:
    """The instance driving a kernel evicts it: the row goes with it, so the next turn on the
    other instance rehydrates at once instead of trying to attach to a dead kernel first; a row
    the other instance took meanwhile stays."""
    turn(pair, pair.a, "x = 41\nfinal_answer(x)", "ses-evicted")
    turn(pair, pair.a, "final_answer(1)", "ses-taken")
    turn(pair, pair.b, "final_answer(2)", "ses-taken")  # b drives it; a still holds it too
    taken = kernel_row(pair.pg, "ses-taken")
    assert taken is not None and taken["pid"] == pair.b.process.pid
    for n in range(MAX_KERNELS):  # newer sessions take all of a's slots: both are evicted
        turn(pair, pair.a, "final_answer(0)", f"ses-evictor-{n}")
    deadline = time.monotonic() + 30
    while kernel_row(pair.pg, "ses-evicted") is not None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert kernel_row(pair.pg, "ses-evicted") is None
    assert kernel_row(pair.pg, "ses-taken") == taken  # still b's, the same kernel
    for n in range(MAX_KERNELS):
        row = kernel_row(pair.pg, f"ses-evictor-{n}")
        assert row is not None and row["pid"] == pair.a.process.pid

    second = turn(pair, pair.b, "final_answer(x + 1)", "ses-evicted")
    assert second["result"] == 42  # rehydrated from the notebook
    log = pair.b.log.read_text()
    assert "session ses-evicted: no attach" not in log  # kernels/: an attach was tried
    assert "session ses-evicted: its kernel on" not in log  # agent/queue.py: ...and failed
    assert "session ses-taken: attached to its kernel" in log  # the log says what it did


def test_the_driving_instance_killed_the_other_attaches(pair: Pair, llm: FakeLLM) -> None:
    """The instance that ran the session's turn is SIGKILLed: its remote kernel lives on, and
    the other instance's next turn attaches to it (the random number is back: no replay)."""
    first = turn(pair, pair.a, SECRET, "ses-attach-died")
    secret, _ = first["result"]
    row = kernel_row(pair.pg, "ses-attach-died")
    assert row is not None and row["pid"] == pair.a.process.pid
    pair.a.stop(signal.SIGKILL)
    try:
        execution_id = submit(pair.b, "final_answer(secret)", "ses-attach-died")
        record = wait_done(pair.b, execution_id)
        assert record["status"] == "completed", record["error"]
        assert record["result"] == secret
        assert "session ses-attach-died: attached to its kernel" in pair.b.log.read_text()
        row2 = kernel_row(pair.pg, "ses-attach-died")
        assert row2 is not None and row2["pid"] == pair.b.process.pid
        assert row2["kernel_id"] == row["kernel_id"]
    finally:
        pair.restart_a()
