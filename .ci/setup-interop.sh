#!/usr/bin/env bash
# Installs the official A2A SDKs used by the interop tests into project-local,
# git-ignored folders under tests/interop/. Idempotent: does nothing when the
# pinned versions are already installed.
#
#   tests/interop/.venv-v1      a2a-sdk 1.x  (client + http-server and grpc extras, uvicorn)
#   tests/interop/.venv-v03     a2a-sdk 0.3.x (client + http-server extras, uvicorn)
#   tests/interop/node_modules  @a2a-js/sdk (pinned in tests/interop/package.json)
set -euo pipefail

A2A_V1_VERSION="1.3.0"
A2A_V03_VERSION="0.3.26"
UVICORN_VERSION="0.54.0"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
INTEROP="$ROOT/tests/interop"
PYTHON="${PYTHON:-python3}"

log() { echo "[setup-interop] $*"; }
die() { echo "[setup-interop] ERROR: $*" >&2; exit 1; }

command -v "$PYTHON" >/dev/null || die "$PYTHON not found"
command -v node >/dev/null || die "node not found"
command -v npm >/dev/null || die "npm not found"

# setup_venv DIR A2A_VERSION EXTRAS [MODULE...]: MODULEs must import too (an extra's).
setup_venv() {
  local dir="$1" ver="$2" extras="$3"
  shift 3
  local py="$dir/bin/python"
  if [[ -x "$py" ]] && "$py" - "$ver" "$UVICORN_VERSION" "$@" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
assert version("a2a-sdk") == sys.argv[1], version("a2a-sdk")
assert version("uvicorn") == sys.argv[2]
for m in ("sse_starlette", "starlette", "httpx", *sys.argv[3:]):
    __import__(m)
import a2a.client  # noqa: F401
PY
  then
    log "$(basename "$dir"): a2a-sdk $ver already installed, skipping"
    return 0
  fi
  log "$(basename "$dir"): creating venv and installing a2a-sdk[$extras]==$ver uvicorn==$UVICORN_VERSION"
  rm -rf "$dir"
  "$PYTHON" -m venv "$dir" || die "venv creation failed for $dir"
  "$py" -m pip install --quiet --disable-pip-version-check --upgrade pip \
    || die "pip upgrade failed in $dir"
  "$py" -m pip install --quiet --disable-pip-version-check \
    "a2a-sdk[$extras]==$ver" "uvicorn==$UVICORN_VERSION" \
    || die "pip install failed in $dir"
  "$py" -c "from importlib.metadata import version; print('[setup-interop]   installed a2a-sdk', version('a2a-sdk'))" \
    || die "a2a-sdk not importable in $dir"
}

# grpc: the gRPC interop tests (our server to the SDK's gRPC client, our client to its
# gRPC server).
setup_venv "$INTEROP/.venv-v1" "$A2A_V1_VERSION" "http-server,grpc" grpc
setup_venv "$INTEROP/.venv-v03" "$A2A_V03_VERSION" "http-server"

# Node: @a2a-js/sdk pinned in package.json / package-lock.json
JS_WANT="$(node -e "console.log(require('$INTEROP/package.json').dependencies['@a2a-js/sdk'])")"
JS_HAVE="$(node -e "try{console.log(require('$INTEROP/node_modules/@a2a-js/sdk/package.json').version)}catch(e){console.log('none')}")"
if [[ "$JS_HAVE" == "$JS_WANT" ]]; then
  log "node_modules: @a2a-js/sdk $JS_HAVE already installed, skipping"
else
  log "node_modules: installing @a2a-js/sdk $JS_WANT (have: $JS_HAVE)"
  if [[ -f "$INTEROP/package-lock.json" ]]; then
    (cd "$INTEROP" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci failed"
  else
    (cd "$INTEROP" && npm install --no-audit --no-fund --loglevel=error) || die "npm install failed"
  fi
  JS_HAVE="$(node -e "console.log(require('$INTEROP/node_modules/@a2a-js/sdk/package.json').version)")" \
    || die "@a2a-js/sdk not installed"
  log "  installed @a2a-js/sdk $JS_HAVE"
fi

log "done"
