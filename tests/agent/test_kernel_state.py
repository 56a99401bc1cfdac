"""KernelStateBox: a remote kernel's connection info sealed for the database."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from agent.kernel_state import KernelStateBox, KernelStateUnreadable
from kernels.launcher import KernelState

HMAC = "6a0c1f2e-hmac-key-4d5b"
CURVE = "curve-secret-Zk9#ww"


def state() -> KernelState:
    connection = {"key": HMAC.encode(), "curve_secretkey": CURVE, "shell_port": 40001}
    return KernelState(
        kernel_id="k-1",
        connection=connection,
        provisioner={"connection_info": connection, "comm_port": 40010},
        host="10.0.0.11",
        uid=200001,
        run_count=3,
    )


def test_sealed_state_opens_to_the_same_and_hides_the_secrets() -> None:
    box = KernelStateBox(Fernet.generate_key().decode())
    token = box.seal(state())
    assert HMAC not in token and CURVE not in token and "10.0.0.11" not in token
    opened = box.open(token)
    assert opened.connection["key"] == HMAC and opened.connection["curve_secretkey"] == CURVE
    assert (opened.kernel_id, opened.uid, opened.run_count) == ("k-1", 200001, 3)


def test_another_key_or_a_changed_token_does_not_open() -> None:
    token = KernelStateBox(Fernet.generate_key().decode()).seal(state())
    with pytest.raises(KernelStateUnreadable):
        KernelStateBox(Fernet.generate_key().decode()).open(token)
    key = Fernet.generate_key().decode()
    good = KernelStateBox(key).seal(state())
    changed = good[:-6] + ("A" if good[-6] != "A" else "B") + good[-5:]
    with pytest.raises(KernelStateUnreadable):
        KernelStateBox(key).open(changed)


def test_rotation_opens_with_the_old_key_second() -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    token = KernelStateBox(old).seal(state())
    assert KernelStateBox(f"{new},{old}").open(token).kernel_id == "k-1"


def test_a_malformed_key_is_refused_naming_the_variable() -> None:
    with pytest.raises(ValueError, match="KERNEL_STATE_KEY"):
        KernelStateBox("not-a-fernet-key")
