"""Shared pytest setup: the fake LLM server fixtures (`fake_llm`) for every suite."""

pytest_plugins = ["tests.fake_llm.fixtures"]
