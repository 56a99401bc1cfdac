"""KernelStateBox: a remote session kernel's state (connection and provisioner info, which
hold the kernel's HMAC key and curve secret key) sealed for the database with Fernet
(AES-128-CBC + HMAC-SHA256, from `cryptography`) under KERNEL_STATE_KEY.

A row that does not open (another key, tampered) counts as no row: the turn falls back to
rehydration. Several keys, comma-separated, open rows (the first one seals): rotate by putting
the new key first and dropping the old one once the rows were rewritten (each turn rewrites).
"""

from __future__ import annotations

import json

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from kernels.launcher import KernelState

__all__ = ["KernelStateBox", "KernelStateUnreadable"]


class KernelStateUnreadable(Exception):
    """The stored state was sealed under another key, or changed."""


class KernelStateBox:
    def __init__(self, keys: str) -> None:
        try:
            fernets = [Fernet(k.strip()) for k in keys.split(",") if k.strip()]
        except ValueError as exc:
            raise ValueError(
                "KERNEL_STATE_KEY must be Fernet keys (32 url-safe base64-encoded bytes each, "
                "e.g. from cryptography.fernet.Fernet.generate_key()), comma-separated"
            ) from exc
        if not fernets:
            raise ValueError("KERNEL_STATE_KEY is empty")
        self._fernet = MultiFernet(fernets)

    def seal(self, state: KernelState) -> str:
        return self._fernet.encrypt(json.dumps(state.to_json()).encode()).decode("ascii")

    def open(self, token: str) -> KernelState:
        try:
            raw = self._fernet.decrypt(token.encode("ascii"))
        except (InvalidToken, ValueError) as exc:
            raise KernelStateUnreadable(
                "the stored kernel state does not open with this key"
            ) from exc
        return KernelState.from_json(json.loads(raw))
