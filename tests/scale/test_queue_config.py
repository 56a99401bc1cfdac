"""Choosing the queue: bad combinations are one-line configuration errors, not crashes."""

from __future__ import annotations

import pytest

from agent.config import ConfigError, load_settings
from agent.http import create_app
from agent.queue import libpq_conninfo


def test_procrastinate_on_sqlite_is_a_config_error(tmp_path) -> None:
    env = {"TASK_QUEUE": "procrastinate", "DATABASE_URL": f"sqlite:///{tmp_path / 'a.db'}"}
    settings = load_settings(env, read_dotenv=False)
    with pytest.raises(ConfigError, match="needs a PostgreSQL DATABASE_URL"):
        create_app(settings, ui=False)


def test_an_unknown_queue_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="TASK_QUEUE"):
        load_settings({"TASK_QUEUE": "redis"}, read_dotenv=False)


def test_libpq_url_from_the_sqlalchemy_url() -> None:
    url = "postgresql+psycopg://agent:s%40cret@db:5433/agent"
    assert libpq_conninfo(url) == "postgresql://agent:s%40cret@db:5433/agent"
    with pytest.raises(ValueError, match="needs a PostgreSQL"):
        libpq_conninfo("sqlite:///x.db")
