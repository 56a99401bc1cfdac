"""Serves the Gradio chat at `/` and the REST API under `/agent`, in one process: `python app.py`.

SIGTERM (or Ctrl-C) drains: no new tasks, running ones get SHUTDOWN_GRACE_MS, then every kernel
is shut down. A configuration problem prints one line and exits with status 2.
"""

from __future__ import annotations

import signal
import sys
from typing import Any

from agent.offline import quiet_gradio

quiet_gradio()  # before gradio is imported: no analytics, no version check, no hub calls

import uvicorn  # noqa: E402

from agent.config import ConfigError, load_settings  # noqa: E402
from agent.http import begin_drain, create_app  # noqa: E402
from agent.http.logs import configure_logging  # noqa: E402


class DrainingServer(uvicorn.Server):
    """Tells the app to drain the moment the signal arrives, before uvicorn closes connections."""

    def handle_exit(self, sig: int, frame: Any) -> None:
        app = self.config.loaded_app if self.config.loaded else None
        target = getattr(app, "app", app)
        while target is not None and not hasattr(getattr(target, "state", None), "ctx"):
            target = getattr(target, "app", None)
        if target is not None:
            begin_drain(target)
        super().handle_exit(sig, frame)


def main() -> int:
    try:
        settings = load_settings()
        configure_logging(settings.server.log_level)
        app = create_app(settings)
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    server = settings.server
    config = uvicorn.Config(
        app,
        host=server.host,
        port=server.port,
        log_config=None,
        access_log=False,
        proxy_headers=bool(server.trust_proxy),
        forwarded_allow_ips=server.trust_proxy or "",
        timeout_graceful_shutdown=int(server.shutdown_grace_s) + 5,
    )
    # uvicorn re-raises the signal it drained on once it is done; by then the drain has finished,
    # so that signal ends the process with status 0 rather than the default "killed by SIGTERM"
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _drained)
    DrainingServer(config).run()
    return 0


def _drained(sig: int, frame: Any) -> None:
    """Runs only for the re-raised signal, after uvicorn restored the handlers it replaced."""


if __name__ == "__main__":
    sys.exit(main())
