# Shared by scripts/test and scripts/demo: install what a fresh Debian machine lacks.
# Sourced, not executed.

bootstrap_system_packages() {
  local missing=()
  local pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  for tool in python3 git curl; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
  done
  dpkg-query -W -f='${Status}' python3-venv 2>/dev/null | grep -q "install ok installed" \
    || python3 -c 'import ensurepip' 2>/dev/null || missing+=(python3-venv)
  [ "${#missing[@]}" -eq 0 ] && return 0
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "== apt-get install ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

bootstrap_python_env() {
  if ! command -v uv >/dev/null 2>&1 && [ ! -x .venv-tools/bin/uv ]; then
    echo "== installing uv"
    python3 -m venv .venv-tools
    .venv-tools/bin/pip install -q uv
  fi
  local uv
  uv=$(command -v uv || echo .venv-tools/bin/uv)
  export UV="$uv"
  # The dev environment resolves against the user's own index configuration (no index
  # host is committed, so there is no uv.lock in the repository). uv reads uv.toml and
  # UV_*; most machines configure pip, so pip's environment settings carry over.
  [ -n "${PIP_INDEX_URL:-}" ] && [ -z "${UV_INDEX_URL:-}" ] && export UV_INDEX_URL="$PIP_INDEX_URL"
  [ -n "${PIP_EXTRA_INDEX_URL:-}" ] && [ -z "${UV_EXTRA_INDEX_URL:-}" ] && export UV_EXTRA_INDEX_URL="$PIP_EXTRA_INDEX_URL"
  [ -n "${PIP_FIND_LINKS:-}" ] && [ -z "${UV_FIND_LINKS:-}" ] && export UV_FIND_LINKS="$PIP_FIND_LINKS"
  echo "== uv sync"
  "$uv" sync --quiet
}
