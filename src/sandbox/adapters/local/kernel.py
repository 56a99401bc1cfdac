"""Sandbox kernel: runs the programs of one session in one persistent namespace, like a notebook.

The host talks JSON lines on fd 3 (host -> kernel) and fd 4 (kernel -> host), so whatever the
program prints can never corrupt the protocol. The kernel starts privileged enough to drop to the
session's uid, imports everything it needs, reports `ready`, and waits for `open`.
"""

import io
import itertools
import json
import linecache
import os
import resource
import signal
import sys
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor

KERNEL_PID = os.getpid()
KERNEL_FILE = __file__
_send_lock = threading.Lock()
_inbox = []
_cv = threading.Condition()
_reading = False
_stream = os.fdopen(3, "rb", buffering=1 << 16)
_pending = {}
_call_ids = itertools.count(1)
_session_uid = None


def _send(message):
    _send_line(json.dumps(message, allow_nan=False))


def _send_line(line):
    # A forked child of the program must never speak for the kernel.
    if os.getpid() != KERNEL_PID:
        os._exit(0)
    data = (line + "\n").encode("utf-8", "replace")
    with _send_lock:
        view = memoryview(data)
        while view:
            view = view[os.write(4, view) :]


def _await(ready):
    """Blocks until ready() returns a value. Whichever waiting thread finds no reader becomes the
    reader and dispatches every message that arrives, so a lone caller reads its own reply with no
    thread hand-off (that hand-off used to dominate a skill call's round trip)."""
    global _reading
    with _cv:
        while True:
            value = ready()
            if value is not None:
                return value
            if not _reading:
                _reading = True
                break
            _cv.wait()
    try:
        while True:
            raw = _stream.readline()
            if not raw:
                os._exit(0)
            message = json.loads(raw)
            with _cv:
                if message.get("type") == "skill_result":
                    slot = _pending.pop(message["id"], None)
                    if slot is not None:
                        slot["message"] = message
                else:
                    _inbox.append(message)
                _cv.notify_all()
                value = ready()
                if value is not None:
                    return value
    finally:
        with _cv:
            _reading = False
            _cv.notify_all()


def _next_control():
    return _await(lambda: _inbox.pop(0) if _inbox else None)


class SkillError(Exception):
    """A skill failed on the host; the message is the skill's own error message."""


class _FinalAnswer(BaseException):
    # BaseException so that `except Exception` in the program does not swallow it.
    def __init__(self, value):
        super().__init__("final_answer")
        self.value = value


class _CappedText(io.TextIOBase):
    def __init__(self, cap):
        self.cap = cap
        self.parts = []
        self.size = 0
        self.dropped = 0

    def writable(self):
        return True

    def write(self, text):
        text = str(text)
        room = self.cap - self.size
        if room > 0:
            kept = text[:room]
            self.parts.append(kept)
            self.size += len(kept)
        self.dropped += max(0, len(text) - max(room, 0))
        return len(text)

    def value(self):
        text = "".join(self.parts)
        if self.dropped:
            text += "\n[output truncated: %d more characters]" % self.dropped
        return text


def _call_skill(skill, args, kwargs):
    call_id = next(_call_ids)
    message = {"type": "skill_call", "id": call_id, "skill": skill, "args": list(args), "kwargs": kwargs}
    try:
        line = json.dumps(message, allow_nan=False)
    except (TypeError, ValueError) as err:
        raise TypeError("arguments of %s must be JSON-serialisable: %s" % (skill, err)) from None
    slot = {"message": None}
    with _cv:
        _pending[call_id] = slot
    _send_line(line)
    reply = _await(lambda: slot["message"])
    if reply.get("ok"):
        return reply.get("value")
    raise SkillError(reply.get("error") or "skill %s failed" % skill)


def _skill_function(skill, python_name):
    def call(*args, **kwargs):
        return _call_skill(skill, args, kwargs)

    call.__name__ = python_name
    call.__qualname__ = python_name
    return call


def final_answer(value=None):
    """Ends the program and hands `value` back as its answer."""
    raise _FinalAnswer(value)


def parallel(*thunks, max_workers=8):
    """Runs zero-argument callables concurrently (e.g. lambdas calling skills); returns their results in order."""
    if not thunks:
        return []
    with ThreadPoolExecutor(max_workers=min(max_workers, len(thunks))) as pool:
        return list(pool.map(lambda thunk: thunk(), thunks))


def _json_safe(value):
    try:
        json.dumps(value, allow_nan=False)
        return value
    except (TypeError, ValueError):
        return repr(value)


def _format_error(err, filename):
    summary = traceback.TracebackException.from_exception(err)
    frames = [f for f in summary.stack if f.filename != KERNEL_FILE]
    summary.stack = traceback.StackSummary.from_list(frames)
    return {
        "type": type(err).__name__,
        "message": str(err),
        "traceback": "".join(summary.format()),
    }


def _limit(kind, value):
    if value:
        resource.setrlimit(kind, (value, value))


def _open(message):
    limits = message.get("limits", {})
    global _session_uid
    uid = message.get("uid")
    if uid is not None and os.getuid() == 0:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
        _session_uid = uid
    os.chdir(message["cwd"])
    os.environ["HOME"] = message["cwd"]
    # Over the size limit, writes fail with EFBIG instead of killing the kernel.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    _limit(resource.RLIMIT_AS, limits.get("memoryBytes"))
    _limit(resource.RLIMIT_FSIZE, limits.get("fileBytes"))
    _limit(resource.RLIMIT_NPROC, limits.get("processes"))
    return {
        "type": "opened",
        "uid": os.getuid(),
        "rlimits": [k for k in ("memoryBytes", "fileBytes", "processes") if limits.get(k)],
    }


def _live_strays():
    me, uid, found = os.getpid(), os.getuid(), []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            if os.stat("/proc/" + entry).st_uid != uid:
                continue
            with open("/proc/%s/stat" % entry) as stat:
                if stat.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X"):
                    found.append(int(entry))
        except (OSError, IndexError):
            continue
    return found


def _reap_strays():
    # Processes the program left behind (a fork bomb's survivors) share the session's own uid;
    # kill(-1) reaches exactly those, never the kernel itself. Without our own uid, leave them.
    if _session_uid is None or not _live_strays():
        return
    for _ in range(200):
        try:
            os.kill(-1, signal.SIGKILL)
        except OSError:
            pass
        while True:
            try:
                if os.waitpid(-1, os.WNOHANG)[0] == 0:
                    break
            except ChildProcessError:
                break
        if not _live_strays():
            return
        time.sleep(0.005)


def _cpu_budget(seconds):
    used = resource.getrusage(resource.RUSAGE_SELF)
    spent = int(used.ru_utime + used.ru_stime)
    hard = resource.getrlimit(resource.RLIMIT_CPU)[1]
    soft = spent + max(1, int(seconds))
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def _run(message, namespace, counter):
    filename = "<program-%d>" % counter
    code = message["code"]
    linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
    for skill in message.get("skills", []):
        namespace[skill["python"]] = _skill_function(skill["name"], skill["python"])
    if message.get("cpuSeconds"):
        _cpu_budget(message["cpuSeconds"])
    cap = message.get("outputCap", 65536)
    out, err = _CappedText(cap), _CappedText(cap)
    result = {"type": "done", "ok": True, "hasFinalAnswer": False}
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    try:
        exec(compile(code, filename, "exec"), namespace)
    except _FinalAnswer as answer:
        result["hasFinalAnswer"] = True
        result["finalAnswer"] = _json_safe(answer.value)
    except SystemExit as exit_:
        if exit_.code not in (None, 0):
            result["ok"] = False
            result["error"] = _format_error(exit_, filename)
    except BaseException as error:
        result["ok"] = False
        result["error"] = _format_error(error, filename)
    finally:
        if os.getpid() != KERNEL_PID:
            os._exit(0)
        sys.stdout, sys.stderr = saved
    _reap_strays()
    result["stdout"] = out.value()
    result["stderr"] = err.value()
    return result


def main():
    namespace = {
        "__name__": "__main__",
        "__builtins__": __builtins__,
        "final_answer": final_answer,
        "parallel": parallel,
        "SkillError": SkillError,
    }
    _send({"type": "ready", "pid": KERNEL_PID})
    counter = 0
    while True:
        message = _next_control()
        kind = message.get("type")
        try:
            if kind == "open":
                _send(_open(message))
            elif kind == "run":
                counter += 1
                _send(_run(message, namespace, counter))
        except Exception as err:
            _send({"type": "kernel_error", "message": "%s: %s" % (type(err).__name__, err)})


if __name__ == "__main__":
    main()
