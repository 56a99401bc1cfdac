# ruff: noqa: F821  # the test defines the names this program is given
# Read /etc/shadow, the project's .env and files in masked directories.
import os

results = {}
for path in TARGETS:
    try:
        results[path] = "READ:" + open(path).read()[:40]
    except OSError as exc:
        results[path] = type(exc).__name__
results["project_listing"] = os.listdir(PROJECT) if os.path.isdir(PROJECT) else None
print(results)
