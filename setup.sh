#!/usr/bin/env bash
# Set up Callbox on a Debian machine, then optionally run it or its tests.
#
#   ./setup.sh          system packages, the pjsua2 build (cached), .venv with the appliance
#   ./setup.sh run      the above, then `callbox run` (SQLite in $CALLBOX_DATA_DIR)
#   ./setup.sh test     the above plus the test tools, then the test suite (extra args go to pytest)
set -euo pipefail
cd "$(dirname "$0")"
mode=${1:-setup}
[ $# -gt 0 ] && shift
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

build_pkgs="build-essential swig pkg-config libasound2-dev libssl-dev libopus-dev libspeex-dev libspeexdsp-dev
  libgsm1-dev uuid-dev python3-dev python3-venv dpkg-dev ca-certificates"
test_pkgs="sip-tester sox chromium fonts-dejavu-core"  # chromium (+ a font): the panel's browser tests
# umockdev: the headset hotplug tests run under umockdev-wrapper; PyGObject (test extra) builds against
# libgirepository1.0-dev and libcairo2-dev
test_pkgs="$test_pkgs umockdev gir1.2-umockdev-1.0 libgirepository1.0-dev libcairo2-dev"
want=$build_pkgs
want="$want iproute2 conntrack opus-tools"  # opus-tools: recordings are encoded to Ogg Opus; uplinks: the conntrack flush after a switch; ip netns and tc in their tests
[ "$mode" = test ] && want="$want $test_pkgs mmdebstrap systemd-container zstd"  # the image recipe's tests
missing=$(for p in $want; do dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q "ok installed" || echo "$p"; done)
if [ -n "$missing" ]; then
  echo "installing system packages:" $missing
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends $missing
fi

python=${PYTHON:-python3}
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11+ needed" >&2; exit 1; }
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip setuptools wheel
wheel=$(PYTHON="$PWD/.venv/bin/python" image/pjsua2/build.sh | tail -n 1)
.venv/bin/python -m pip install -q --no-deps --force-reinstall "$wheel"
extras=""
[ "$mode" = test ] && extras="[test,provision]"
.venv/bin/python -m pip install -q -e ".$extras"

case "$mode" in
  setup) echo "set up: run it with .venv/bin/callbox run" ;;
  run) exec .venv/bin/callbox run "$@" ;;
  test) exec .venv/bin/python -m pytest "$@" ;;
  *) echo "usage: $0 [setup|run|test]" >&2; exit 2 ;;
esac
