"""Kernels that cannot start safely refuse at start, in one line that says what to do."""

from __future__ import annotations

import pytest

from kernels import SandboxUnavailable, SessionKernels
from tests.kernels.conftest import kernel_config


async def test_missing_bubblewrap_is_named() -> None:
    kernels = SessionKernels(kernel_config("no-bwrap", bwrap="/nonexistent/bwrap"))
    with pytest.raises(SandboxUnavailable, match=r"bubblewrap is not installed at /nonexistent/"):
        await kernels.start()
    await kernels.shutdown()
