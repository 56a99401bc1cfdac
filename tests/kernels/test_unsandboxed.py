"""`isolation: none` (a development setting): kernels start without bubblewrap, say so, and run;
two instances in one process keep out of each other's runtime files."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from kernels import SessionKernels
from tests.kernels.conftest import kernel_config

pytestmark = pytest.mark.slow


def _reachable_by_others(path: Path) -> bool:
    return all(p.stat().st_mode & 0o001 for p in [path, *path.parents])


# unsandboxed kernels run as session uids straight from the venv (test_locked_paths covers the
# refusal when they cannot reach it, as in a clone under /root)
needs_reachable_venv = pytest.mark.skipif(
    os.geteuid() == 0 and not _reachable_by_others(Path(sys.executable).absolute().parent),
    reason="the venv is not traversable by per-session uids",
)


@needs_reachable_venv
async def test_unsandboxed_kernels_start_warn_and_run(kernels: SessionKernels) -> None:
    neighbour = await kernels.open("neighbour")
    assert neighbour.live is not None
    neighbour_files = neighbour.live.launch.kernel_dir
    config = kernel_config("plain", isolation="none", pool_size=0)
    plain = SessionKernels(config)  # same runtime_dir, same process as the suite's instance
    try:
        # as root each session still gets its own uid, which cannot list /root: the probe copes
        await plain.start()
        assert plain.isolation.mode == "none" and plain.isolation.network
        assert any("isolation is 'none'" in w for w in plain.isolation.warnings)
        session = await plain.open("plain-1")  # a pooled kernel, adopted
        result = await session.run("import os; print(os.getcwd()); print(os.environ['HOME'])")
        assert result.ok and result.isolation == "none"
        assert result.stdout.split() == [str(session.workspace)] * 2
        # the kernel is the launcher (prlimit execs it): nothing above it counts as its own
        live = session.live
        assert live is not None and live.keep == {live.launcher_pid} and not live.strays()
        # the host's /tmp is shared: IPython's profile (startup files!) lives in the kernel's dir
        where = await session.run("print(get_ipython().profile_dir.location)")
        assert where.stdout.startswith(str(live.launch.kernel_dir) + "/"), where
    finally:
        await plain.shutdown()
        shutil.rmtree(config.workspace_root, ignore_errors=True)
    # shutting one instance down leaves the other's connection and socket files alone
    assert (neighbour_files / "c.json").exists()
    assert (await neighbour.run("print('still here')")).stdout == "still here\n"
    await kernels.close("neighbour")
