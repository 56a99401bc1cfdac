"""The peers bench/kernels.py compares against, run inside the throwaway venv that holds them.

Not project code and not a project dependency: bench/kernels.py makes a venv under /tmp from
/usr/bin/python3, installs smolagents, jupyter_kernel_gateway and ipykernel into it, starts this
script there and sends it one command per line on stdin; each answer is one JSON line on stdout.

    {"cmd": "smolagents", "n": 10}   -> {"ms": [...]}   LocalPythonExecutor, in-process
    {"cmd": "gateway", "n": 10}      -> {"ms": [...]}   Kernel Gateway, websocket API, tools
                                                         defined inside the kernel
    {"cmd": "gateway_quickack", ...}                     the same, the client acking at once

The gateway's websocket sends a reply as several small frames; with Nagle's algorithm on the
server side and delayed ACKs on the client, each execute then waits ~40 ms on loopback. Clients
as shipped (websocket-client, which smolagents' remote executors use) pay that; the quickack
variant sets TCP_QUICKACK before every read, the fastest this peer gets without patching it.
    {"cmd": "quit"}

The top level imports the standard library only: bench/kernels.py imports PROGRAM and TOOLS
from here to run the same program, with the same tools, on the host side of our bridge.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from typing import Any

# the PTC program every path runs: three tool calls, then final_answer
PROGRAM = """\
hits = web_search("jupyter kernel sandbox", max_results=3)
summary = summarize(" ".join(h["snippet"] for h in hits), max_words=12)
report = code_analysis("def double(x):\\n    return x * 2\\n")
final_answer({"summary": summary, "functions": report["functions"], "hits": len(hits)})
"""

# the tools, as plain deterministic functions (no network): the same source everywhere
TOOLS = '''\
def web_search(query, max_results=5):
    """Search the web."""
    return [{"title": f"{query} {i}", "url": f"https://example.org/{i}",
             "snippet": f"result {i} about {query}"} for i in range(max_results)]


def summarize(text, max_words=120):
    """Shorten a text to at most max_words words."""
    return " ".join(text.split()[:max_words])


def code_analysis(code, language="python"):
    """Names of the functions a piece of code defines."""
    import ast
    tree = ast.parse(code)
    return {"language": language,
            "functions": [n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]}
'''

EXPECTED = {
    "summary": "result 0 about jupyter kernel sandbox result 1 about jupyter kernel sandbox",
    "functions": ["double"],
    "hits": 3,
}


def tool_functions() -> dict[str, Any]:
    namespace: dict[str, Any] = {}
    exec(TOOLS, namespace)
    return {name: namespace[name] for name in ("web_search", "summarize", "code_analysis")}


# --- smolagents' LocalPythonExecutor ------------------------------------------------------------


class Smolagents:
    def __init__(self) -> None:
        from smolagents.local_python_executor import LocalPythonExecutor

        self.executor = LocalPythonExecutor(additional_authorized_imports=[])
        tools = tool_functions()
        tools["final_answer"] = lambda answer: answer
        self.executor.send_tools(tools)

    def run(self) -> float:
        started = time.perf_counter()
        out = self.executor(PROGRAM)
        elapsed = (time.perf_counter() - started) * 1000
        if not out.is_final_answer or out.output != EXPECTED:
            raise RuntimeError(f"smolagents gave {out!r}")
        return elapsed


# --- Jupyter Kernel Gateway over its websocket API ---------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Gateway:
    """A local `jupyter kernelgateway`, one kernel, the tools defined in it, one websocket."""

    def __init__(self) -> None:
        import websocket  # websocket-client, a dependency of the gateway's jupyter_server

        self.quickack = False

        self.port = _free_port()
        self.home = tempfile.mkdtemp(prefix="jkg-")
        env = {**os.environ, "JUPYTER_RUNTIME_DIR": self.home, "JUPYTER_DATA_DIR": self.home}
        self.proc = subprocess.Popen(
            [
                os.path.join(os.path.dirname(sys.executable), "jupyter"),
                "kernelgateway",
                "--KernelGatewayApp.ip=127.0.0.1",
                f"--KernelGatewayApp.port={self.port}",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.base = f"http://127.0.0.1:{self.port}"
        self._wait_up()
        request = urllib.request.Request(
            f"{self.base}/api/kernels",
            data=json.dumps({"name": "python3"}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as resp:
            self.kernel_id = json.load(resp)["id"]
        self.ws = websocket.create_connection(
            f"ws://127.0.0.1:{self.port}/api/kernels/{self.kernel_id}/channels", timeout=30
        )
        # the tools live inside the kernel; final_answer keeps the value for user_expressions
        setup = TOOLS + "\ndef final_answer(answer):\n    global _answer\n    _answer = answer\n"
        reply = self.execute(setup)
        if reply["status"] != "ok":
            raise RuntimeError(f"gateway setup failed: {reply}")

    def _wait_up(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"kernelgateway exited with {self.proc.returncode}")
            try:
                with urllib.request.urlopen(f"{self.base}/api", timeout=2):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("kernelgateway did not answer within 60 s")

    def execute(self, code: str, expressions: dict[str, str] | None = None) -> dict[str, Any]:
        """One execute_request; returns the execute_reply once the kernel is idle again."""
        msg_id = uuid.uuid4().hex
        self.ws.send(
            json.dumps(
                {
                    "header": {
                        "msg_id": msg_id,
                        "msg_type": "execute_request",
                        "username": "bench",
                        "session": "bench",
                        "version": "5.3",
                    },
                    "parent_header": {},
                    "metadata": {},
                    "channel": "shell",
                    "content": {
                        "code": code,
                        "silent": False,
                        "store_history": True,
                        "user_expressions": expressions or {},
                        "allow_stdin": False,
                        "stop_on_error": True,
                    },
                }
            )
        )
        reply: dict[str, Any] | None = None
        idle = False
        while reply is None or not idle:
            if self.quickack:
                self.ws.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
            msg = json.loads(self.ws.recv())
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "execute_reply":
                reply = msg["content"]
            elif msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                idle = True
        return reply

    def run(self) -> float:
        started = time.perf_counter()
        reply = self.execute(PROGRAM, {"answer": "__import__('json').dumps(_answer)"})
        elapsed = (time.perf_counter() - started) * 1000
        text = reply["user_expressions"]["answer"]["data"]["text/plain"]
        if json.loads(text.strip("'")) != EXPECTED:
            raise RuntimeError(f"gateway gave {text}")
        return elapsed

    def close(self) -> None:
        try:
            self.ws.close()
            request = urllib.request.Request(
                f"{self.base}/api/kernels/{self.kernel_id}", method="DELETE"
            )
            urllib.request.urlopen(request, timeout=10).close()
        finally:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def main() -> int:
    peers: dict[str, Any] = {}
    makers = {"smolagents": Smolagents, "gateway": Gateway}
    try:
        for line in sys.stdin:
            command = json.loads(line)
            if command["cmd"] == "quit":
                break
            name, _, variant = command["cmd"].partition("_")
            try:
                if name not in peers:
                    peers[name] = makers[name]()
                peer = peers[name]
                if name == "gateway":
                    peer.quickack = variant == "quickack"
                answer: dict[str, Any] = {"ms": [peer.run() for _ in range(command["n"])]}
            except Exception as exc:
                answer = {"error": f"{type(exc).__name__}: {exc}"}
            print(json.dumps(answer), flush=True)
    finally:
        gateway = peers.get("gateway")
        if gateway is not None:
            gateway.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
