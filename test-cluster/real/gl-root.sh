#!/usr/bin/env bash
# gl-root.sh DIR [SUITE] — a minimal Debian 12 root with GlusterFS from bookworm-backports (11.1),
# for `GTS_REAL_GLUSTER_ROOT=DIR cluster.sh up`: the host keeps Debian's 10.3 and its FUSE client,
# the cluster's nodes run 11.1 from DIR (chroot inside each node's namespaces). The two versions
# cannot be installed in one root (same package names and library sonames).
#   DIR      where the root goes (made if absent; an existing complete root is kept: a no-op)
#   SUITE    the apt suite for glusterfs-server (default bookworm-backports)
# Needs root, debootstrap and the Debian mirror (deb.debian.org). About 530 MB and 3 minutes.
set -euo pipefail
DIR=${1:?usage: gl-root.sh DIR [SUITE]}
SUITE=${2:-bookworm-backports}
MIRROR=${GTS_DEBIAN_MIRROR:-http://deb.debian.org/debian}
DIR=${DIR%/}
[[ $(id -u) == 0 ]] || { echo "gl-root.sh: must run as root" >&2; exit 1; }
if [[ -x $DIR/usr/sbin/glusterfsd && -e $DIR/.gts-complete ]]; then
  echo "gl-root.sh: $DIR is ready: $(chroot "$DIR" /usr/sbin/glusterfsd --version | head -n1)"
  exit 0
fi
command -v debootstrap >/dev/null || { echo "gl-root.sh: debootstrap not found (apt-get install debootstrap)" >&2; exit 1; }
mkdir -p "$DIR"
[[ -x $DIR/usr/bin/apt-get ]] || debootstrap --variant=minbase bookworm "$DIR" "$MIRROR"
echo "deb $MIRROR $SUITE main" >"$DIR/etc/apt/sources.list.d/gts-glusterfs.list"
# no daemon may start inside the root while packages install
printf '#!/bin/sh\nexit 101\n' >"$DIR/usr/sbin/policy-rc.d"
chmod 755 "$DIR/usr/sbin/policy-rc.d"
mounted=0
cleanup() { ((mounted)) && umount "$DIR/proc" 2>/dev/null; return 0; }
trap cleanup EXIT
mount -t proc proc "$DIR/proc" && mounted=1
chroot "$DIR" apt-get update
chroot "$DIR" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends -t "$SUITE" \
  glusterfs-server glusterfs-client attr
touch "$DIR/.gts-complete"
echo "gl-root.sh: $DIR ready: $(chroot "$DIR" /usr/sbin/glusterfsd --version | head -n1)"
