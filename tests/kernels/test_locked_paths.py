"""A checkout under a directory other users cannot traverse (a clone in /root, a 0700 temp dir):
sandboxed kernels still start, since bwrap binds as root and the session uid is taken inside."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from kernels import SandboxUnavailable, SessionKernels
from tests.kernels.conftest import kernel_config

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.geteuid() != 0, reason="per-session uids exist only as root"),
]


@pytest.fixture(scope="module")
def locked() -> Iterator[Path]:
    root = Path(f"/tmp/akt-locked-{os.getpid()}")
    root.mkdir(mode=0o700)
    # the venv seen through the locked directory, as if the clone (and its .venv) lived there
    (root / "venv").symlink_to(Path(sys.executable).absolute().parent.parent)
    yield root
    shutil.rmtree(root, ignore_errors=True)


async def test_sandboxed_kernels_run_from_a_locked_checkout(locked: Path) -> None:
    config = kernel_config(
        "locked",
        workspace_root=locked / "ws",
        runtime_dir=locked / "rt",
        python=str(locked / "venv" / "bin" / "python"),
        pool_size=0,
    )
    kernels = SessionKernels(config)
    try:
        await kernels.start()
        assert kernels.isolation.warnings == [], kernels.isolation.warnings
        session = await kernels.open("locked-1")
        result = await session.run(
            "import os, sys\n"
            "open('made-here.txt', 'w').write('x')\n"
            "print(os.getuid(), os.getgroups(), sys.prefix, sorted(os.listdir(os.path.dirname(sys.prefix))))"
        )
        assert result.ok, result
        uid, groups, prefix, listing = result.stdout.split(" ", 3)
        assert int(uid) == session.uid and uid != "0" and groups == "[]"
        assert prefix == str(locked / "venv")
        # only the bound paths: the workspaces under the locked dir stay out of sight
        assert listing.strip() == "['rt', 'venv']"
        made = session.workspace / "made-here.txt"
        assert made.stat().st_uid == session.uid
    finally:
        await kernels.shutdown()


async def test_unsandboxed_kernels_refuse_a_locked_checkout(locked: Path) -> None:
    config = kernel_config("locked-plain", workspace_root=locked / "ws-plain", isolation="none")
    with pytest.raises(SandboxUnavailable, match="not traversable by other users"):
        await SessionKernels(config).start()
