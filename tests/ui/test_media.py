"""The chat's media folder (images programs displayed) does not outlive the server process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_the_chat_media_folder_goes_with_the_process() -> None:
    code = "from agent.ui.page import media_dir; d = media_dir(); (d / 'a.png').write_bytes(b'x')"
    code += "; print(d)"
    made = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    folder = Path(made.stdout.strip())
    assert folder.name.startswith("agent-ui-") and not folder.exists()
