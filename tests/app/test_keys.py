"""KeyRing: plain and hashed keys, constant-time lookup, production refusal; the keys command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from agent.config import ConfigError, ServerSettings
from agent.http.auth import KeyRing, hash_key, key_from_headers

REPO = Path(__file__).resolve().parents[2]


def test_plain_and_file_keys(tmp_path: Path) -> None:
    keys_file = tmp_path / "keys.yaml"
    keys_file.write_text(
        yaml.safe_dump(
            {"keys": [{"id": "team", "sha256": hash_key("s3cret"), "skills": ["summarize"]}]}
        )
    )
    ring = KeyRing.from_settings(ServerSettings(api_keys=["plain"], api_keys_file=keys_file))
    assert ring.enabled
    assert ring.owner_for("s3cret") == "team"
    assert ring.owner_for("plain") == f"key-{hash_key('plain')[:12]}"
    assert ring.owner_for("wrong") is None and ring.owner_for(None) is None
    team = ring.key("team")
    assert team is not None and team.skills == ("summarize",)


def test_bad_keys_file_and_production_without_keys(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"keys": [{"id": "x", "sha256": "not-a-hash"}]}))
    with pytest.raises(ConfigError, match="sha256"):
        KeyRing.from_settings(ServerSettings(api_keys_file=bad))
    with pytest.raises(ConfigError, match="AGENT_ENV=production"):
        KeyRing.from_settings(ServerSettings(env="production"))
    assert not KeyRing.from_settings(ServerSettings()).enabled


def test_headers() -> None:
    assert key_from_headers("Bearer abc", None) == "abc"
    assert key_from_headers(None, "xyz") == "xyz"
    assert key_from_headers("Basic abc", None) is None


def test_keys_command_prints_a_key_and_its_hash() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "agent.http.keys", "new", "--id", "ops"],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=True,
    )
    key = done.stderr.strip().rsplit(" ", 1)[-1]
    entry = yaml.safe_load(done.stdout)[0]
    assert entry == {"id": "ops", "sha256": hash_key(key)}
