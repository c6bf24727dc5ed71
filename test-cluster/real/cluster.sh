#!/usr/bin/env bash
# cluster.sh — a REAL GlusterFS 10 cluster (Debian glusterfs-server) for gluster-ts interop tests.
#
# Three glusterd nodes, each in its own network namespace, joined by a bridge in the root namespace:
#     bridge gts-br0 10.88.0.1/24     gts-n1 10.88.0.11   gts-n2 10.88.0.12   gts-n3 10.88.0.13
# Volumes (brick order = client-N order in the volfile = "brick N" in the commands below, 1-based):
#     vol1  replicate 3            bricks 1..3 = n1, n2, n3 ($ROOT/nN/bricks/vol1)
#     vol2  distributed-replicate  bricks 1..3 = n1..n3 vol2a (replicate-0), 4..6 = n1..n3 vol2b (replicate-1)
#     shard4m, virt: sharded volumes (see "sharded volumes" below)
#     disp21, disp42: dispersed volumes (see "dispersed volumes" below)
# Brick ports are random within 49152-49251 (glusterd.vol base-port/max-port).
#
# State lives under $GTS_REAL_ROOT (default /tmp/gluster-ts-real); `up` writes $ROOT/cluster.json.
# Each glusterd runs in the private mount namespace `ip netns exec` gives it, where $ROOT/nN/{lib,run,log}
# are bind-mounted over /var/lib/glusterd, /run/gluster and /var/log/glusterfs (glusterd.so hard-codes
# some of those paths). Bricks and self-heal daemons inherit both namespaces. The root namespace gets
# no mounts except the FUSE clients of `mount`.
#
# Usage: cluster.sh up | down | status | info
#                   mount [VOL] | umount [VOL]             FUSE client at $ROOT/mnt/VOL (VOL defaults to vol1)
#                   kill-brick N [VOL] [SIG]               default SIGKILL; prints the pid it signalled
#                   freeze-brick N [VOL] | cont-brick N [VOL]   SIGSTOP / SIGCONT brick N
#                   start-brick [VOL]                      volume start VOL force; waits for all bricks online
#                   brick-pid N [VOL]                      pid of brick N (exit 1 if it is not running)
#                   kill-glusterd N [SIG] | start-glusterd N
#                   gl N <gluster args…>                   gluster CLI against node N's glusterd
#                   heal-info [VOL]                        glfsheal (what `volume heal VOL info` runs)
#                   tls-up | tls-mgmt on|off | tls-down    TLS volume voltls, management TLS (tls.sh)
#
# Rules: only processes we started are ever signalled (pid files checked against comm and netns, or
# `ip netns pids` of our own namespaces); every wait is bounded; the namespaces only have a route to
# 10.88.0.0/24 and the root namespace only talks to 10.88.0.x. `down` never fails.
set -euo pipefail

# GTS_REAL_ID=K (0-9, default 0) runs an independent cluster beside the default one: network 10.88.K.0/24,
# bridge gts-brK, namespaces gtsK-n1..3 (K=0 keeps gts-n1..3), state under /tmp/gluster-ts-real-K.
ID=${GTS_REAL_ID:-0}
[[ $ID =~ ^[0-9]$ ]] || { echo "cluster.sh: GTS_REAL_ID must be a digit 0-9 (got '$ID')" >&2; exit 1; }
if ((ID == 0)); then DEFAULT_ROOT=/tmp/gluster-ts-real NSP=gts-n; else DEFAULT_ROOT=/tmp/gluster-ts-real-$ID NSP=gts$ID-n; fi
ROOT=${GTS_REAL_ROOT:-$DEFAULT_ROOT}
ROOT=${ROOT%/}
# GTS_REAL_GLUSTER_ROOT=DIR runs the nodes' GlusterFS (glusterd, bricks, shd, CLI, glfsheal) from a
# separate Debian root made by gl-root.sh (e.g. GlusterFS 11.1 from bookworm-backports beside the
# host's 10.3: the two cannot share one root, see gluster-shard-tls-auth.md §4.1). Each node chroots
# into it inside its own network and mount namespaces; the FUSE clients stay the host's.
GROOT=${GTS_REAL_GLUSTER_ROOT:-}
# `up` records the root it used; later commands (mount, kill-brick, heal-info …) take it from there
[[ -n $GROOT || ! -s $ROOT/gluster-root ]] || read -r GROOT <"$ROOT/gluster-root"
GROOT=${GROOT%/}
NET=10.88.$ID
BR=gts-br$ID
BASE_PORT=49152
MAX_PORT=49251
SELF=$(readlink -f "$0")
T0=${EPOCHREALTIME/[.,]/}

log() { local us=$((${EPOCHREALTIME/[.,]/} - T0)); printf '[cluster.sh %d.%01ds] %s\n' $((us / 1000000)) $((us / 100000 % 10)) "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# paths go into cluster.json and glusterd.vol unquoted, so keep them plain
[[ $ROOT =~ ^/[A-Za-z0-9._+-]+(/[A-Za-z0-9._+-]+)*$ && $ROOT != / ]] ||
  die "GTS_REAL_ROOT must be an absolute path of [A-Za-z0-9._+-] components (got '$ROOT')"

# ---- layout: nodes, volumes, bricks (everything is derived from here) ------------------------------
NODES=(1 2 3)
NS=() IP=() DIR=() SOCK=()
for n in "${NODES[@]}"; do
  NS[n]=$NSP$n
  IP[n]=$NET.1$n
  DIR[n]=$ROOT/n$n                    # lib/ (= /var/lib/glusterd), run/, log/, bricks/, glusterd.vol
  SOCK[n]=$ROOT/n$n/run/glusterd.socket
done
VOLS=(vol1 vol2)
declare -A LAYOUT=([vol1]="1:vol1 2:vol1 3:vol1" [vol2]="1:vol2a 2:vol2a 3:vol2a 1:vol2b 2:vol2b 3:vol2b")
declare -A VTYPE=([vol1]=replicate [vol2]=distributed-replicate)
# `gluster volume set` arguments per volume, ';'-separated (applied after create, before start)
declare -A VSET=()
# ---- sharded volumes (issue 15: features/shard) ------------------------------------------------------
#     shard4m  distributed-replicate 2 x 3, features.shard on with 4 MB blocks
#     virt     replicate 3 with `group virt` (what oVirt/Proxmox set: shard on, default 64 MB blocks)
VOLS+=(shard4m virt)
LAYOUT[shard4m]="1:shard4ma 2:shard4ma 3:shard4ma 1:shard4mb 2:shard4mb 3:shard4mb"
VTYPE[shard4m]=distributed-replicate
VSET[shard4m]="features.shard on; features.shard-block-size 4MB"
LAYOUT[virt]="1:virt 2:virt 3:virt"
VTYPE[virt]=replicate
VSET[virt]="group virt"
# ---- end of sharded volumes ----------------------------------------------------------------------------
# ---- dispersed volumes (issue 16: cluster/disperse) ----------------------------------------------------
#     disp21  disperse 3 redundancy 1 (2+1), one brick per node
#     disp42  disperse 6 redundancy 2 (4+2), two bricks per node (n1 n2 n3 n1 n2 n3: any one node down
#             takes two bricks, which redundancy 2 survives)
VOLS+=(disp21 disp42)
LAYOUT[disp21]="1:disp21 2:disp21 3:disp21"
VTYPE[disp21]=disperse
LAYOUT[disp42]="1:disp42a 2:disp42a 3:disp42a 1:disp42b 2:disp42b 3:disp42b"
VTYPE[disp42]=disperse
declare -A REDUNDANCY=([disp21]=1 [disp42]=2)
# ---- end of dispersed volumes --------------------------------------------------------------------------
declare -A NBRICKS=()
for v in "${VOLS[@]}"; do read -ra b <<<"${LAYOUT[$v]}"; NBRICKS[$v]=${#b[@]}; done

# shellcheck source=tls.sh
source "${SELF%/*}/tls.sh"   # voltls and the TLS commands (tls-up, tls-mgmt, tls-down)

check_vol() { [[ -n ${LAYOUT[$1]:-} ]] || die "unknown volume '$1' (known: $(all_vols | xargs))"; }
check_node() { [[ $1 =~ ^[0-9]+$ && -n ${IP[$1]:-} ]] || die "node must be one of ${NODES[*]}, not '$1'"; }

# brick VOL N -> B_NODE, B_HOST, B_PATH, B_PIDFILE, B_VOLFILE of brick N (1-based). glusterd names a
# brick's files after its host and its path minus the leading '/', with the other '/' turned into '-'.
brick() {
  local v=$1 i=$2 b flat
  check_vol "$v"
  read -ra b <<<"${LAYOUT[$v]}"
  if ! [[ $i =~ ^[0-9]+$ ]] || ((i < 1 || i > ${#b[@]})); then die "$v has bricks 1..${#b[@]}, not '$i'"; fi
  B_NODE=${b[i - 1]%%:*}
  B_HOST=${IP[B_NODE]}
  B_PATH=${DIR[B_NODE]}/bricks/${b[i - 1]#*:}
  flat=${B_PATH#/}
  flat=${flat//\//-}
  B_PIDFILE=${DIR[B_NODE]}/run/vols/$v/$B_HOST-$flat.pid
  B_VOLFILE=${DIR[B_NODE]}/lib/vols/$v/$v.$B_HOST.$flat.vol
}
client_volfile() { echo "${DIR[$2]}/lib/vols/$1/$1.tcp-fuse.vol"; }  # VOL node

# ---- processes: only ever the ones we started ------------------------------------------------------
# poll SECONDS CMD… — run CMD every 0.2 s until it succeeds; status 1 if it never did within SECONDS
poll() {
  local end=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < end)) || return 1
    sleep 0.2
  done
}
# wait_for SECONDS WHAT CMD… — poll, and fail the script if CMD never succeeded
wait_for() { local secs=$1 what=$2; shift 2; poll "$secs" "$@" || die "timed out after ${secs}s waiting for: $what"; }

proc_state() { local s; read -r s 2>/dev/null <"/proc/$1/stat" || return 1; s=${s##*) }; echo "${s%% *}"; }
gone() { local st; st=$(proc_state "$1") || return 0; [[ $st == Z || $st == X ]]; }
reaped() { [[ ! -e /proc/$1 ]]; }
stopped() { [[ $(proc_state "$1") == T ]]; }
running() { local st; st=$(proc_state "$1") && [[ $st != T && $st != Z && $st != X ]]; }
netns_of_pid() { readlink "/proc/$1/ns/net" 2>/dev/null; }
netns_of_name() { local i; i=$(stat -L -c %i "/run/netns/$1" 2>/dev/null) || return 1; echo "net:[$i]"; }
ns_exists() { [[ -e /run/netns/$1 ]]; }

# live_pid PIDFILE COMM NETNS -> the pid, if the file names a live (non-zombie) process with that comm
# in that network namespace. Pids wrap on small pid_max, so a bare pid file is not proof.
live_pid() {
  local f=$1 comm=$2 netns=$3 p c
  [[ -s $f && -n $netns ]] || return 1
  read -r p 2>/dev/null <"$f" || return 1
  [[ $p =~ ^[0-9]+$ ]] || return 1
  read -r c 2>/dev/null <"/proc/$p/comm" || return 1
  [[ $c == "$comm" && $(netns_of_pid "$p") == "$netns" ]] || return 1
  gone "$p" && return 1
  echo "$p"
}
glusterd_pid() { live_pid "${DIR[$1]}/run/glusterd.pid" glusterd "$(netns_of_name "${NS[$1]}")"; }
brick_pid() { brick "$1" "$2"; live_pid "$B_PIDFILE" glusterfsd "$(netns_of_name "${NS[B_NODE]}")"; }  # VOL N
fuse_pid() { live_pid "$ROOT/run/fuse-$1.pid" glusterfs "$(netns_of_pid $$)"; }

# in_node SECS N CMD… — run CMD (bounded by SECS) in node N's netns, with the node's directories
# bind-mounted over the default paths inside the private mount namespace `ip netns exec` makes
in_node() {
  local secs=$1 n=$2 tls_src='' tls_dst=''
  shift 2
  if tls_up; then tls_src=$TLS_DIR/node tls_dst=$(ssl_dir "$GROOT"); fi
  # shellcheck disable=SC2016 # expanded by the inner sh
  timeout -k 5 "$secs" ip netns exec "${NS[n]}" sh -ec '
    d=$1 r=$2 top=$3 tls=$4 ssl=$5; shift 5
    # TLS up (tls.sh): the node identity stands in for the directory GlusterFS reads glusterfs.pem from
    if [ -n "$tls" ]; then mount --bind "$tls" "$r$ssl"; fi
    if [ -z "$r" ]; then
      mkdir -p /var/lib/glusterd /run/gluster /var/log/glusterfs
      mount --bind "$d/lib" /var/lib/glusterd
      mount --bind "$d/run" /run/gluster
      mount --bind "$d/log" /var/log/glusterfs
      exec "$@"
    fi
    # the same paths inside the other root: every absolute path (volfiles, bricks, sockets under
    # $top) resolves there as it does here; /proc, /sys and /dev are this namespace'\''s
    mkdir -p "$r/var/lib/glusterd" "$r/run/gluster" "$r/var/log/glusterfs" "$r$top"
    mount --bind "$d/lib" "$r/var/lib/glusterd"
    mount --bind "$d/run" "$r/run/gluster"
    mount --bind "$d/log" "$r/var/log/glusterfs"
    mount --bind "$top" "$r$top"
    mount -t proc proc "$r/proc"
    mount --rbind /sys "$r/sys"
    mount --rbind /dev "$r/dev"
    exec chroot "$r" "$@"' in_node "${DIR[n]}" "$GROOT" "$ROOT" "$tls_src" "$tls_dst" "$@"
}

# ---- gluster CLI -----------------------------------------------------------------------------------
# gl N args… — the CLI against node N's glusterd socket. It runs inside node N because it writes
# /var/lib/glusterd/geo-replication/gsyncd_template.conf, which must not land in the root fs.
gl() {
  local n=$1
  shift
  check_node "$n"
  in_node "${GTS_GL_TIMEOUT:-90}" "$n" gluster --mode=script --glusterd-sock="${SOCK[n]}" \
    --log-file="${DIR[n]}/log/cli.log" "$@"
}
any_node() {  # the first node whose glusterd is alive
  local n
  for n in "${NODES[@]}"; do glusterd_pid "$n" >/dev/null && { echo "$n"; return 0; }; done
  return 1
}
gl_any() { local n; n=$(any_node) || die "no glusterd is running"; gl "$n" "$@"; }

# brick_status VOL -> "host path port pid online" per brick, from `volume status VOL --xml`
brick_status() {
  gl_any volume status "$1" --xml 2>/dev/null | awk -F'[<>]' '
    $2 == "node" { h = ""; p = ""; port = ""; pid = ""; st = "" }
    $2 == "hostname" { h = $3 } $2 == "path" { p = $3 } $2 == "port" && port == "" { port = $3 }
    $2 == "pid" { pid = $3 } $2 == "status" { st = $3 }
    $2 == "/node" && p ~ /^\// { print h, p, port, pid, st }'
}
bricks_online() { [[ $(brick_status "$1" | awk '$5 == 1' | wc -l) -eq ${NBRICKS[$1]} ]]; }
vol_started() { gl_any volume info "$1" 2>/dev/null | grep -q '^Status: Started'; }
peers_connected() { [[ $(gl "$1" peer status 2>/dev/null | grep -c 'Peer in Cluster (Connected)') -eq $((${#NODES[@]} - 1)) ]]; }

# ---- network -------------------------------------------------------------------------------------
no_ipv6() { if [[ -w /proc/sys/net/ipv6/conf/$1/disable_ipv6 ]]; then echo 1 >"/proc/sys/net/ipv6/conf/$1/disable_ipv6"; fi; }
net_up() {
  local n ns
  ip link add "$BR" type bridge
  no_ipv6 "$BR"   # no router solicitations, MLD, … : IPv4 on 10.88.0.0/24 only
  ip addr add "$NET.1/24" dev "$BR"
  ip link set "$BR" up
  for n in "${NODES[@]}"; do
    ns=${NS[n]}
    ip netns add "$ns"
    ip link add "$ns-h" type veth peer name "$ns-c"
    no_ipv6 "$ns-h"
    ip link set "$ns-c" netns "$ns"
    ip netns exec "$ns" sh -c 'echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6' 2>/dev/null || true
    ip -n "$ns" link set "$ns-c" name eth0
    ip -n "$ns" addr add "${IP[n]}/24" dev eth0   # the only route: no default gateway
    ip -n "$ns" link set lo up
    ip -n "$ns" link set eth0 up
    ip link set "$ns-h" master "$BR"
    ip link set "$ns-h" up
  done
}

# ---- glusterd ------------------------------------------------------------------------------------
write_glusterd_vol() {
  local n=$1 d=${DIR[$1]}
  cat >"$d/glusterd.vol" <<EOF
# written by gluster-ts test-cluster/real/cluster.sh for node $n
volume management
    type mgmt/glusterd
    option working-directory $d/lib
    option run-directory $d/run
    option glusterd-sockfile $d/run/glusterd.socket
    option transport-type socket
    option transport.socket.bind-address ${IP[n]}
    option transport.socket.listen-port 24007
    option transport.socket.keepalive-time 10
    option transport.socket.keepalive-interval 2
    option transport.socket.read-fail-log off
    option ping-timeout 0
    option event-threads 1
    option base-port $BASE_PORT
    option max-port $MAX_PORT
end-volume
EOF
}

# spawn_glusterd N, then await_glusterd N. glusterd's parent only returns once the daemon has
# initialised (~3 s, mostly gsyncd setup), so `up` spawns the three in parallel.
spawn_glusterd() {
  local n=$1 d=${DIR[$1]}
  ns_exists "${NS[n]}" || die "namespace ${NS[n]} does not exist (run up)"
  if glusterd_pid "$n" >/dev/null; then log "glusterd n$n already running"; return 0; fi
  mkdir -p "$d"/{lib,run,log,bricks}
  # option groups (`volume set VOL group virt`): glusterd reads them from its own
  # /var/lib/glusterd/groups, which in the node is $d/lib/groups
  if [[ -d /var/lib/glusterd/groups && ! -d $d/lib/groups ]]; then cp -r /var/lib/glusterd/groups "$d/lib/"; fi
  write_glusterd_vol "$n"
  rm -f "$d/run/glusterd.socket" "$d/run/glusterd.pid"
  # glusterd daemonizes (stdio on /dev/null); its pid file is how we track it
  # its parent waits for gsyncd setup, which took 33 s on a box with load average 30: bounded, generously
  in_node 120 "$n" glusterd -f "$d/glusterd.vol" -p "$d/run/glusterd.pid" -l "$d/log/glusterd.log" -L INFO
}
await_glusterd() {
  wait_for 90 "glusterd n$1 to answer" gl "$1" pool list
  log "glusterd n$1 up, pid $(glusterd_pid "$1")"
}

# Debian's package starts a glusterd on machines with systemd; it would own /var/lib/glusterd and
# :24007 in the root namespace. Stop it (systemd, or its pid file), never anything found by name.
stop_system_glusterd() {
  local f p
  if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null; then
    if timeout 15 systemctl is-active --quiet glusterd.service 2>/dev/null; then
      log "stopping the system glusterd.service"
      timeout 60 systemctl stop glusterd.service || log "WARNING: systemctl stop glusterd failed"
    fi
  fi
  for f in /run/glusterd.pid /var/run/glusterd.pid; do
    p=$(live_pid "$f" glusterd "$(netns_of_pid $$)") || continue
    log "stopping the system glusterd (pid $p from $f)"
    kill -TERM "$p" 2>/dev/null || true
    poll 15 gone "$p" || log "WARNING: system glusterd $p did not exit"
  done
  if ss -Hltn 'sport = :24007' 2>/dev/null | grep -q .; then
    log "WARNING: something in the root namespace listens on :24007 (not ours: ours live in ${NSP}*)"
  fi
}

# ---- volumes ---------------------------------------------------------------------------------------
create_volume() {
  local v=$1 i args=()
  for ((i = 1; i <= NBRICKS[$v]; i++)); do
    brick "$v" "$i"
    args+=("$B_HOST:$B_PATH")
  done
  # force: the bricks are on the root filesystem (and disp42 puts two bricks of one set on a node)
  if [[ ${VTYPE[$v]} == disperse ]]; then
    gl 1 volume create "$v" disperse "${NBRICKS[$v]}" redundancy "${REDUNDANCY[$v]}" "${args[@]}" force >/dev/null
  else
    gl 1 volume create "$v" replica 3 "${args[@]}" force >/dev/null
  fi
  # already the default on 10.x; explicit so it also holds where it is not (unprivileged client ports)
  gl 1 volume set "$v" server.allow-insecure on >/dev/null
  local opt kv
  while IFS= read -r -d ';' opt || [[ -n $opt ]]; do
    read -ra kv <<<"$opt"
    ((${#kv[@]} == 0)) || gl 1 volume set "$v" "${kv[@]}" >/dev/null
  done <<<"${VSET[$v]:-}"
  gl 1 volume start "$v" >/dev/null
}

# the servers' GlusterFS version ("10.3", "11.1"), from the binaries the nodes run
gluster_version() {
  local v
  if [[ -n $GROOT ]]; then v=$(chroot "$GROOT" /usr/sbin/glusterfsd --version 2>/dev/null | head -n1); else v=$(glusterfsd --version 2>/dev/null | head -n1); fi
  v=${v#glusterfs }
  echo "${v%% *}"
}

# ---- cluster.json ----------------------------------------------------------------------------------
is_mounted() { local d m _; while read -r d m _; do [[ $m == "$1" ]] && return 0; done </proc/self/mounts; return 1; }
is_fuse_mounted() { local d m t _; while read -r d m t _; do [[ $m == "$1" && $t == fuse.glusterfs ]] && return 0; done </proc/self/mounts; return 1; }
fuse_ok() { is_fuse_mounted "$ROOT/mnt/$1" && timeout 5 stat -t "$ROOT/mnt/$1" >/dev/null 2>&1; }

write_cluster_json() {
  local n v i sep bsep d out=$ROOT/cluster.json
  {
    printf '{\n  "root": "%s",\n  "script": "%s",\n' "$ROOT" "$SELF"
    printf '  "glusterVersion": "%s", "glusterRoot": "%s",\n' "$(gluster_version)" "$GROOT"
    tls_json
    printf '  "network": { "bridge": "%s", "hostIp": "%s.1", "cidr": "%s.0/24" },\n' "$BR" "$NET" "$NET"
    printf '  "brickPorts": [%d, %d],\n  "nodes": [\n' "$BASE_PORT" "$MAX_PORT"
    sep=''
    for n in "${NODES[@]}"; do
      d=${DIR[n]}
      printf '%s    { "n": %d, "ns": "%s", "ip": "%s", "glusterdSocket": "%s", "glusterdVolfileDir": "%s",\n' \
        "$sep" "$n" "${NS[n]}" "${IP[n]}" "${SOCK[n]}" "$d/lib"
      printf '      "glusterdPidFile": "%s", "runDir": "%s", "logDir": "%s" }' "$d/run/glusterd.pid" "$d/run" "$d/log"
      sep=$',\n'
    done
    printf '\n  ],\n  "volumes": {\n'
    sep=''
    for v in $(all_vols); do
      if [[ ${VTYPE[$v]} == disperse ]]; then
        printf '%s    "%s": {\n      "type": "%s", "disperse": %d, "redundancy": %d, "distribute": 1,\n      "bricks": [\n' \
          "$sep" "$v" "${VTYPE[$v]}" "${NBRICKS[$v]}" "${REDUNDANCY[$v]}"
      else
        printf '%s    "%s": {\n      "type": "%s", "replica": 3, "distribute": %d,\n      "bricks": [\n' \
          "$sep" "$v" "${VTYPE[$v]}" $((NBRICKS[$v] / 3))
      fi
      bsep=''
      for ((i = 1; i <= NBRICKS[$v]; i++)); do
        brick "$v" "$i"
        printf '%s        { "n": %d, "node": %d, "host": "%s", "path": "%s", "pidFile": "%s", "volfile": "%s" }' \
          "$bsep" "$i" "$B_NODE" "$B_HOST" "$B_PATH" "$B_PIDFILE" "$B_VOLFILE"
        bsep=$',\n'
      done
      printf '\n      ],\n      "clientVolfiles": [\n'
      bsep=''
      for n in "${NODES[@]}"; do
        printf '%s        { "node": %d, "path": "%s", "trusted": "%s" }' "$bsep" "$n" \
          "${DIR[n]}/lib/vols/$v/$v.tcp-fuse.vol" "${DIR[n]}/lib/vols/$v/trusted-$v.tcp-fuse.vol"
        bsep=$',\n'
      done
      printf '\n      ]\n    }'
      sep=$',\n'
    done
    printf '\n  },\n  "mounts": {'
    sep=''
    for v in $(all_vols); do
      is_fuse_mounted "$ROOT/mnt/$v" || continue
      printf '%s "%s": "%s"' "$sep" "$v" "$ROOT/mnt/$v"
      sep=','
    done
    printf ' }\n}\n'
  } >"$out.tmp"
  mv -f "$out.tmp" "$out"
}

# ---- commands ------------------------------------------------------------------------------------
preflight() {
  local c
  [[ $(id -u) == 0 ]] || die "must run as root (netns, bridge, bind mounts, FUSE)"
  for c in ip glusterfs mount umount timeout ss chroot; do
    command -v "$c" >/dev/null || die "'$c' not found (apt-get install glusterfs-server glusterfs-client iproute2)"
  done
  if [[ -n $GROOT ]]; then
    for c in glusterd gluster glusterfsd; do
      [[ -x $GROOT/usr/sbin/$c ]] || die "$GROOT/usr/sbin/$c not found (make the root with test-cluster/real/gl-root.sh)"
    done
  else
    for c in glusterd gluster; do command -v "$c" >/dev/null || die "'$c' not found (apt-get install glusterfs-server)"; done
  fi
  [[ -c /dev/fuse ]] || die "/dev/fuse is missing (a container needs --device /dev/fuse)"
}
net_free() {  # nothing else on this host may use our subnet
  local other
  other=$(ip -o -4 addr show | awk -v br="$BR" -v net="$NET." '$2 != br && index($4, net) == 1 {print $2}')
  [[ -z $other ]] || die "$NET.0/24 is already in use on: $other"
}

# cluster_state -> none | up | partial:<what is there>; <what is wrong>
cluster_state() {
  local there=() bad=() n v
  ip link show "$BR" >/dev/null 2>&1 && there+=("bridge $BR")
  for n in "${NODES[@]}"; do ns_exists "${NS[n]}" && there+=("netns ${NS[n]}"); done
  [[ -e $ROOT ]] && there+=("$ROOT")
  ((${#there[@]})) || { echo none; return; }
  [[ -s $ROOT/cluster.json ]] || bad+=("no cluster.json")
  for n in "${NODES[@]}"; do glusterd_pid "$n" >/dev/null || bad+=("glusterd n$n down"); done
  if ((${#bad[@]} == 0)); then
    for v in "${VOLS[@]}"; do
      if ! vol_started "$v"; then bad+=("$v not started"); elif ! bricks_online "$v"; then bad+=("$v has bricks offline"); fi
    done
  fi
  if ((${#bad[@]} == 0)); then echo up; else echo "partial:${there[*]}; ${bad[*]}"; fi
}

cmd_up() {
  local t0=$SECONDS state n v i p spawned=()
  preflight
  stop_system_glusterd
  state=$(cluster_state)
  case $state in
    up) log "already up ($ROOT/cluster.json)"; write_cluster_json; return 0 ;;
    partial:*) die "half-up cluster (${state#partial:}); run '$SELF down' first" ;;
  esac
  net_free
  trap 'rc=$?; ((rc == 0)) || log "up FAILED after $((SECONDS - t0))s; logs: $ROOT/n*/log; clean up with: $SELF down"' EXIT
  mkdir -p "$ROOT"/{run,logs,mnt}
  [[ -z $GROOT ]] || echo "$GROOT" >"$ROOT/gluster-root"
  net_up
  for n in "${NODES[@]}"; do spawn_glusterd "$n" & spawned+=($!); done
  for p in "${spawned[@]}"; do wait "$p" || die "a glusterd failed to start (see $ROOT/n*/log/glusterd.log)"; done
  for n in "${NODES[@]}"; do await_glusterd "$n"; done
  for n in "${NODES[@]:1}"; do gl 1 peer probe "${IP[n]}" >/dev/null; done
  for n in "${NODES[@]}"; do wait_for 60 "n$n to see its peers connected" peers_connected "$n"; done
  log "peers connected"
  for v in "${VOLS[@]}"; do create_volume "$v"; log "$v created and started"; done
  for v in "${VOLS[@]}"; do
    wait_for 90 "$v bricks online" bricks_online "$v"
    for n in "${NODES[@]}"; do wait_for 30 "$v client volfile on n$n" test -s "$(client_volfile "$v" "$n")"; done
    for ((i = 1; i <= NBRICKS[$v]; i++)); do
      wait_for 30 "$v brick $i pid" brick_pid "$v" "$i"
      wait_for 30 "$v brick $i volfile" test -s "$B_VOLFILE"
    done
    log "$v: all ${NBRICKS[$v]} bricks online"
  done
  write_cluster_json
  trap - EXIT
  log "up in $((SECONDS - t0))s: $ROOT/cluster.json"
}

cmd_down() {
  set +e
  local t0=$SECONDS n v m p pids=() left=()
  for n in "${NODES[@]}"; do
    ns_exists "${NS[n]}" || continue
    while read -r p; do pids+=("$p"); done < <(ip netns pids "${NS[n]}" 2>/dev/null)
  done
  # 1. FUSE clients (root namespace): unmount, then make sure the client process is gone. A frozen
  #    brick would hang umount's path lookup for network.ping-timeout (42 s): thaw everything first.
  ((${#pids[@]})) && kill -CONT "${pids[@]}" 2>/dev/null
  for v in $(all_vols); do umount_vol "$v"; done
  # anything else still mounted below $ROOT (a stale mount from a crashed run)
  while read -r m; do
    log "lazy-unmounting $m"
    timeout 10 umount -c -l "$m"
  done < <(awk -v r="$ROOT/" 'index($2, r) == 1 {print $2}' /proc/self/mounts | sort -r)
  # 2. everything living in our namespaces (glusterd, bricks, self-heal daemons) was started by us:
  #    SIGTERM all of them at once, SIGKILL what is left after 3 s
  if ((${#pids[@]})); then
    kill -TERM "${pids[@]}" 2>/dev/null
    poll 3 all_gone "${pids[@]}"
    for p in "${pids[@]}"; do gone "$p" || left+=("$p"); done
    if ((${#left[@]})); then
      log "SIGKILL ${left[*]}"
      kill -KILL "${left[@]}" 2>/dev/null
      poll 5 all_gone "${left[@]}" || log "WARNING: still alive after SIGKILL: ${left[*]}"
    fi
    log "stopped ${#pids[@]} processes"
  fi
  # 3. namespaces and links (deleting a netns deletes its veth pair; the link loop catches half-made ones)
  for n in "${NODES[@]}"; do
    ns_exists "${NS[n]}" && { ip netns del "${NS[n]}" || log "WARNING: could not delete netns ${NS[n]}"; }
    ip link del "${NS[n]}-h" >/dev/null 2>&1   # usually gone with its netns already
  done
  ip link show "$BR" >/dev/null 2>&1 && { ip link del "$BR" || log "WARNING: could not delete $BR"; }
  # 4. files; --one-file-system so a mount we failed to remove is never recursed into
  if [[ -e $ROOT ]]; then
    if awk -v r="$ROOT/" 'index($2, r) == 1 {f = 1} END {exit !f}' /proc/self/mounts; then
      log "WARNING: something is still mounted below $ROOT; removing the rest"
    fi
    rm -rf --one-file-system "$ROOT" || log "WARNING: could not remove all of $ROOT"
  fi
  log "down in $((SECONDS - t0))s"
  return 0
}
all_gone() { local p; for p; do gone "$p" || return 1; done; }

cmd_mount() {
  local v=$1 mp=$ROOT/mnt/$1 n servers=()
  check_vol "$v"
  [[ -s $ROOT/cluster.json ]] || die "cluster is not up"
  mkdir -p "$mp" "$ROOT/run" "$ROOT/logs"
  if fuse_ok "$v"; then
    log "$v already mounted at $mp"
  else
    if is_fuse_mounted "$mp"; then log "$mp: stale mount, lazy-unmounting"; timeout 10 umount -l "$mp" || true; fi
    for n in "${NODES[@]}"; do servers+=("--volfile-server=${IP[n]}"); done
    if tls_up; then
      fuse_tls_mount "$v" "$mp" "$ROOT/logs/fuse-$v.log" "$ROOT/run/fuse-$v.pid" "${servers[@]}"
    else
      # what mount.glusterfs would exec, with all three nodes as volfile servers; it daemonizes
      timeout 60 glusterfs --process-name fuse "${servers[@]}" --volfile-id="$v" \
        --log-file="$ROOT/logs/fuse-$v.log" --pid-file="$ROOT/run/fuse-$v.pid" "$mp"
    fi
    wait_for 30 "FUSE mount of $v at $mp" fuse_ok "$v"
    log "$v mounted at $mp (pid $(fuse_pid "$v" || echo '?'))"
  fi
  write_cluster_json
  echo "$mp"
}

# umount_vol VOL — unmount and make sure the FUSE client has exited; never fails
umount_vol() {
  local v=$1 mp=$ROOT/mnt/$1 p i
  # the FUSE mount, then (TLS mounts) the bind under it
  for i in 1 2 3; do
    is_mounted "$mp" || break
    # -c: no path canonicalisation, which would stat() into the FUSE mount
    timeout 10 umount -c "$mp" 2>/dev/null || timeout 10 umount -c -l "$mp" || log "WARNING: could not unmount $mp"
  done
  if p=$(fuse_pid "$v"); then   # the client exits by itself on unmount; give it a moment
    poll 5 gone "$p" || { kill -TERM "$p" 2>/dev/null; poll 5 gone "$p" || kill -KILL "$p" 2>/dev/null; }
  fi
  rm -f "$ROOT/run/fuse-$v.pid"
  return 0
}
cmd_umount() {
  check_vol "$1"
  umount_vol "$1"
  [[ -s $ROOT/cluster.json ]] && write_cluster_json
  log "$1 unmounted"
}

cmd_status() {
  local n v
  echo "== network"
  ip -br addr show "$BR" 2>/dev/null || echo "no bridge $BR"
  for n in "${NODES[@]}"; do
    if ns_exists "${NS[n]}"; then
      printf '%s %s glusterd=%s processes=[%s]\n' "${NS[n]}" "${IP[n]}" "$(glusterd_pid "$n" || echo DOWN)" \
        "$(ip netns pids "${NS[n]}" | xargs -r ps -o comm= -p | sort | uniq -c | xargs)"
    else
      echo "${NS[n]}: absent"
    fi
  done
  if any_node >/dev/null; then
    echo "== pool"
    gl_any pool list || true
    for v in $(all_vols); do echo "== $v"; gl_any volume status "$v" || true; done
  fi
  echo "== FUSE"
  for v in $(all_vols); do
    if fuse_ok "$v"; then echo "$v mounted at $ROOT/mnt/$v (pid $(fuse_pid "$v" || echo '?'))"; else echo "$v not mounted"; fi
  done
}

cmd_brick_pid() { brick_pid "$2" "$1" || die "brick $1 of $2 is not running"; }  # N VOL

cmd_signal_brick() {  # N VOL SIG
  local i=$1 v=$2 sig=${3#SIG} p
  p=$(brick_pid "$v" "$i") || die "brick $i of $v is not running"
  brick "$v" "$i"
  kill -s "$sig" "$p"
  case $sig in
    KILL | TERM | 9 | 15)
      wait_for 15 "brick $i of $v (pid $p) to exit" gone "$p"
      # glusterd takes a zombie for a running brick (it only checks that /proc/PID exists), and an
      # init that reaps slowly (about once a second on some VMs) would make `start-brick` skip it
      poll 10 reaped "$p" || log "WARNING: pid $p is not reaped yet" ;;
    STOP | 19) wait_for 5 "brick $i of $v (pid $p) to stop" stopped "$p" ;;
    CONT | 18) wait_for 5 "brick $i of $v (pid $p) to run" running "$p" ;;
  esac
  log "SIG$sig -> brick $i of $v ($B_HOST:$B_PATH) pid $p"
  echo "$p"
}

cmd_start_brick() {  # VOL
  local v=$1 i
  check_vol "$v"
  # a pid file naming a dead (or zombie) brick would make glusterd skip that brick: remove it
  for ((i = 1; i <= NBRICKS[$v]; i++)); do brick_pid "$v" "$i" >/dev/null || rm -f "$B_PIDFILE"; done
  gl_any volume start "$v" force >/dev/null
  wait_for 60 "all $v bricks online" bricks_online "$v"
  for ((i = 1; i <= NBRICKS[$v]; i++)); do wait_for 15 "$v brick $i pid" brick_pid "$v" "$i"; done
  log "$v: all ${NBRICKS[$v]} bricks online"
}

cmd_kill_glusterd() {  # N SIG
  local n=$1 sig=${2#SIG} p
  check_node "$n"
  p=$(glusterd_pid "$n") || die "glusterd n$n is not running"
  kill -s "$sig" "$p"
  case $sig in
    KILL | TERM | 9 | 15) wait_for 15 "glusterd n$n (pid $p) to exit" gone "$p"; poll 10 reaped "$p" || true ;;
  esac
  log "SIG$sig -> glusterd n$n pid $p"
  echo "$p"
}

cmd_start_glusterd() {  # N
  check_node "$1"
  spawn_glusterd "$1"
  await_glusterd "$1"
  wait_for 60 "n$1 to see its peers connected" peers_connected "$1"
}

cmd_heal_info() {  # VOL
  local v=$1 n bin
  check_vol "$v"
  n=$(any_node) || die "no glusterd is running"
  for bin in "$GROOT"/usr/lib/*/glusterfs/glfsheal "$GROOT"/usr/libexec/glusterfs/glfsheal ""; do [[ -x $bin ]] && break; done
  [[ -n $bin ]] || die "glfsheal not found"
  bin=${bin#"$GROOT"}   # in_node runs it inside that root
  # `gluster volume heal VOL info` runs glfsheal, which looks for /var/run/glusterd.socket; run it
  # directly with node n's socket, inside node n (so its log lands in $ROOT/nN/log)
  in_node 60 "$n" "$bin" "$v" glusterd-sock "${SOCK[n]}"
}

cmd=${1:-}
(($#)) && shift
case $cmd in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  info) [[ -s $ROOT/cluster.json ]] || die "cluster is not up ($ROOT/cluster.json missing)"; cat "$ROOT/cluster.json" ;;
  mount) cmd_mount "${1:-vol1}" ;;
  umount) cmd_umount "${1:-vol1}" ;;
  brick-pid) cmd_brick_pid "${1:?brick number}" "${2:-vol1}" ;;
  kill-brick) cmd_signal_brick "${1:?brick number}" "${2:-vol1}" "${3:-KILL}" ;;
  freeze-brick) cmd_signal_brick "${1:?brick number}" "${2:-vol1}" STOP ;;
  cont-brick) cmd_signal_brick "${1:?brick number}" "${2:-vol1}" CONT ;;
  start-brick) cmd_start_brick "${1:-vol1}" ;;
  kill-glusterd) cmd_kill_glusterd "${1:?node}" "${2:-KILL}" ;;
  start-glusterd) cmd_start_glusterd "${1:?node}" ;;
  gl) gl "$@" ;;
  heal-info) cmd_heal_info "${1:-vol1}" ;;
  tls-up) cmd_tls_up ;;
  tls-mgmt) cmd_tls_mgmt "${1:?on or off}" ;;
  tls-down) cmd_tls_down ;;
  *) sed -n '2,30p' "$SELF" >&2; exit 2 ;;
esac
