# ruff: noqa: F821  # the test defines the names this program is given
# Write to the host's /tmp, to another session's workspace and to the read-only root.
results = {}
for path in TARGETS:
    try:
        with open(path, "w") as fh:
            fh.write("escaped")
        results[path] = "WROTE"
    except OSError as exc:
        results[path] = type(exc).__name__
print(results)
