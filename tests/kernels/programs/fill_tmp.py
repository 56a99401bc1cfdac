# Fill the sandbox's /tmp (memory-backed) with file after file, each under RLIMIT_FSIZE.
import os

chunk = b"t" * (1 << 20)
written = 0
try:
    for n in range(1000):
        with open(f"/tmp/fill-{n}", "wb") as fh:
            for _ in range(32):
                fh.write(chunk)
                written += len(chunk)
except OSError as exc:
    print("STOPPED", type(exc).__name__, exc.errno)
finally:
    for name in os.listdir("/tmp"):
        if name.startswith("fill-"):
            os.remove(os.path.join("/tmp", name))
print("written_mib", written >> 20)
