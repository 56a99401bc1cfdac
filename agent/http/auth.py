"""KeyRing: API keys from `AGENT_API_KEYS` (plain) and `AGENT_API_KEYS_FILE` (SHA-256 hashes only).

A presented key is hashed and compared with every stored hash in constant time. Each key has a
stable id — the owner of what it creates; a plain key's id is `key-` + 12 hex of its hash. The
REST routes and the Gradio app use the same ring.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agent.config import ConfigError, ServerSettings

__all__ = ["ApiKey", "KeyRing", "hash_key", "key_from_headers"]


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class _FileEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._@-]+$")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    skills: list[str] | None = None
    agents: list[str] | None = None


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")

    keys: list[_FileEntry] = []


@dataclass(frozen=True)
class ApiKey:
    id: str
    digest: bytes
    skills: tuple[str, ...] | None = None  # None: every skill
    agents: tuple[str, ...] | None = None  # None: every agent


def key_from_headers(authorization: str | None, x_api_key: str | None) -> str | None:
    """`Authorization: Bearer <key>` or `x-api-key: <key>`."""
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    if x_api_key and x_api_key.strip():
        return x_api_key.strip()
    return None


class KeyRing:
    def __init__(self, keys: list[ApiKey]) -> None:
        self._keys = keys
        self._by_id = {k.id: k for k in keys}

    @property
    def enabled(self) -> bool:
        return bool(self._keys)

    @classmethod
    def from_settings(cls, server: ServerSettings) -> KeyRing:
        """Keys of the environment and the keys file; ConfigError on a bad file or a production
        server without keys."""
        keys = [
            ApiKey(id=f"key-{hash_key(k)[:12]}", digest=bytes.fromhex(hash_key(k)))
            for k in server.api_keys
        ]
        if server.api_keys_file is not None:
            keys.extend(_read_file(server.api_keys_file))
        ids = [k.id for k in keys]
        duplicate = sorted({i for i in ids if ids.count(i) > 1})
        if duplicate:
            raise ConfigError(f"AGENT_API_KEYS_FILE: key ids used twice: {', '.join(duplicate)}")
        if not keys and server.env == "production":
            raise ConfigError(
                "AGENT_ENV=production needs API keys: set AGENT_API_KEYS or AGENT_API_KEYS_FILE"
            )
        return cls(keys)

    def owner_for(self, key: str | None) -> str | None:
        """The id of the key, or None when unknown; every stored hash is compared (constant time)."""
        if key is None:
            return None
        digest = bytes.fromhex(hash_key(key))
        found: str | None = None
        for candidate in self._keys:
            if hmac.compare_digest(candidate.digest, digest):
                found = candidate.id
        return found

    def key(self, owner: str) -> ApiKey | None:
        return self._by_id.get(owner)


def _read_file(path: Path) -> list[ApiKey]:
    try:
        raw: Any = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise ConfigError(
            f"AGENT_API_KEYS_FILE={str(path)!r}: cannot read: {exc.strerror}"
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"AGENT_API_KEYS_FILE={str(path)!r}: broken YAML: {exc}") from None
    try:
        parsed = _File.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(map(str, first["loc"]))
        raise ConfigError(f"AGENT_API_KEYS_FILE={str(path)!r}: {where}: {first['msg']}") from None
    return [
        ApiKey(
            id=entry.id,
            digest=bytes.fromhex(entry.sha256),
            skills=tuple(entry.skills) if entry.skills is not None else None,
            agents=tuple(entry.agents) if entry.agents is not None else None,
        )
        for entry in parsed.keys
    ]
