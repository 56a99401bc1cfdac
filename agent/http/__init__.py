"""The HTTP layer: `create_app(settings)` (REST under /agent, ops routes, the Gradio UI at `/`),
the `KeyRing` of API keys both share, and RFC 9457 problems."""

from agent.http.app import begin_drain, create_app
from agent.http.auth import KeyRing
from agent.http.problems import Problem

__all__ = ["KeyRing", "Problem", "begin_drain", "create_app"]
