# ~50 MB of output as fast as it can be printed.
import sys

chunk = "z" * 10_000 + "\n"
for _ in range(5_000):
    sys.stdout.write(chunk)
print("END")
