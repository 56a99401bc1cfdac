"""Settings: parsed once from the environment and config/*.yaml; one clear line per mistake."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from agent.config import CONFIG_DIR_VAR, ENV_VARS, LLM_ENV_VARS, ConfigError, load_settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the project's config directory to break in each test."""
    shutil.copytree(ROOT / "config", tmp_path / "config")
    return tmp_path


def load(project: Path, **env: str):
    return load_settings(env=env, root=project, read_dotenv=True)


def test_the_shipped_config_loads_with_defaults(project: Path) -> None:
    settings = load(project)
    assert settings.server.port == 7860
    assert settings.agents.default_agent == "master"
    assert {"master", "researcher", "coder"} <= set(settings.agents.agents)
    assert settings.server.database_url == f"sqlite:///{project / 'data/agent.db'}"
    assert settings.server.notebooks_dir == project / "notebooks/runs"
    assert settings.kernels.workspace_root == project / "workspace"
    assert "default" not in settings.llm.providers  # no provider configured, no key


def test_environment_values_are_parsed_and_typed(project: Path) -> None:
    settings = load(
        project,
        PORT="8123",
        AGENT_API_KEYS="k1, k2,",
        REQUEST_TIMEOUT_MS="1500",
        SESSION_REHYDRATE="off",
        KERNEL_ISOLATION="none",
    )
    assert settings.server.port == 8123
    assert settings.server.api_keys == ["k1", "k2"]
    assert settings.server.request_timeout_s == 1.5
    assert settings.server.rehydrate is False
    assert settings.kernels.isolation == "none"


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("PORT", "abc", "invalid literal"),
        ("PORT", "70000", "less than or equal to 65535"),
        ("KERNEL_ISOLATION", "docker", "'bubblewrap' or 'none'"),
        ("SESSION_REHYDRATE", "maybe", "expected one of"),
        ("AGENT_ENV", "staging", "'development', 'production' or 'test'"),
    ],
)
def test_a_bad_variable_names_itself_and_what_is_allowed(
    project: Path, name: str, value: str, says: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load(project, **{name: value})
    message = str(caught.value)
    assert message.startswith(f"{name}={value!r}")
    assert says in message
    assert "\n" not in message


def test_broken_yaml_names_the_file_and_line(project: Path) -> None:
    (project / "config/agents.yaml").write_text(
        "default_agent: master\nagents:\n  master: [unclosed\n"
    )
    with pytest.raises(ConfigError, match=r"config/agents\.yaml line \d+: broken YAML"):
        load(project)


def test_a_wrong_value_in_yaml_names_the_file_line_and_key(project: Path) -> None:
    (project / "config/kernels.yaml").write_text("pool_size: 2\nmax_kernels: none\n")
    with pytest.raises(ConfigError) as caught:
        load(project)
    assert re.search(
        r"config/kernels\.yaml line 2: kernels\.max_kernels: Input should be a valid integer",
        str(caught.value),
    )


def test_an_unknown_yaml_key_is_refused(project: Path) -> None:
    (project / "config/kernels.yaml").write_text("pool_sise: 2\n")
    with pytest.raises(ConfigError, match=r"kernels\.pool_sise: Extra inputs are not permitted"):
        load(project)


def test_mcp_yaml_takes_secrets_from_the_environment(project: Path) -> None:
    (project / "config/mcp.yaml").write_text(
        "servers:\n"
        "  internal:\n"
        "    transport: http\n"
        "    url: http://${MCP_HOST}:9000/mcp\n"
        "    headers: {Authorization: 'Bearer ${MCP_TOKEN}'}\n"
    )
    server = load(project, MCP_HOST="10.0.0.5", MCP_TOKEN="t0k").skills.mcp_servers["internal"]
    assert server.url == "http://10.0.0.5:9000/mcp"
    assert server.headers == {"Authorization": "Bearer t0k"}
    with pytest.raises(ConfigError, match=r"mcp\.yaml: \$\{MCP_TOKEN\} is used but MCP_TOKEN"):
        load(project, MCP_HOST="10.0.0.5")


def test_a_yaml_file_that_is_not_a_mapping_is_refused(project: Path) -> None:
    (project / "config/skills.yaml").write_text("- just\n- a list\n")
    with pytest.raises(ConfigError, match="expected a mapping at the top level"):
        load(project)


def test_unknown_default_provider_lists_the_allowed_ones(project: Path) -> None:
    with pytest.raises(
        ConfigError,
        match=r"DEFAULT_LLM_PROVIDER='gpt5': allowed: anthropic, openai-compatible, openai, scripted",
    ):
        load(project, DEFAULT_LLM_PROVIDER="gpt5")


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"LLM_BASE_URL": "ftp://x"}, "LLM_BASE_URL='ftp://x'"),
        ({"ANTHROPIC_API_KEY": "k", "ANTHROPIC_BASE_URL": "zz"}, "ANTHROPIC_BASE_URL='zz'"),
        ({"LLM_BASE_URL": "http://x", "LLM_TIMEOUT_MS": "-5"}, "LLM_TIMEOUT_MS='-5'"),
    ],
)
def test_a_bad_provider_variable_names_the_variable_not_llm_yaml(
    project: Path, env: dict[str, str], named: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load(project, **env)
    assert str(caught.value).startswith(named + ": llm.providers.default.")


def test_default_provider_follows_the_vendor_variables(project: Path) -> None:
    claude = load(project, ANTHROPIC_API_KEY="sk-ant-test").llm.providers["default"]
    assert (claude.type, claude.api_key, claude.api_key_env) == (
        "anthropic",
        "sk-ant-test",
        "ANTHROPIC_API_KEY",
    )

    glm = load(
        project,
        LLM_BASE_URL="http://127.0.0.1:9/v1",
        LLM_API_KEY="k",
        DEFAULT_LLM_MODEL="glm-4-plus",
        LLM_TIMEOUT_MS="2000",
        LLM_MAX_RETRIES="1",
    ).llm.providers["default"]
    assert (glm.type, glm.base_url, glm.model, glm.timeout_s, glm.max_retries) == (
        "openai-compatible",
        "http://127.0.0.1:9/v1",
        "glm-4-plus",
        2.0,
        1,
    )

    scripted = load(project, DEFAULT_LLM_PROVIDER="scripted").llm.providers["default"]
    assert scripted.script_file == project / "config/scripted-demo.yaml"


def test_named_providers_take_their_key_from_the_named_variable(project: Path) -> None:
    (project / "config/llm.yaml").write_text(
        "providers:\n  glm:\n    type: openai-compatible\n    model: glm-4-plus\n"
        "    base_url: http://127.0.0.1:9/v1\n    api_key_env: GLM_API_KEY\n"
    )
    settings = load(project, GLM_API_KEY="secret", DEFAULT_LLM_PROVIDER="glm")
    assert settings.llm.default == "glm"
    assert settings.llm.providers["glm"].api_key == "secret"
    assert "secret" not in settings.model_dump_json()  # keys never leave in dumps


def test_dotenv_is_read_and_the_environment_wins(project: Path) -> None:
    (project / ".env").write_text("PORT=9001\nAGENT_CONCURRENCY=7\n")
    settings = load(project, PORT="9002")
    assert (settings.server.port, settings.server.concurrency) == (9002, 7)


def test_config_dir_can_move(project: Path) -> None:
    (project / "config").rename(project / "elsewhere")
    (project / "elsewhere/kernels.yaml").write_text("pool_size: 5\n")
    assert load(project, **{CONFIG_DIR_VAR: "elsewhere"}).kernels.pool_size == 5


def _example_names() -> set[str]:
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", text, flags=re.M))


def test_env_example_lists_every_variable_with_a_comment() -> None:
    read = set(ENV_VARS) | set(LLM_ENV_VARS) | {CONFIG_DIR_VAR}
    listed = _example_names()
    assert read - listed == set(), "variables missing from .env.example"
    assert listed - read == set(), ".env.example lists variables nothing reads"
    lines = (ROOT / ".env.example").read_text().splitlines()
    for index, line in enumerate(lines):
        if re.match(r"^[A-Z][A-Z0-9_]+=", line):
            previous = lines[index - 1]
            assert previous.startswith("#") or re.match(r"^[A-Z][A-Z0-9_]+=", previous), line


def test_env_example_itself_loads(project: Path) -> None:
    shutil.copy(ROOT / ".env.example", project / ".env")
    assert load(project).server.port == 7860
