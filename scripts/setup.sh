#!/usr/bin/env bash
# Installs everything the project needs on a fresh Debian-like machine. Safe to run twice.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=/usr/bin/python3            # a real binary: the pyenv shim costs ~80 ms per spawn
APT_PACKAGES=(bubblewrap python3-venv python3-dev chromium fonts-dejavu-core procps postgresql
              openssh-server iproute2)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "setup: apt-get install ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  echo "setup: venv at .venv from $PY"
  "$PY" -m venv .venv
fi
# uv installs the pinned lock file in seconds; plain pip is the fallback when uv cannot be had.
if [ ! -x .venv/bin/uv ]; then .venv/bin/python -m pip install -q uv || true; fi
if [ -x .venv/bin/uv ]; then
  VIRTUAL_ENV="$PWD/.venv" .venv/bin/uv pip install -q --python .venv/bin/python -r requirements.lock
  VIRTUAL_ENV="$PWD/.venv" .venv/bin/uv pip install -q --python .venv/bin/python --no-deps -e .
else
  .venv/bin/python -m pip install -q -r requirements.lock
  .venv/bin/python -m pip install -q --no-deps -e .
fi

# The kernelspecs live inside the venv, so nothing is written to the user's ~/.local.
.venv/bin/python -m kernels.kernelspec install --prefix "$PWD/.venv"

[ -f .env ] || { cp .env.example .env; echo "setup: .env created from .env.example"; }
mkdir -p notebooks/runs data workspace
echo "setup: done"
