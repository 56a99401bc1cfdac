"""A kernel left by a server that died while starting it is killed by the next server's start."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from kernels import SessionKernels
from tests.kernels.conftest import kernel_config, running


def _dead_pid() -> int:
    gone = subprocess.Popen(["/bin/true"])
    gone.wait()
    return gone.pid


def test_start_kills_kernels_of_a_gone_server() -> None:
    runtime = Path(f"/tmp/akt-orphans-{os.getpid()}")
    stale = runtime / f"{_dead_pid()}-dead" / "k1"
    live = runtime / f"{os.getpid()}-mine" / "k1"  # this process's own: left alone
    for folder in (stale, live):
        folder.mkdir(parents=True)
    # what an orphaned kernel looks like in the process table: its argv names its directory
    sleeper = "import time; time.sleep(120)"
    argv = [sys.executable, "-c", sleeper, "ipykernel_launcher", "-f"]
    orphan = subprocess.Popen([*argv, f"{stale}/c.json"])
    ours = subprocess.Popen([*argv, f"{live}/c.json"])
    try:
        kernels = SessionKernels(kernel_config("orphans", runtime_dir=runtime))
        kernels._sweep_stale()  # what start() does first
        orphan.wait(timeout=10)
        assert orphan.returncode == -9 and not stale.parent.exists()
        time.sleep(0.2)
        assert running(ours.pid) and live.exists()
    finally:
        for proc in (orphan, ours):
            proc.kill()
            proc.wait()
        shutil.rmtree(runtime, ignore_errors=True)
