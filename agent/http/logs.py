"""JSON log lines on stderr, one object a line, carrying the execution id of the task they are about.

The event loop only queues a record; a listener thread formats and writes it (stdlib
QueueHandler / QueueListener), so a slow stderr never stalls the tasks and streams being served.
"""

from __future__ import annotations

import atexit
import json
import logging
import logging.handlers
import queue
import sys
import threading
from datetime import UTC, datetime
from typing import Any

from agent.service import current_execution

__all__ = ["JsonFormatter", "configure_logging"]

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        execution = getattr(record, "executionId", None) or current_execution.get()
        if execution:
            line["executionId"] = execution
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in line:
                line[key] = value
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exc"] = record.exc_text
        return json.dumps(line, default=str, ensure_ascii=False)


class _ContextQueueHandler(logging.handlers.QueueHandler):
    """Queues the record with what only the logging thread knows: the execution id (a context
    variable of the task that logged), the merged message and the traceback's text."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        if not getattr(record, "executionId", None):
            execution = current_execution.get()
            if execution:
                record.executionId = execution
        record.msg, record.args = record.getMessage(), None
        if record.exc_info:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
        return record


_listener: logging.handlers.QueueListener | None = None
_uncaught = logging.getLogger("agent.uncaught")


def _thread_died(args: threading.ExceptHookArgs) -> None:
    """An exception that ends a thread (a library's channel thread, say) is a log line too,
    not a bare traceback among the JSON."""
    if args.exc_type is SystemExit:
        return
    name = args.thread.name if args.thread is not None else "?"
    exc_info = (args.exc_type, args.exc_value or args.exc_type(), args.exc_traceback)
    _uncaught.error("uncaught exception in thread %s", name, exc_info=exc_info)


def _unraisable(unraisable: sys.UnraisableHookArgs) -> None:
    """Errors Python cannot raise (in __del__, in a finalizer) go to the log the same way."""
    exc = unraisable.exc_value
    exc_info = (unraisable.exc_type, exc or unraisable.exc_type(), unraisable.exc_traceback)
    where = unraisable.err_msg or "exception ignored in"
    _uncaught.error("%s: %r", where, unraisable.object, exc_info=exc_info)


@atexit.register
def _flush() -> None:
    """What is queued is written before the process ends."""
    global _listener
    if _listener is not None:
        _listener.stop()
        _listener = None


def configure_logging(level: str = "info") -> None:
    """Root and uvicorn loggers write JSON to stderr (call once, in the server process)."""
    global _listener
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    _flush()
    records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    _listener = logging.handlers.QueueListener(records, handler)
    _listener.start()
    root = logging.getLogger()
    root.handlers[:] = [_ContextQueueHandler(records)]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    threading.excepthook = _thread_died
    sys.unraisablehook = _unraisable
    logging.getLogger("uvicorn.access").disabled = True  # our middleware logs each request
    # the HTTP clients (httpx, and the fork the openai SDK ships) log every request at info
    for name in ("httpx", "httpcore", "httpx2", "httpcore2"):
        logging.getLogger(name).setLevel(logging.WARNING)
