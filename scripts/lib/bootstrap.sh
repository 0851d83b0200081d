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

# One package's entry of requirements-dev.txt, hashes included (a requirements file).
pinned_entry() {
  awk -v name="$1" '$0 ~ "^" name "==" { found = 1 } found { print; if ($0 !~ /\\$/) exit }' \
    requirements-dev.txt
}

bootstrap_python_env() {
  # The dev environment is requirements-dev.txt: every package pinned with its sha256 and
  # no index host named, so it installs the same from whatever index the machine is
  # configured with. Regenerate it after changing pyproject.toml's dependencies:
  #   .venv/bin/uv pip compile pyproject.toml --group dev --universal --generate-hashes \
  #     --no-emit-index-url --no-emit-find-links -o requirements-dev.txt
  if ! command -v uv >/dev/null 2>&1 && [ ! -x .venv-tools/bin/uv ]; then
    echo "== installing uv (the version requirements-dev.txt pins)"
    python3 -m venv .venv-tools
    pinned_entry uv > .venv-tools/uv-requirement.txt
    .venv-tools/bin/pip install -q --require-hashes -r .venv-tools/uv-requirement.txt
  fi
  local uv
  uv=$(command -v uv || echo .venv-tools/bin/uv)
  export UV="$uv"
  # uv reads uv.toml and UV_*; most machines configure pip, so pip's environment
  # settings carry over.
  [ -n "${PIP_INDEX_URL:-}" ] && [ -z "${UV_INDEX_URL:-}" ] && export UV_INDEX_URL="$PIP_INDEX_URL"
  [ -n "${PIP_EXTRA_INDEX_URL:-}" ] && [ -z "${UV_EXTRA_INDEX_URL:-}" ] && export UV_EXTRA_INDEX_URL="$PIP_EXTRA_INDEX_URL"
  [ -n "${PIP_FIND_LINKS:-}" ] && [ -z "${UV_FIND_LINKS:-}" ] && export UV_FIND_LINKS="$PIP_FIND_LINKS"
  # As pip does: a pinned file from whichever configured index has it (uv's default would
  # stop at the first index that knows the name). The sha256 pins make the choice safe.
  # Given to these commands only: what the tests run inherits nothing from it.
  local strategy="${UV_INDEX_STRATEGY:-unsafe-best-match}"
  [ -x .venv/bin/python ] || "$uv" venv --quiet --prompt hermetic-cog .venv
  # With the pins, the checkout itself, editable (cog, with rules/, runtime/ and
  # third_party/ under it), built by the pinned setuptools. uv checks every hash the file
  # gives; tests/test_dev_pins.py makes sure each package has one.
  printf -- '-e %s\n' "$PWD" > .venv/checkout-requirement.txt
  # The editable build needs setuptools in .venv before the sync that installs it.
  pinned_entry setuptools > .venv/setuptools-requirement.txt
  "$uv" pip install --quiet --python .venv/bin/python --index-strategy "$strategy" --no-deps \
    -r .venv/setuptools-requirement.txt
  echo "== uv pip sync requirements-dev.txt"
  "$uv" pip sync --quiet --python .venv/bin/python --index-strategy "$strategy" \
    --no-build-isolation requirements-dev.txt .venv/checkout-requirement.txt
}
