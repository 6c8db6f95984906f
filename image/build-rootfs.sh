#!/usr/bin/env bash
# Build a Debian 12 root file system with the appliance installed by the Ansible role (the same
# role vendors run against boxes), then seal it as a tarball any box can be made from.
#
#   image/build-rootfs.sh [--arch amd64|arm64] [--vars FILE.yml] [--stage STAGE] OUT
#
# Stages (default: all, in this order; each can be rerun alone on the same OUT):
#   base       mmdebstrap: minimal Debian 12 with systemd, udev and python3 in OUT/rootfs
#   provision  ansible-playbook ansible/playbook.yml over the chroot connection, units enabled, none started
#   finalize   remove what is unique per box (machine id, SSH host keys, first-boot secrets), seal
#              OUT/callbox-rootfs-ARCH.tar.zst (.tar.gz without zstd)
#
# Needs root, mmdebstrap and ansible (with community.general) on this machine. The mirror is the
# one this system's apt uses. --vars passes a vendor's variables (callbox_config, callbox_secrets, ...).
# arm64 runs under qemu-user-static and needs an arm64 pjsua2 wheel: see image/README.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
arch=amd64 stage=all vars=""
while [ $# -gt 1 ]; do
  case "$1" in
    --arch) arch=$2; shift 2 ;;
    --vars) vars=$(realpath "$2"); shift 2 ;;
    --stage) stage=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
out=${1:?usage: build-rootfs.sh [--arch A] [--vars F] [--stage S] OUT}
mkdir -p "$out"
out=$(realpath "$out")
rootfs="$out/rootfs"
[ "$(id -u)" -eq 0 ] || { echo "build-rootfs.sh must run as root" >&2; exit 1; }

mirror_sources() {
  # The system's own Debian sources (deb822 or one-line), for mmdebstrap to read as a file.
  local f
  for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list; do
    [ -s "$f" ] && { echo "$f"; return; }
  done
  echo "no Debian apt sources on this system" >&2; exit 1
}

stage_base() {
  rm -rf "$rootfs"
  local t0=$SECONDS
  mmdebstrap --variant=minbase --architectures="$arch" --skip=cleanup/apt/lists \
    --include=systemd-sysv,udev,dbus,python3,python3-apt,ca-certificates,util-linux,login,passwd,iproute2 \
    --aptopt='Acquire::Check-Valid-Until "false"' --aptopt='Acquire::Check-Date "false"' \
    bookworm "$rootfs" "$(mirror_sources)"
  echo "base: $((SECONDS - t0)) s" >&2
}

mount_api() {
  mount -t proc proc "$rootfs/proc"
  mount --rbind /sys "$rootfs/sys" && mount --make-rslave "$rootfs/sys"
  mount --rbind /dev "$rootfs/dev" && mount --make-rslave "$rootfs/dev"
  mount -t tmpfs tmpfs "$rootfs/run"
  cp -L /etc/resolv.conf "$rootfs/etc/resolv.conf" 2>/dev/null || true
}

umount_api() {
  local m
  for m in run dev sys proc; do umount -R "$rootfs/$m" 2>/dev/null || umount -lR "$rootfs/$m" 2>/dev/null || true; done
}

stage_provision() {
  local inv="$out/inventory.yml" t0=$SECONDS
  printf 'callbox:\n  hosts:\n    image:\n      ansible_host: %s\n      ansible_connection: community.general.chroot\n' \
    "$rootfs" > "$inv"
  mount_api
  trap umount_api EXIT
  ANSIBLE_CONFIG="$repo/ansible/ansible.cfg" ansible-playbook -i "$inv" "$repo/ansible/playbook.yml" \
    -e '{"callbox_manage_service": false}' ${vars:+-e "@$vars"} ${CALLBOX_ANSIBLE_ARGS:-}
  umount_api
  trap - EXIT
  echo "provision: $((SECONDS - t0)) s" >&2
}

stage_finalize() {
  # Unique per box, made by systemd (machine id) and callbox-firstboot.service (the rest) at first boot.
  : > "$rootfs/etc/machine-id"
  rm -f "$rootfs/var/lib/dbus/machine-id" "$rootfs"/etc/ssh/ssh_host_*
  # What a first boot made, should the tree have been booted (tests do): the box's own secrets.
  local data
  data=$(sed -n 's/^CALLBOX_DATA_DIR=//p' "$rootfs/etc/callbox/hooks.env" 2>/dev/null || true)
  data="$rootfs${data:-/var/lib/callbox}"
  rm -f "$data/.provisioned" "$data/web-secret" "$data/setup-code" "$data/device-id"
  echo callbox > "$rootfs/etc/hostname"
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb
  rm -f "$rootfs/etc/resolv.conf"
  # zstd on every core when there is one (a few times faster than gzip here), else gzip.
  local tarball compress
  if command -v zstd >/dev/null; then tarball="$out/callbox-rootfs-$arch.tar.zst" compress="zstd -T0 -3"
  else tarball="$out/callbox-rootfs-$arch.tar.gz" compress="gzip"; fi
  rm -f "$out"/callbox-rootfs-"$arch".tar.*
  tar --numeric-owner --xattrs --acls -C "$rootfs" -I "$compress" -cf "$tarball" .
  echo "finalize: $tarball ($(du -h "$tarball" | cut -f1))" >&2
}

case "$stage" in
  base) stage_base ;;
  provision) stage_provision ;;
  finalize) stage_finalize ;;
  all) stage_base; stage_provision; stage_finalize ;;
  *) echo "unknown stage $stage" >&2; exit 2 ;;
esac
