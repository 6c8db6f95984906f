#!/usr/bin/env bash
# Build the pjsua2 Python binding (pjproject + SWIG) as a wheel sized for the appliance, and
# print the wheel's path. The wheel is cached, keyed by the source selection, this recipe, the
# configuration, the Python version and the machine, so a second setup does not rebuild.
#
#   image/pjsua2/build.sh                      # Debian's `ring` source (pjproject 2.12.1)
#   CALLBOX_PJ_SOURCE=/path/pjproject-2.14.tar.gz image/pjsua2/build.sh
#
# Build dependencies (Debian): build-essential swig libasound2-dev libssl-dev libopus-dev
#   libspeex-dev libspeexdsp-dev libgsm1-dev uuid-dev
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
python=$(command -v "${PYTHON:-python3}")  # absolute: the build runs in other directories
cache=${CALLBOX_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/callbox/pjsua2}
source_sel=${CALLBOX_PJ_SOURCE:-debian-ring}
jobs=${JOBS:-$(nproc)}

key=$( { cat "$here/build.sh" "$here/fetch-source.sh" "$here/config_site.h"
         echo "$source_sel"; [ -f "$source_sel" ] && sha256sum "$source_sel"
         "$python" -c 'import sys,platform; print(sys.version_info[:2], platform.machine())'
       } | sha256sum | cut -c1-16)
out="$cache/$key"
if wheel=$(ls "$out"/pjsua2-*.whl 2>/dev/null | head -n 1) && [ -n "$wheel" ]; then
  echo "$wheel"; exit 0
fi

work=${CALLBOX_PJ_BUILD_DIR:-$(mktemp -d)}
log="$work/build.log"
echo "building pjsua2 ($source_sel) in $work, log: $log" >&2
pj=$("$here/fetch-source.sh" "$work/src" | tail -n 1)
cp "$here/config_site.h" "$pj/pjlib/include/pj/config_site.h"
(
  cd "$pj"
  export CFLAGS="-O2 -fPIC" CXXFLAGS="-O2 -fPIC"
  ./configure --enable-epoll --disable-video --with-external-speex --with-external-gsm \
    --disable-ilbc-codec --disable-g7221-codec --disable-libyuv --disable-libwebrtc \
    --disable-sdl --disable-ffmpeg --disable-v4l2 --disable-openh264 --disable-bcg729 \
    --disable-silk --disable-pjsua2-tests 2>&1 || ./configure --enable-epoll --disable-video \
    --with-external-speex --with-external-gsm --disable-ilbc-codec --disable-g7221-codec \
    --disable-libyuv --disable-libwebrtc --disable-sdl --disable-ffmpeg --disable-v4l2 \
    --disable-openh264
  make dep
  make -j"$jobs" lib
  cd pjsip-apps/src/swig/python
  # A local version label marks this build: the appliance refuses any other pjsua2 at start-up.
  sed -i 's/version=pj_version,/version=pj_version + "+callbox",/' setup.py
  grep -q '"+callbox"' setup.py
  # -threads: every call into PJSIP releases the GIL (libHandleEvents blocks for milliseconds),
  # and callbacks take it back; without it the SIP thread starves the event loop.
  make pjsua2_wrap.cpp USE_THREADS="-threads"
  "$python" -m pip wheel --no-deps --no-build-isolation -w "$work/wheel" . 2>&1 \
    || "$python" -m pip wheel --no-deps -w "$work/wheel" .
) >"$log" 2>&1 || { tail -n 40 "$log" >&2; exit 1; }
mkdir -p "$out"
cp "$work/wheel"/pjsua2-*.whl "$out/"
ls "$out"/pjsua2-*.whl | head -n 1
