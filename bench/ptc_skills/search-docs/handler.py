"""search-docs benchmark skill: hits with long text bodies."""

import hashlib

TOPICS = ("kernel", "sandbox", "notebook", "skill", "session", "replay")


def _n(text: str, mod: int) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) % mod


def search_docs(query: str) -> list[dict]:
    """Search the docs for `query`; up to 8 hits {"title", "url", "text"}."""
    hits = []
    for i in range(8):
        topic = TOPICS[_n(f"{query}{i}", len(TOPICS))]
        page = _n(f"{query}{i}p", 12)
        hits.append(
            {
                "title": f"{topic.title()} guide, part {page}",
                "url": f"https://docs.example.org/{topic}/{page}",
                "text": f"This page explains the {topic} in depth, with examples and caveats. " * 6,
            }
        )
    return hits
