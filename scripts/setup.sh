#!/usr/bin/env bash
# Makes the two virtual environments, or brings them up to date with requirements/.
# Idempotent: each environment is reinstalled only when its requirements file changed.
set -euo pipefail
cd "$(dirname "$0")/.."

# Rasa 3.6 runs on Python 3.10 only: a working python3.10 on PATH, else one from pyenv.
find_python310() {
  if command -v python3.10 >/dev/null 2>&1 && python3.10 -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then
    command -v python3.10
    return
  fi
  if command -v pyenv >/dev/null 2>&1; then
    local version
    for version in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.10(\.[0-9]+)?$' | sort -V -r); do
      if [ -x "$(pyenv prefix "$version")/bin/python3.10" ]; then
        echo "$(pyenv prefix "$version")/bin/python3.10"
        return
      fi
    done
  fi
  cat >&2 <<'MSG'
error: Rasa 3.6 needs Python 3.10, and none was found.
Install it, then run this again:
  Debian/Ubuntu:  sudo apt-get install python3.10 python3.10-venv   (or use the deadsnakes PPA)
  pyenv:          pyenv install 3.10.13
MSG
  exit 1
}

find_python311() {
  local candidate
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 11)' 2>/dev/null; then
      command -v "$candidate"
      return
    fi
  done
  echo "error: Python 3.11 is needed for the action server, console and tests (install python3.11)." >&2
  exit 1
}

# make_venv DIR PYTHON REQUIREMENTS [EXTRA PIP ARGS...]
make_venv() {
  local dir=$1 python=$2 requirements=$3
  shift 3
  local stamp="$dir/.requirements.sha256"
  local want
  want=$(cat "$requirements" pyproject.toml | sha256sum | cut -d' ' -f1)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    return
  fi
  echo "setting up $dir ($("$python" --version)) ..."
  [ -x "$dir/bin/python" ] || "$python" -m venv "$dir"
  "$dir/bin/python" -m pip install --quiet --upgrade pip
  "$dir/bin/python" -m pip install --quiet -r "$requirements" "$@"
  echo "$want" > "$stamp"
}

# Debian packages the tests start themselves: chromium for the browser tests (driven by
# Playwright; a CJK font lets their screenshots show Chinese), Redis for the replica tests,
# PostgreSQL for the tests on it (bot/cli/local_servers.py starts a cluster of its own from
# /usr/lib/postgresql/<version>/bin; the package's own cluster is not used), and HAProxy in front
# of the replicas of `make scale` and its tests (started by us too, not as the package's service).
ensure_test_packages() {
  command -v chromium >/dev/null 2>&1 && [ -d /usr/share/fonts/truetype/wqy ] && command -v redis-server >/dev/null 2>&1 \
    && compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null && [ -x /usr/sbin/haproxy ] && return
  local packages="chromium fonts-wqy-zenhei redis-server postgresql haproxy"
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing chromium, a Chinese font, redis-server, postgresql and haproxy for the tests ..."
    # shellcheck disable=SC2086
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $packages >/dev/null
  else
    echo "warning: the browser, replica, PostgreSQL and scale tests need: sudo apt-get install $packages" >&2
  fi
}

ensure_test_packages
make_venv .venv-rasa "$(find_python310)" requirements/rasa.txt
make_venv .venv "$(find_python311)" requirements/app.txt -e .
