#!/usr/bin/env bash
# Prepare a Debian 12 machine (as root) to build and test berth.
# Idempotent: re-running only does what is still missing.
#   1. Debian packages the kernel tests and benchmarks use (only the missing ones).
#   2. npm dependencies, with the native modules (better-sqlite3, koffi) proven loadable.
#   3. The Docker SDK for Python the compatibility suite drives, in the venv .venv/ of
#      this checkout (pinned in test/compat/requirements.txt).
#   4. npm run build.
# Environment: BERTH_SETUP_FORCE_INSTALL=1 reinstalls node_modules even when it looks current.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

PACKAGES=(iproute2 nftables libnftables1 util-linux iputils-ping dnsutils bridge-utils
  procps iperf3 busybox-static gcc libc6-dev iptables
  # the compatibility suite drives docker's 20.10 client and docker-compose against berthd
  docker.io docker-compose
  # and the Docker SDK for Python, from a venv made with Debian's python
  python3 python3-venv
  # systemd-socket-activate: the socket-activation test starts berthd as systemd would
  systemd
  # the TLS test makes its CA and certificates; the disconnect test hangs up with curl
  openssl curl
  # multi-host labs run a real etcd (the cluster store of overlay networks), in a netns of their own
  etcd-server etcd-client
  # berth as a CNI plugin: podman (its CNI backend) is the runtime that calls it, and the
  # CNI reference plugins are chained after it (tuning, firewall, bandwidth)
  podman crun conmon containernetworking-plugins
  # the topology page is tested in a real browser (driven by the npm package playwright-core)
  chromium)

log() { printf 'setup: %s\n' "$*" >&2; }
die() { printf 'setup: FAILED: %s\n' "$*" >&2; exit 1; }

# Runs a command quietly; on failure shows its output and stops.
quiet() {
  local what=$1 out
  shift
  if ! out=$("$@" 2>&1); then
    printf '%s\n' "$out" | tail -n 40 >&2
    die "$what (command: $*)"
  fi
}

missing_packages() {
  local pkg status
  for pkg in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null || true)
    [[ $status == ii* ]] || printf '%s\n' "$pkg"
  done
}

# apt lists count as fresh when updated within the last day.
apt_lists_fresh() {
  [[ -n $(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -mmin -1440 -print -quit 2>/dev/null) ]]
}

install_packages() {
  local missing
  mapfile -t missing < <(missing_packages)
  if ((${#missing[@]} == 0)); then
    log "debian packages: all present"
    return
  fi
  [[ $(id -u) == 0 ]] || die "missing packages (${missing[*]}) and not root: install them as root"
  command -v apt-get >/dev/null || die "missing packages (${missing[*]}) and no apt-get"
  if ! apt_lists_fresh; then
    log "apt-get update"
    quiet "apt-get update" apt-get update -qq
  fi
  log "installing: ${missing[*]}"
  # docker.io must not start a dockerd in the machine's own namespace (the lab rule):
  # forbid service starts for the length of the install, as container images do
  local guard=/usr/sbin/policy-rc.d made_guard=0
  if [[ ! -e $guard ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$guard" && chmod +x "$guard" && made_guard=1
  fi
  quiet "apt-get install ${missing[*]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
  ((made_guard)) && rm -f "$guard"
  return 0
}

native_modules_load() {
  node -e "require('better-sqlite3')(':memory:').close(); require('koffi')" >/dev/null 2>&1
}

# node_modules is current when npm's hidden lockfile is newer than both manifests.
node_modules_current() {
  local hidden=node_modules/.package-lock.json
  [[ -f $hidden && $hidden -nt package.json ]] || return 1
  [[ ! -f package-lock.json || $hidden -nt package-lock.json ]]
}

install_node_modules() {
  command -v node >/dev/null || die "node is not installed"
  command -v npm >/dev/null || die "npm is not installed"
  if [[ ${BERTH_SETUP_FORCE_INSTALL:-} != 1 ]] && node_modules_current && native_modules_load; then
    log "node_modules: current"
    return
  fi
  if [[ -f package-lock.json ]]; then
    log "npm ci"
    quiet "npm ci" npm ci --no-audit --no-fund --loglevel=error
  else
    log "npm install (no lockfile yet)"
    quiet "npm install" npm install --no-audit --no-fund --loglevel=error
  fi
  if ! native_modules_load; then
    log "native modules do not load: npm rebuild better-sqlite3"
    quiet "npm rebuild better-sqlite3" npm rebuild better-sqlite3 --loglevel=error
  fi
  node -e "require('better-sqlite3')(':memory:').close()" >/dev/null 2>&1 \
    || die "better-sqlite3's native module does not load after a rebuild"
  node -e "require('koffi')" >/dev/null 2>&1 || die "koffi does not load"
}

# The venv lives in the checkout, like node_modules: each work tree (and CI's fresh clone)
# gets the pinned SDK, nothing outside the tree changes, and removing the tree removes it.
VENV=.venv
REQUIREMENTS=test/compat/requirements.txt

venv_current() {
  cmp -s "$REQUIREMENTS" "$VENV/.installed-requirements" \
    && "$VENV/bin/python" -c 'import docker' >/dev/null 2>&1
}

install_python_sdk() {
  if venv_current; then
    log "python venv: current"
    return
  fi
  log "python venv: $VENV with $(grep -v '^#' "$REQUIREMENTS" | tr '\n' ' ')"
  [[ -x $VENV/bin/python ]] || quiet "python3 -m venv $VENV" /usr/bin/python3 -m venv "$VENV"
  quiet "pip install -r $REQUIREMENTS" "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$REQUIREMENTS"
  "$VENV/bin/python" -c 'import docker' >/dev/null 2>&1 || die "the docker SDK does not import in $VENV"
  cp "$REQUIREMENTS" "$VENV/.installed-requirements"
}

build() {
  log "npm run build"
  quiet "npm run build" npm run build --silent
}

install_packages
install_node_modules
install_python_sdk
build
log "done"
