# tls.sh — sourced by cluster.sh: TLS on the real cluster (issue 14; gluster-shard-tls-auth.md §2).
#
#   tls-up            certificates (openssl) under $ROOT/tls, every node's GlusterFS sees the node identity
#                     as its glusterfs.{pem,key,ca}, and volume voltls (replica 3) with client.ssl on,
#                     server.ssl on, auth.ssl-allow gts-node,gts-fuse,gts-client. vol1/vol2 stay plaintext.
#   tls-mgmt on|off   management TLS: secure-access in every node's /var/lib/glusterd, then every node is
#                     restarted (glusterd, bricks, shd decide at start) and FUSE mounts are unmounted first
#   tls-down          the reverse of both: voltls deleted, secure-access gone, nodes as before tls-up
#
# Nothing outside $ROOT changes. A node's GlusterFS reads its certificates from its build's OPENSSLDIR
# (/usr/lib/ssl for Debian's 10.3, /etc/ssl for bookworm-backports' 11.1: read from socket.so), and
# that directory is bind-mounted over, inside the node's own mount namespace, with a copy of the real
# one plus the node's glusterfs.{pem,key,ca}. A FUSE mount made while TLS is up runs in a mount
# namespace of its own with the FUSE identity bound the same way and --secure-mgmt set to the
# cluster's state; the mount reaches the root namespace through a shared bind of its mountpoint.
#
# Identities, each a directory holding glusterfs.pem/.key/.ca (CN; the .ca it trusts):
#   node gts-node, fuse gts-fuse, client gts-client, outsider gts-outsider (not in auth.ssl-allow),
#   expired gts-client (validity ended when it was made), stranger gts-client (issued by a CA nobody
#   trusts), untrusting gts-client (trusts only that other CA), deep gts-client (two intermediate CAs,
#   beyond the default certificate depth 1).

TLS_DIR=$ROOT/tls
TLS_VOL=voltls
TLS_ALLOW=gts-node,gts-fuse,gts-client
LAYOUT[$TLS_VOL]="1:$TLS_VOL 2:$TLS_VOL 3:$TLS_VOL"
VTYPE[$TLS_VOL]=replicate
NBRICKS[$TLS_VOL]=3

tls_up() { [[ -s $TLS_DIR/node/glusterfs.pem ]]; }
tls_vol_up() { [[ -e $TLS_DIR/$TLS_VOL ]]; }
tls_mgmt_on() { [[ $(cat "$TLS_DIR/mgmt" 2>/dev/null) == on ]]; }
# every volume cluster.json, status and down know about
all_vols() { echo "${VOLS[@]}"; if tls_vol_up; then echo "$TLS_VOL"; fi; }

# ssl_dir [ROOTDIR] — where that GlusterFS build reads glusterfs.pem: its compiled-in path
ssl_dir() {
  local so p
  for so in "$1"/usr/lib/*/glusterfs/*/rpc-transport/socket.so "$1"/usr/lib64/glusterfs/*/rpc-transport/socket.so; do
    [[ -r $so ]] || continue
    p=$(grep -aoE '/[[:graph:]]+/glusterfs\.pem' "$so" | head -n1) && [[ -n $p ]] && { echo "${p%/glusterfs.pem}"; return 0; }
  done
  die "no GlusterFS socket.so under ${1:-/}usr/lib (cannot tell where it reads glusterfs.pem)"
}

# ---- certificates ----------------------------------------------------------------------------------
tls_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out "$1" 2>/dev/null; }
tls_ca() {  # DIR CN — a self-signed CA in DIR/ca.{pem,key}
  mkdir -p "$1"
  tls_key "$1/ca.key"
  openssl req -x509 -new -key "$1/ca.key" -subj "/CN=$2" -days 30 -sha256 \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign -out "$1/ca.pem" 2>/dev/null
}
tls_sign() {  # OUT.pem KEY CN ISSUER_DIR DAYS [ca] — a certificate for KEY signed by ISSUER_DIR/ca.*
  local ext=$TLS_DIR/pki/leaf.ext
  [[ ${6:-} == ca ]] && ext=$TLS_DIR/pki/ca.ext
  openssl req -new -key "$2" -subj "/CN=$3" -out "$1.csr" 2>/dev/null
  openssl x509 -req -in "$1.csr" -CA "$4/ca.pem" -CAkey "$4/ca.key" -set_serial "0x$(openssl rand -hex 8)" \
    -days "$5" -sha256 -extfile "$ext" -out "$1" 2>/dev/null
  rm -f "$1.csr"
}
tls_identity() {  # NAME CN ISSUER_DIR TRUSTED_CA_PEM [DAYS] — $TLS_DIR/NAME/glusterfs.{pem,key,ca}
  local d=$TLS_DIR/$1
  mkdir -p "$d"
  tls_key "$d/glusterfs.key"
  tls_sign "$d/glusterfs.pem" "$d/glusterfs.key" "$2" "$3" "${5:-30}"
  cp "$4" "$d/glusterfs.ca"
  chmod 600 "$d/glusterfs.key"
}
# the system's ssl directory (openssl.cnf, certs/) copied into an identity directory, so that it can
# be bound over the real one: OpenSSL in those processes finds its configuration as before
tls_sysdir_copy() {  # NAME SYSDIR
  local e
  for e in "$2"/* "$2"/.[!.]*; do
    [[ -e $e || -L $e ]] || continue
    case ${e##*/} in private | glusterfs.* | dhparam.pem) continue ;; esac
    cp -a "$e" "$TLS_DIR/$1/"
  done
}

make_certs() {
  local p=$TLS_DIR/pki d
  command -v openssl >/dev/null || die "openssl not found (apt-get install openssl)"
  rm -rf "$TLS_DIR" && mkdir -p "$p"
  printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n' >"$p/leaf.ext"
  printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n' >"$p/ca.ext"
  tls_ca "$p" gts-real-ca
  tls_ca "$p/other" gts-other-ca
  tls_identity node gts-node "$p" "$p/ca.pem"
  tls_identity fuse gts-fuse "$p" "$p/ca.pem"
  tls_identity client gts-client "$p" "$p/ca.pem"
  tls_identity outsider gts-outsider "$p" "$p/ca.pem"
  tls_identity expired gts-client "$p" "$p/ca.pem" 0
  tls_identity stranger gts-client "$p/other" "$p/ca.pem"
  tls_identity untrusting gts-client "$p" "$p/other/ca.pem"
  # leaf <- inter2 <- inter1 <- CA: two intermediates, one more than depth 1 allows
  mkdir -p "$p/inter1" "$p/inter2"
  tls_key "$p/inter1/ca.key"; tls_sign "$p/inter1/ca.pem" "$p/inter1/ca.key" gts-real-inter1 "$p" 30 ca
  tls_key "$p/inter2/ca.key"; tls_sign "$p/inter2/ca.pem" "$p/inter2/ca.key" gts-real-inter2 "$p/inter1" 30 ca
  tls_identity deep gts-client "$p/inter2" "$p/ca.pem"
  cat "$p/inter2/ca.pem" "$p/inter1/ca.pem" >>"$TLS_DIR/deep/glusterfs.pem"
  tls_sysdir_copy node "$GROOT$(ssl_dir "$GROOT")"
  tls_sysdir_copy fuse "$(ssl_dir "")"
  for d in node fuse; do openssl verify -CAfile "$p/ca.pem" "$TLS_DIR/$d/glusterfs.pem" >/dev/null || die "bad $d certificate"; done
}

# ---- the nodes' certificates -----------------------------------------------------------------------
# in_node binds $TLS_DIR/node over the ssl directory of every process it starts; a node already running
# gets the same bind in its mount namespace (the one its glusterd, bricks and shd share)
bind_node_ssl() {  # N
  local n=$1 p dst
  p=$(glusterd_pid "$n") || die "glusterd n$n is not running"
  dst=$GROOT$(ssl_dir "$GROOT")
  nsenter -t "$p" -m sh -ec 'grep -q " $2 " /proc/self/mounts || mount --bind "$1" "$2"' sh "$TLS_DIR/node" "$dst"
}
unbind_node_ssl() {  # N
  local n=$1 p dst
  p=$(glusterd_pid "$n") || return 0
  dst=$GROOT$(ssl_dir "$GROOT")
  nsenter -t "$p" -m sh -c 'while grep -q " $1 " /proc/self/mounts; do umount "$1" || exit 1; done' sh "$dst" ||
    log "WARNING: could not unbind $dst in node $n"
}

# ---- FUSE with TLS ---------------------------------------------------------------------------------
# fuse_tls_mount VOL MP LOG PIDFILE SERVERS… — glusterfs in a mount namespace of its own where the FUSE
# identity is the ssl directory; the mountpoint is a shared bind, so the mount shows in ours too
fuse_tls_mount() {
  local v=$1 mp=$2 logf=$3 pidf=$4 sysdir mgmt=no
  shift 4
  sysdir=$(ssl_dir "")
  tls_mgmt_on && mgmt=yes
  if ! is_mounted "$mp"; then mount --bind "$mp" "$mp"; fi
  mount --make-shared "$mp"
  # shellcheck disable=SC2016 # expanded by the inner sh
  timeout 60 unshare --mount --propagation unchanged sh -ec '
    src=$1 dst=$2; shift 2
    # our binds stay here: the mounts holding them become private (in this namespace only)
    mount --make-private "$(findmnt -n -o TARGET -T "$dst")"
    mount --bind "$src" "$dst"
    exec "$@"' fuse-tls "$TLS_DIR/fuse" "$sysdir" \
    glusterfs --process-name fuse --secure-mgmt="$mgmt" "$@" --volfile-id="$v" --log-file="$logf" --pid-file="$pidf" "$mp"
}

# ---- commands --------------------------------------------------------------------------------------
create_tls_volume() {
  local i args=()
  for ((i = 1; i <= NBRICKS[$TLS_VOL]; i++)); do brick "$TLS_VOL" "$i"; args+=("$B_HOST:$B_PATH"); done
  gl 1 volume create "$TLS_VOL" replica 3 "${args[@]}" force >/dev/null
  gl 1 volume set "$TLS_VOL" server.allow-insecure on >/dev/null
  gl 1 volume set "$TLS_VOL" client.ssl on >/dev/null
  gl 1 volume set "$TLS_VOL" server.ssl on >/dev/null
  gl 1 volume set "$TLS_VOL" auth.ssl-allow "$TLS_ALLOW" >/dev/null
  touch "$TLS_DIR/$TLS_VOL"
  gl 1 volume start "$TLS_VOL" >/dev/null
  wait_for 90 "$TLS_VOL bricks online" bricks_online "$TLS_VOL"
  for ((i = 1; i <= NBRICKS[$TLS_VOL]; i++)); do wait_for 30 "$TLS_VOL brick $i pid" brick_pid "$TLS_VOL" "$i"; done
}

cmd_tls_up() {
  local n
  [[ -s $ROOT/cluster.json ]] || die "cluster is not up"
  if tls_vol_up; then log "TLS already up ($TLS_DIR)"; write_cluster_json; return 0; fi
  make_certs
  for n in "${NODES[@]}"; do bind_node_ssl "$n"; done
  echo off >"$TLS_DIR/mgmt"
  create_tls_volume
  write_cluster_json
  log "TLS up: $TLS_VOL (client.ssl, server.ssl, auth.ssl-allow $TLS_ALLOW), certificates in $TLS_DIR"
}

# restart_nodes — every process of every node ends, then glusterd starts again and brings back the
# bricks and self-heal daemons of the started volumes (all of them decide about TLS at start)
restart_nodes() {
  local n v i p pids=() spawned=()
  for v in $(all_vols); do umount_vol "$v"; done
  for n in "${NODES[@]}"; do while read -r p; do pids+=("$p"); done < <(ip netns pids "${NS[n]}" 2>/dev/null); done
  if ((${#pids[@]})); then
    kill -CONT "${pids[@]}" 2>/dev/null
    kill -TERM "${pids[@]}" 2>/dev/null
    poll 10 all_gone "${pids[@]}" || { kill -KILL "${pids[@]}" 2>/dev/null; poll 10 all_gone "${pids[@]}" || die "node processes survived SIGKILL"; }
    for p in "${pids[@]}"; do poll 10 reaped "$p" || true; done
  fi
  # pid files of the dead bricks would make glusterd think they still run
  for v in $(all_vols); do for ((i = 1; i <= NBRICKS[$v]; i++)); do brick "$v" "$i"; rm -f "$B_PIDFILE"; done; done
  for n in "${NODES[@]}"; do spawn_glusterd "$n" & spawned+=($!); done
  for p in "${spawned[@]}"; do wait "$p" || die "a glusterd failed to restart (see $ROOT/n*/log/glusterd.log)"; done
  for n in "${NODES[@]}"; do await_glusterd "$n"; done
  for n in "${NODES[@]}"; do wait_for 90 "n$n to see its peers connected" peers_connected "$n"; done
  for v in $(all_vols); do
    # with ~30 bricks restarting at once a brick can fail its start (its protocol/server does not
    # initialise: seen on disp21 in CI); `volume start force` starts the ones that are down, as an
    # operator would
    if ! poll 120 bricks_online "$v"; then
      log "$v: not every brick came back; volume start $v force"
      gl_any volume start "$v" force >/dev/null 2>&1 || true
      wait_for 120 "$v bricks online" bricks_online "$v"
    fi
    for ((i = 1; i <= NBRICKS[$v]; i++)); do wait_for 30 "$v brick $i pid" brick_pid "$v" "$i"; done
  done
}

cmd_tls_mgmt() {  # on|off
  local want=$1 n
  [[ $want == on || $want == off ]] || die "tls-mgmt takes on or off, not '$want'"
  tls_up || die "run tls-up first"
  if [[ $(cat "$TLS_DIR/mgmt") == "$want" ]]; then log "management TLS already $want"; return 0; fi
  for n in "${NODES[@]}"; do
    if [[ $want == on ]]; then touch "${DIR[n]}/lib/secure-access"; else rm -f "${DIR[n]}/lib/secure-access"; fi
  done
  echo "$want" >"$TLS_DIR/mgmt"
  restart_nodes
  write_cluster_json
  log "management TLS $want"
}

cmd_tls_down() {
  local n i v
  [[ -e $TLS_DIR ]] || { log "TLS is not up"; return 0; }
  tls_up && tls_mgmt_on && cmd_tls_mgmt off
  # mounts made while TLS was up live in a namespace of their own: later ones are made the usual way
  for v in $(all_vols); do umount_vol "$v"; done
  if tls_vol_up; then
    gl_any volume stop "$TLS_VOL" >/dev/null 2>&1 || true
    gl_any volume delete "$TLS_VOL" >/dev/null 2>&1 || log "WARNING: could not delete $TLS_VOL"
    for ((i = 1; i <= NBRICKS[$TLS_VOL]; i++)); do brick "$TLS_VOL" "$i"; rm -rf --one-file-system "$B_PATH"; done
  fi
  for n in "${NODES[@]}"; do rm -f "${DIR[n]}/lib/secure-access"; unbind_node_ssl "$n"; done
  rm -rf "$TLS_DIR"
  write_cluster_json
  log "TLS down"
}

# the "tls" member of cluster.json
tls_json() {
  if ! tls_up; then echo '  "tls": null,'; return; fi
  printf '  "tls": { "dir": "%s", "volume": "%s", "mgmt": %s, "sslAllow": "%s", "serverSslDir": "%s" },\n' \
    "$TLS_DIR" "$TLS_VOL" "$(tls_mgmt_on && echo true || echo false)" "$TLS_ALLOW" "$(ssl_dir "$GROOT")"
}
