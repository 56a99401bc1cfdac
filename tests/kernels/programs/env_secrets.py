# ruff: noqa: F821  # the test defines the names this program is given
# Look for the host's secret in the environment and in every /proc/*/environ visible.
import glob
import os

found = [k for k, v in os.environ.items() if SECRET in v or k == "AGENT_TEST_SECRET"]
for path in glob.glob("/proc/*/environ"):
    try:
        if SECRET.encode() in open(path, "rb").read():
            found.append(path)
    except OSError:
        pass
print("FOUND" if found else "CLEAN", found, sorted(os.environ))
