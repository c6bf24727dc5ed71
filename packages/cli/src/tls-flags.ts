// --tls-* flags and GLUSTER_TS_TLS_* (docs/cli.md "TLS"): where the certificates are and whether to
// speak TLS to glusterd. Which connections use TLS follows the volfile and the host, as for a FUSE
// client (docs/volume.md "TLS"); with neither flags nor environment, the files the installed
// GlusterFS uses are read.
import type { Argv } from 'yargs'
import { TLS_ENV, type VolumeTlsOptions } from '@gluster-ts/volume'
import type { MountOptions } from '@gluster-ts/http'
import { CliError } from './errors.js'

/** The global --tls-* options. */
export function tlsFlags<T> (y: Argv<T>): Argv<T> {
  return y
    .option('tls-dir', { type: 'string', describe: `TLS: directory holding glusterfs.pem, .key and .ca (env ${TLS_ENV.DIR}; default: the installed GlusterFS's)`, global: true })
    .option('tls-cert', { type: 'string', describe: `TLS: our certificate, PEM (env ${TLS_ENV.CERT})`, global: true })
    .option('tls-key', { type: 'string', describe: `TLS: our private key, PEM (env ${TLS_ENV.KEY})`, global: true })
    .option('tls-ca', { type: 'string', describe: `TLS: the CA certificates to trust, PEM (env ${TLS_ENV.CA})`, global: true })
    .option('tls-mgmt', { type: 'string', describe: `TLS to glusterd: on or off (env ${TLS_ENV.MGMT}; default: on when /var/lib/glusterd/secure-access exists)`, global: true }) as unknown as Argv<T>
}

const BOOL: Record<string, boolean> = { on: true, yes: true, true: true, 1: true, off: false, no: false, false: false, 0: false }

/**
 * The flags, else the environment, as Volume.connect's `tls`; undefined when neither says
 * anything (the library then looks where the installed GlusterFS does). The environment is read
 * here, from `env`, and not again by the library.
 */
export function tlsOptions (a: Record<string, unknown>, env: Record<string, string | undefined>): VolumeTlsOptions | undefined {
  const pick = (flag: string, envName: string): string | undefined => {
    const v = a[flag] !== undefined ? String(a[flag]) : env[envName]
    return v === undefined || v === '' ? undefined : v
  }
  const o: VolumeTlsOptions = {}
  const dir = pick('tls-dir', TLS_ENV.DIR)
  const cert = pick('tls-cert', TLS_ENV.CERT)
  const key = pick('tls-key', TLS_ENV.KEY)
  const ca = pick('tls-ca', TLS_ENV.CA)
  const mgmt = pick('tls-mgmt', TLS_ENV.MGMT)
  if (dir !== undefined) o.dir = dir
  if (cert !== undefined) o.certFile = cert
  if (key !== undefined) o.keyFile = key
  if (ca !== undefined) o.caFile = ca
  if (mgmt !== undefined) {
    const b = BOOL[mgmt.toLowerCase()]
    if (b === undefined) throw new CliError('EUSAGE', `--tls-mgmt takes on or off, not '${mgmt}'`)
    o.management = b
  }
  if (Object.keys(o).length === 0) return undefined
  o.env = {}
  return o
}

/** serve: the global TLS settings for every mount that has none of its own (volumeOptions.tls). */
export function withTls (m: MountOptions, tls: VolumeTlsOptions | undefined): MountOptions {
  if (tls === undefined || m.volumeOptions?.tls !== undefined) return m
  return { ...m, volumeOptions: { ...m.volumeOptions, tls } }
}
