# ruff: noqa: F821  # RUNTIME_DIR is set by the test before this program runs
# Find any Jupyter connection file but this kernel's own and try to run code in its kernel.
import glob
import json
import os

from ipykernel.connect import get_connection_file
from jupyter_client import BlockingKernelClient

own = get_connection_file()
candidates = set()
for pattern in (
    "/tmp/**/*.json",
    "/run/**/*.json",
    "/home/**/*.json",
    f"{RUNTIME_DIR}/**/*.json",
    "/root/.local/share/jupyter/runtime/*.json",
    "/proc/*/root/tmp/**/*.json",
):
    candidates.update(glob.glob(pattern, recursive=True))
foreign = []
for path in sorted(candidates):
    try:
        if os.path.samefile(path, own) or "key" not in json.load(open(path)):
            continue
    except (OSError, ValueError):
        continue
    foreign.append(path)
hijacked = []
for path in foreign:
    client = BlockingKernelClient(connection_file=path)
    client.load_connection_file()
    client.start_channels()
    try:
        client.execute_interactive("print('hijacked')", timeout=2)
        hijacked.append(path)
    except Exception:
        pass
    finally:
        client.stop_channels()
print("HIJACKED" if hijacked else "NONE", "own:", own, "foreign:", foreign)
