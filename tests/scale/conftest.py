"""The scale suite's machines: a throwaway PostgreSQL cluster and two app instances on it.

The cluster is made with Debian's `initdb`/`pg_ctl` in a temp dir, as the `postgres` user when
the suite runs as root (initdb refuses root), listening on a free loopback port; it is stopped
and removed at the end. Both instances share the database, NOTEBOOKS_DIR and the workspace root
(as instances on one machine do).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.app.conftest import Server, free_port, runtime_missing, server_env, start_server
from tests.fake_llm import FakeLLM
from tests.scale.kernel_hosts import KernelHosts, KernelHostsUnavailable, kernel_hosts

PG_BIN = Path("/usr/lib/postgresql")


def _pg_bin() -> Path | None:
    versions = sorted(PG_BIN.glob("*/bin/initdb")) if PG_BIN.is_dir() else []
    return versions[-1].parent if versions else None


@dataclass
class Postgres:
    url: str  # SQLAlchemy URL (postgresql+psycopg://)
    data: Path
    bin: Path
    user: str | None

    def ctl(self, *args: str) -> None:
        _as(self.user, [str(self.bin / "pg_ctl"), "-D", str(self.data), *args])


def _as(user: str | None, argv: list[str]) -> None:
    command = ["runuser", "-u", user, "--", *argv] if user else argv
    subprocess.run(command, check=True, capture_output=True, timeout=120)


class PostgresUnavailable(Exception):
    """This machine cannot run a throwaway cluster (the reason says why)."""


@contextlib.contextmanager
def throwaway_postgres(root: Path) -> Iterator[Postgres]:
    """A cluster in `root` on a free loopback port, stopped and removed on exit."""
    binary = _pg_bin()
    if binary is None:
        raise PostgresUnavailable(
            "PostgreSQL is not installed (make setup installs Debian's postgresql)"
        )
    user = None
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            raise PostgresUnavailable(
                "running as root with no `postgres` user to run initdb as"
            ) from None
        user = "postgres"
    data = root / "data"
    data.mkdir(mode=0o700)
    if user:
        shutil.chown(root, user)
        shutil.chown(data, user)
    port = free_port()
    _as(
        user, [str(binary / "initdb"), "-D", str(data), "-U", "agent", "--auth=trust", "-E", "UTF8"]
    )
    options = f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={root}"
    options += " -c max_connections=200 -c fsync=off"
    pg = Postgres(f"postgresql+psycopg://agent@127.0.0.1:{port}/postgres", data, binary, user)
    pg.ctl("-o", options, "-l", str(root / "pg.log"), "-w", "start")
    try:
        yield pg
    finally:
        pg.ctl("-m", "immediate", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Postgres]:
    try:
        with throwaway_postgres(tmp_path_factory.mktemp("pg")) as pg:
            yield pg
    except PostgresUnavailable as exc:
        pytest.skip(str(exc))


@dataclass
class Cluster:
    a: Server
    b: Server
    env: dict[str, str]
    base: Path

    def restart(self, name: str) -> Server:
        server = start_server(self.env, self.base, name=name)
        setattr(self, name, server)
        return server


@pytest.fixture(scope="module")
def cluster(
    postgres: Postgres, fake_llm_server: FakeLLM, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    reason = runtime_missing()
    if reason:
        pytest.skip(reason)
    base = tmp_path_factory.mktemp("scale")
    env = server_env(
        fake_llm_server,
        base,
        DATABASE_URL=postgres.url,
        QUEUE_STALLED_MS="4000",
        AGENT_CONCURRENCY="3",
        MAX_KERNELS="6",
    )
    a = start_server(env, base, name="a")
    b = start_server(env, base, name="b")
    cluster = Cluster(a, b, env, base)
    yield cluster
    for server in (cluster.a, cluster.b):
        server.stop()


def wait_done(server: Server, execution_id: str, timeout: float = 120.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        record = httpx.get(f"{server.url}/agent/executions/{execution_id}", timeout=10).json()
        if record["status"] in ("completed", "failed", "cancelled"):
            return dict(record)
        time.sleep(0.2)
    raise AssertionError(f"{execution_id} did not finish within {timeout:g} s")


@pytest.fixture(scope="session")
def hosts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KernelHosts]:
    """Two kernel hosts (network namespaces with sshd), made once per suite and removed at the
    end; the test process's HOME is their SSH client home meanwhile (paramiko reads ~/.ssh)."""
    root = Path(tempfile.mkdtemp(prefix="akh-"))  # short paths; removed by kernel_hosts
    try:
        with kernel_hosts(root) as made:
            home = os.environ.get("HOME")
            os.environ["HOME"] = str(made.home)
            try:
                yield made
            finally:
                if home is None:
                    os.environ.pop("HOME", None)
                else:
                    os.environ["HOME"] = home
    except KernelHostsUnavailable as exc:
        pytest.skip(f"no kernel hosts on this machine: {exc}")
