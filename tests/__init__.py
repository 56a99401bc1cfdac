"""Test suites; `tests.fake_llm` is the fake LLM server they share."""
