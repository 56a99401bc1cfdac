"""big-blob test skill: a large result that must stay in the kernel, never in the prompt."""

MARKER = "ZEBRAQUARTZ"


def big_blob(size_kb: int = 300) -> str:
    """Return about `size_kb` kilobytes of text made of a marker word."""
    word = MARKER + " "
    return word * (size_kb * 1024 // len(word))
