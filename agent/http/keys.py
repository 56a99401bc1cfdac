"""`python -m agent.http.keys new [--id ID]` prints a new key (stderr) and its keys-file entry
(stdout); `python -m agent.http.keys hash KEY` prints the entry of an existing key."""

from __future__ import annotations

import argparse
import secrets
import sys

import yaml

from agent.http.auth import hash_key

__all__ = ["entry_for", "main", "new_key"]


def new_key() -> str:
    return "ak_" + secrets.token_urlsafe(32)


def entry_for(key: str, key_id: str) -> str:
    """The YAML list item to paste under `keys:` in AGENT_API_KEYS_FILE."""
    return yaml.safe_dump([{"id": key_id, "sha256": hash_key(key)}], sort_keys=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m agent.http.keys", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    new = commands.add_parser("new", help="make a random key and print its entry")
    new.add_argument("--id", default=None, help="the key's id (owner of its executions)")
    hashed = commands.add_parser("hash", help="print the entry of an existing key")
    hashed.add_argument("key")
    hashed.add_argument("--id", default=None)
    args = parser.parse_args(argv)
    if args.command == "new":
        key = new_key()
        print(f"key (give it to the client; it is not stored): {key}", file=sys.stderr)
    else:
        key = args.key
    key_id = args.id or f"key-{hash_key(key)[:12]}"
    sys.stdout.write(entry_for(key, key_id))
    return 0


if __name__ == "__main__":
    sys.exit(main())
