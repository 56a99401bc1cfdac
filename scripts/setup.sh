#!/usr/bin/env bash
# One command from a fresh clone to a runnable server: system packages, Node deps, .env.
# Safe to run twice: every step checks before it acts.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  echo "[setup] Node.js 20 or newer is required (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi

apt_packages=()
command -v redis-server >/dev/null 2>&1 || apt_packages+=(redis-server)
[ -x /usr/bin/python3 ] || apt_packages+=(python3)
# pip for the trusted host-side Python skills (code-analysis uses pyflakes and radon).
/usr/bin/python3 -m pip --version >/dev/null 2>&1 || apt_packages+=(python3-pip)
# bubblewrap gives the local sandbox a private network namespace where the host allows it.
command -v bwrap >/dev/null 2>&1 || apt_packages+=(bubblewrap)

if [ ${#apt_packages[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    say "installing system packages: ${apt_packages[*]}"
    $SUDO apt-get update -qq
    # policy-rc.d-less containers may try to start the Redis service; we never use it, so ignore that.
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${apt_packages[@]}" >/dev/null || {
      for p in "${apt_packages[@]}"; do
        [ "$p" = bubblewrap ] && continue
        command -v "${p%-server}-server" >/dev/null 2>&1 || command -v "$p" >/dev/null 2>&1 || { echo "[setup] could not install $p" >&2; exit 1; }
      done
    }
  else
    echo "[setup] please install: ${apt_packages[*]} (no apt-get on this machine)" >&2
    command -v redis-server >/dev/null 2>&1 || exit 1
  fi
fi
say "redis-server: $(command -v redis-server)"

say "installing Python packages of the built-in skills"
for req in skills/*/requirements.txt; do
  [ -f "$req" ] || continue
  /usr/bin/python3 -m pip install --quiet --disable-pip-version-check --break-system-packages -r "$req" 2>/dev/null ||
    /usr/bin/python3 -m pip install --quiet --disable-pip-version-check -r "$req"
done

# npm install, not npm ci: @pydantic/monty lists platform packages the registry does not have, which
# npm ci reports as a lock file mismatch. install follows the committed lock file all the same.
say "installing Node dependencies (npm install, from package-lock.json)"
REDISMS_DISABLE_POSTINSTALL=1 npm install --no-audit --no-fund --loglevel=error

if [ ! -f .env ]; then
  cp .env.example .env
  say "created .env from .env.example (edit it to add an LLM key)"
fi
mkdir -p workspace
say "done. Start the server with: npm run dev"
