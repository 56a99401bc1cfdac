"""lookup test skill: a deterministic small result."""


def lookup(key: str) -> dict:
    """Look `key` up; returns {"key": key, "value": 7 * len(key)}."""
    return {"key": key, "value": 7 * len(key)}
