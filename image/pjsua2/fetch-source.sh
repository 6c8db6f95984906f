#!/usr/bin/env bash
# Fetch pjproject's source into $1 (a directory), from one of two places:
#   CALLBOX_PJ_SOURCE=debian-ring (default): Debian's `ring` source package (Jami), which carries
#       pjproject 2.12.1 with its SWIG Python binding; fetched with a private apt configuration
#       built from the system's own Debian sources, so the system's apt setup is untouched.
#   CALLBOX_PJ_SOURCE=/path/to/pjproject-X.Y.tar.gz: an upstream release tarball on disk.
set -euo pipefail
dest=${1:?usage: fetch-source.sh DEST}
source_sel=${CALLBOX_PJ_SOURCE:-debian-ring}
mkdir -p "$dest"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

unpack_pjproject_tarball() {
  local tarball=$1
  tar -xf "$tarball" -C "$work/unpacked"
  local top
  top=$(find "$work/unpacked" -mindepth 1 -maxdepth 1 -type d | head -n 1)
  [ -f "$top/pjsip-apps/src/swig/pjsua2.i" ] || { echo "no SWIG binding in $tarball" >&2; exit 1; }
  rm -rf "$dest/pjproject"
  mv "$top" "$dest/pjproject"
}

mkdir -p "$work/unpacked"
if [ "$source_sel" = debian-ring ]; then
  # A deb-src twin of every deb entry the system already uses.
  mkdir -p "$work/apt/lists/partial" "$work/apt/sources.list.d"
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && sed 's/^Types: deb$/Types: deb-src/' "$f" > "$work/apt/sources.list.d/$(basename "$f")"
  done
  if [ -f /etc/apt/sources.list ]; then
    sed -n 's/^deb /deb-src /p' /etc/apt/sources.list > "$work/apt/sources.list"
  else
    : > "$work/apt/sources.list"
  fi
  aptopts=(-o "Dir::Etc::SourceList=$work/apt/sources.list"
           -o "Dir::Etc::SourceParts=$work/apt/sources.list.d"
           -o "Dir::State::Lists=$work/apt/lists"
           -o "Debug::NoLocking=1" -o "APT::Sandbox::User=root")
  apt-get "${aptopts[@]}" -q update >/dev/null
  (cd "$work" && apt-get "${aptopts[@]}" -q source --download-only ring >/dev/null)
  orig=$(find "$work" -maxdepth 1 -name 'ring_*.orig.tar.*' | head -n 1)
  [ -n "$orig" ] || { echo "ring source package not found" >&2; exit 1; }
  tar -xf "$orig" -C "$work/unpacked" --wildcards '*/daemon/contrib/tarballs*' 2>/dev/null \
    || tar -xf "$orig" -C "$work/unpacked"
  pj=$(find "$work/unpacked" -type f -path '*/pjsip-apps/src/swig/pjsua2.i' | head -n 1)
  pj=${pj%/pjsip-apps/src/swig/pjsua2.i}
  if [ -z "$pj" ]; then
    inner=$(find "$work/unpacked" -name 'pjproject-*.tar.*' | head -n 1)
    [ -n "$inner" ] || { echo "no pjproject inside the ring source" >&2; exit 1; }
    mkdir -p "$work/inner"; tar -xf "$inner" -C "$work/inner"
    pj=$(find "$work/inner" -mindepth 1 -maxdepth 1 -type d | head -n 1)
  fi
  rm -rf "$dest/pjproject"
  mv "$pj" "$dest/pjproject"
else
  [ -f "$source_sel" ] || { echo "CALLBOX_PJ_SOURCE: no such file: $source_sel" >&2; exit 1; }
  unpack_pjproject_tarball "$source_sel"
fi
echo "$dest/pjproject"
