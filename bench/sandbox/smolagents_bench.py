"""Serves timings of smolagents' LocalPythonExecutor: one line in ("cold" or "warm"), one line out (ms).

Driven line by line so the benchmark can interleave it with the other systems under the same load.
"""

import sys
import time

from smolagents.default_tools import FinalAnswerTool
from smolagents.local_python_executor import LocalPythonExecutor


def lookup(i):
    return {"id": i, "title": "result %d" % i}


def executor():
    ex = LocalPythonExecutor(additional_authorized_imports=[], additional_functions={"lookup": lookup})
    ex.send_tools({"final_answer": FinalAnswerTool()})
    return ex


def main():
    program = sys.argv[1]
    warm = executor()
    warm(program)
    for line in sys.stdin:
        started = time.perf_counter()
        out = (executor() if line.strip() == "cold" else warm)(program)
        elapsed = (time.perf_counter() - started) * 1000
        if not (out.is_final_answer and out.output == 3):
            raise SystemExit("benchmark program failed: %r" % (out,))
        print("%.6f" % elapsed, flush=True)


if __name__ == "__main__":
    main()
