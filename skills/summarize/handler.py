"""summarize skill: the LLM layer when the agent hands one in, else a labelled extractive summary."""

from __future__ import annotations

import re
from collections import Counter

from skills.records import SkillContext

__all__ = ["extractive_summary", "summarize"]

_MAX_INPUT_CHARS = 60_000
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n{2,}")
_WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)
_STOP_WORDS = (
    "the and for are but not you all any can had her was one our out has his how its may new now "
    "see two who did get let put say she too use that with have this will your from they been were "
    "what when which their there would about into than them then these some could other only also"
)
_STOP = frozenset(_STOP_WORDS.split())


def _terms(text: str) -> list[str]:
    # a crude plural fold, so "kernel" and "kernels" count as one term
    words = [w for w in _WORD.findall(text.lower()) if w not in _STOP]
    return [w[:-1] if w.endswith("s") and len(w) > 3 else w for w in words]


def extractive_summary(text: str, max_words: int) -> str:
    """The highest-scoring sentences (word frequency), in text order, within max_words."""
    sentences = [s.strip() for s in _SENTENCE.split(text) if s.strip()]
    freq = Counter(_terms(text))

    def score(sentence: str) -> float:
        words = _terms(sentence)
        return sum(freq[w] for w in words) / (len(words) + 1) if words else 0.0

    ranked = sorted(range(len(sentences)), key=lambda i: -score(sentences[i]))
    chosen: list[int] = []
    used = 0
    for index in ranked:
        length = len(sentences[index].split())
        if used + length > max_words:
            # no back-filling with weaker, shorter sentences once the best ones fill the budget
            if chosen:
                break
            continue
        chosen.append(index)
        used += length
    if not chosen and sentences:
        return " ".join(sentences[ranked[0]].split()[:max_words])
    return " ".join(sentences[i] for i in sorted(chosen))


def _clip(text: str) -> str:
    if len(text) <= _MAX_INPUT_CHARS:
        return text
    half = _MAX_INPUT_CHARS // 2
    return f"{text[:half]}\n[... {len(text) - 2 * half} characters cut ...]\n{text[-half:]}"


async def summarize(text: str, max_words: int = 120, *, context: SkillContext) -> str:
    """Summarize `text` in at most `max_words` words; returns the summary as a string.

    Without a usable LLM the result is an extractive summary that starts with "[extractive summary".
    """
    if not text.strip():
        return ""
    max_words = max(1, max_words)
    if context.llm is None:
        note = "no LLM available"
    else:
        prompt = (
            f"Summarize the following text in at most {max_words} words. Answer with the summary "
            f"only, in the text's language.\n\n<text>\n{_clip(text)}\n</text>"
        )
        try:
            summary = (await context.llm(prompt, max_words * 2 + 64)).strip()
        except Exception as exc:
            note = f"the LLM call failed: {type(exc).__name__}: {str(exc)[:160]}"
        else:
            if summary:
                return summary
            note = "the LLM returned nothing"
    return f"[extractive summary: {note}] {extractive_summary(text, max_words)}"
