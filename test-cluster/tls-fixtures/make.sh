#!/usr/bin/env bash
# make.sh — regenerate the TLS test certificates in this directory (committed; unit and loopback
# tests read them through ../tls-fixtures.ts). EC P-256 keys, no passphrases, valid for 100 years
# unless the name says otherwise. Run it only to change the set: every run makes new keys.
#
#   ca            root CA "gts-test-ca"; what servers and clients trust (glusterfs.ca)
#   server        CN gts-test-server, signed by ca (what our servers present)
#   client        CN gts-test-client, signed by ca
#   outsider      CN gts-test-outsider, signed by ca (trusted, but not in an ssl-allow list)
#   expired       CN gts-test-client, signed by ca, valid 2020-01-01..2020-01-02 only
#   future        CN gts-test-client, signed by ca, valid from 2120 only
#   other-ca      root CA "gts-other-ca" nobody trusts; stranger: CN gts-test-client signed by it
#   inter1        intermediate CA signed by ca; inter2: intermediate signed by inter1
#   mid           CN gts-test-client signed by inter1; mid.pem holds leaf + inter1 (1 intermediate)
#   deep          CN gts-test-client signed by inter2; deep.pem holds leaf + inter2 + inter1 (2)
#   selfsigned    CN gts-test-anyone, self-signed (trusted by listing it in its own CA file)
set -euo pipefail
cd "$(dirname "$0")"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
YEARS100=36500

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out "$1.key" 2>/dev/null; }
ca_ext() { printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n' >"$T/ca.ext"; }
leaf_ext() { printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nsubjectKeyIdentifier=hash\n' >"$T/leaf.ext"; }
ca_ext
leaf_ext

root() {  # name CN
  key "$1"
  openssl req -x509 -new -key "$1.key" -subj "/CN=$2" -days $YEARS100 -sha256 \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign -out "$1.pem"
}
sign() {  # name CN issuer ext [days]
  key "$1"
  openssl req -new -key "$1.key" -subj "/CN=$2" -out "$T/$1.csr"
  openssl x509 -req -in "$T/$1.csr" -CA "$3.pem" -CAkey "$3.key" -set_serial "0x$(openssl rand -hex 8)" \
    -days "${5:-$YEARS100}" -sha256 -extfile "$T/$4.ext" -out "$1.pem" 2>/dev/null
}
# a leaf with fixed validity dates: `openssl x509` of OpenSSL 3.0 cannot set them, `openssl ca` can
dated() {  # name CN issuer start end
  key "$1"
  openssl req -new -key "$1.key" -subj "/CN=$2" -out "$T/$1.csr"
  mkdir -p "$T/db"
  : >"$T/db/index.txt"
  cat >"$T/ca.cnf" <<CNF
[ca]
default_ca = d
[d]
database = $T/db/index.txt
new_certs_dir = $T/db
serial = $T/db/serial
default_md = sha256
policy = p
copy_extensions = none
x509_extensions = x
unique_subject = no
[p]
commonName = supplied
[x]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
CNF
  openssl rand -hex 8 >"$T/db/serial"
  openssl ca -batch -notext -config "$T/ca.cnf" -cert "$3.pem" -keyfile "$3.key" -in "$T/$1.csr" \
    -startdate "$4" -enddate "$5" -out "$1.pem" 2>/dev/null
}

root ca gts-test-ca
sign server gts-test-server ca leaf
sign client gts-test-client ca leaf
sign outsider gts-test-outsider ca leaf
dated expired gts-test-client ca 20200101000000Z 20200102000000Z
dated future gts-test-client ca 21200101000000Z 21210101000000Z
root other-ca gts-other-ca
sign stranger gts-test-client other-ca leaf
sign inter1 gts-test-inter1 ca ca
sign inter2 gts-test-inter2 inter1 ca
sign mid gts-test-client inter1 leaf
cat inter1.pem >>mid.pem
sign deep gts-test-client inter2 leaf
cat inter2.pem inter1.pem >>deep.pem
key selfsigned
openssl req -x509 -new -key selfsigned.key -subj /CN=gts-test-anyone -days $YEARS100 -sha256 -out selfsigned.pem
rm -f ./*.srl ca.key other-ca.key inter1.key inter2.key
ls -1
