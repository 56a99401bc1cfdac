# 6 GiB at once: RLIMIT_AS must turn this into MemoryError, not a dead kernel or host.
block = bytearray(6 * 1024**3)
