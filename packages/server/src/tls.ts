// TLS for our glusterd and bricks (gluster-shard-tls-auth.md §2): the certificate material comes
// from one directory holding glusterfs.pem, glusterfs.key and glusterfs.ca, the three files
// GlusterFS reads from its OPENSSLDIR, each replaceable by a path of its own (the volume options
// ssl.own-cert, ssl.private-key, ssl.ca-list). Files are read once, at start.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { tlsConfigError } from '@gluster-ts/rpc'
import type { TlsMaterial } from '@gluster-ts/rpc'

export interface ServerTlsOptions {
  /** a directory holding glusterfs.pem (our certificate), glusterfs.key and glusterfs.ca (trusted CAs) */
  dir?: string
  /** our certificate (PEM file), over `dir`/glusterfs.pem */
  certFile?: string
  /** our private key (PEM file), over `dir`/glusterfs.key */
  keyFile?: string
  /** trusted CAs (PEM file), over `dir`/glusterfs.ca */
  caFile?: string
  /**
   * The volume's `auth.ssl-allow`: client CNs its bricks accept (comma-separated, globs). Unset:
   * as GlusterFS, the CN decides nothing and auth.allow (addresses) does.
   */
  allow?: string
  /**
   * Management TLS (GlusterFS's /var/lib/glusterd/secure-access): glusterd speaks TLS on TCP too.
   * Clients must then fetch volfiles over TLS (FUSE: --secure-mgmt=yes).
   */
  management?: boolean
  /** `ssl.certificate-depth`: intermediate CAs allowed in a client's chain (default 1) */
  certDepth?: number
}

/** Read the certificate, key and CA list named by `o`; EGLUSTER_TLS_CONFIG naming a file that cannot be read. */
export function loadServerTls (o: ServerTlsOptions): TlsMaterial {
  const path = (file: string | undefined, name: string): string => {
    if (file !== undefined) return file
    if (o.dir === undefined) throw tlsConfigError(`no ${name}: give the TLS directory (tls.dir) or the file itself`)
    return join(o.dir, name)
  }
  const sources = { cert: path(o.certFile, 'glusterfs.pem'), key: path(o.keyFile, 'glusterfs.key'), ca: path(o.caFile, 'glusterfs.ca') }
  const read = (p: string): string => {
    try {
      return readFileSync(p, 'utf8')
    } catch (err) {
      throw tlsConfigError(`cannot read ${p}: ${(err as Error).message}`, err)
    }
  }
  return {
    cert: read(sources.cert), key: read(sources.key), ca: read(sources.ca), sources,
    ...(o.certDepth !== undefined ? { certDepth: o.certDepth } : {}),
  }
}
