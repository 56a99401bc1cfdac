# 300 forks whose children sleep: RLIMIT_NPROC stops it; the sweep kills the children.
import os
import time

made = 0
try:
    for _ in range(300):
        pid = os.fork()
        if pid == 0:
            time.sleep(600)
            os._exit(0)
        made += 1
finally:
    print("forked", made)
