"""Runs one skill's handler.py for the Node host: JSON lines in on stdin, JSON lines out on stdout.

Request:  {"id": 1, "args": {...}, "context": {"sessionId": ..., "workspaceDir": ..., "settings": {...}}}
Response: {"id": 1, "ok": true, "value": ...} or {"id": 1, "ok": false, "error": {"type", "message", "traceback"}}
"""

import asyncio
import importlib.util
import inspect
import json
import os
import sys
import traceback


def load_handler(path):
    sys.path.insert(0, os.path.dirname(path))
    spec = importlib.util.spec_from_file_location("skill_handler", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    handler = getattr(module, "handler", None)
    if not callable(handler):
        raise TypeError(f"{path} defines no handler(args, ctx) function")
    return handler


def call(handler, args, context):
    value = handler(args, context)
    if inspect.isawaitable(value):
        value = asyncio.run(value)
    return value


def main():
    protocol = sys.stdout
    # A handler's print() goes to stderr so it cannot corrupt the protocol stream.
    sys.stdout = sys.stderr
    try:
        handler = load_handler(sys.argv[1])
    except Exception:
        traceback.print_exc()
        sys.exit(3)
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        try:
            value = call(handler, request.get("args", {}), request.get("context", {}))
            reply = {"id": request["id"], "ok": True, "value": value}
            text = json.dumps(reply, default=str)
        except Exception as exc:
            error = {"type": type(exc).__name__, "message": str(exc), "traceback": traceback.format_exc()}
            text = json.dumps({"id": request["id"], "ok": False, "error": error})
        protocol.write(text + "\n")
        protocol.flush()


if __name__ == "__main__":
    main()
