"""Kernel test fixtures: the fake LLM endpoint."""

from llm_fixtures import fake_llm  # noqa: F401  (a fixture)
