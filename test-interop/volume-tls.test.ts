// TLS against the REAL GlusterFS cluster (issue 14): `cluster.sh tls-up` makes certificates with
// openssl and volume voltls (client.ssl on, server.ssl on, auth.ssl-allow gts-node,gts-fuse,gts-client);
// `tls-mgmt on` puts secure-access on every node and restarts them. Our client reads and writes
// voltls with the FUSE client (its own TLS identity) as the oracle, with management TLS off and on;
// every refusal is a typed EGLUSTER_TLS that names the server and the reason, within seconds.
// The suite leaves the cluster as it found it (tls-down in teardown).
import t, { type Test } from 'tap'
import { rm, readFile, writeFile, mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Volume, type VolumeOptions } from '@gluster-ts/volume'
import { GlusterError } from '@gluster-ts/rpc'
import { loadGatewayConfig, startGatewayServer } from '@gluster-ts/http'
import { loadRealCluster } from '../test-cluster/real/index.js'
import { writeTree, checkTree } from './volume-read-checks.js'
import { checkWriteOps } from './volume-write-checks.js'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { BIN, binMissing, gts } from './cli-helpers.js'

const exec = promisify(execFile)

/** The first fenced block of `lang` after the heading `heading` in a docs/ page. */
async function docBlock (page: string, heading: string, lang: string): Promise<string> {
  const md = await readFile(new URL(`../docs/${page}`, import.meta.url), 'utf8')
  const at = md.indexOf(`\n${heading}\n`)
  const open = md.indexOf(`\n\`\`\`${lang}\n`, at)
  if (at < 0 || open < 0) throw new Error(`docs/${page}: no \`\`\`${lang} block under '${heading}'`)
  return md.slice(open + lang.length + 5, md.indexOf('\n```', open + 4))
}

const cluster = loadRealCluster()
if ('skip' in cluster) {
  t.test('TLS against the real cluster', { skip: `real cluster not available: ${cluster.skip}` }, async () => {})
} else {
  const servers = cluster.nodes.map(n => n.ip)
  const tlsDir = `${cluster.root}/tls`
  const top = `gts-tls-${process.pid}`
  /** No refusal may take longer than this (a hang would take the test's timeout). */
  const REFUSED_WITHIN_MS = 15_000

  const connect = (volume: string, who: string, o: Partial<VolumeOptions> = {}): Promise<Volume> =>
    Volume.connect({ servers, volume, connectTimeoutMs: 5000, bootstrapTimeoutMs: 8000, ...o, tls: { dir: `${tlsDir}/${who}`, management: false, ...o.tls } })

  /** Connect must fail with EGLUSTER_TLS (or `code`) quickly; returns the error. */
  const refused = async (t: Test, p: Promise<Volume>, code = 'EGLUSTER_TLS'): Promise<GlusterError> => {
    const t0 = Date.now()
    const r = await p.then(v => { void v.close(); return undefined }, (e: unknown) => e)
    const ms = Date.now() - t0
    if (!(r instanceof GlusterError)) throw new Error(`expected ${code}, got ${r === undefined ? 'a connected volume' : String(r)}`)
    t.equal(r.code, code, r.message)
    t.ok(ms < REFUSED_WITHIN_MS, `refused in ${ms} ms, no hang`)
    return r
  }

  t.before(async () => {
    await cluster.tlsUp()
    await cluster.tlsMgmt(false)
  })
  t.teardown(async () => {
    await cluster.tlsDown()
  })

  t.test('the cluster: voltls has TLS on in its volfiles, vol1 does not', async t => {
    const vf = await readFile(cluster.clientVolfilePath(1, 'voltls'), 'utf8')
    t.equal(vf.match(/option transport\.socket\.ssl-enabled on/g)?.length, 3, 'every protocol/client of voltls')
    t.notMatch(await readFile(cluster.clientVolfilePath(1, 'vol1'), 'utf8'), /ssl-enabled on/)
  })

  t.test('management TLS off: our client and FUSE read each other\'s writes on voltls', async t => {
    const mnt = await cluster.mount('voltls')
    t.teardown(() => rm(join(mnt, top), { recursive: true, force: true }))
    const files = await writeTree(join(mnt, top, 'fuse'))
    const vol = await connect('voltls', 'client')
    t.teardown(() => vol.close())
    t.equal(vol.managementTls, false)
    for (const b of vol.bricks.values()) t.ok(b.up, `${b.label} up over TLS`)
    await checkTree(t, vol, mnt, `${top}/fuse`, files)
    await checkWriteOps(t, vol, mnt, `${top}/ours`)
    // and a plaintext volume of the same cluster is still plaintext for the same client
    const plain = await connect('vol1', 'client')
    t.teardown(() => plain.close())
    t.same((await plain.stat('/')).isDirectory(), true)
  })

  t.test('the CLI (flags and environment) and the gateway (docs/http.md\'s TLS mount) on voltls', async t => {
    const mnt = await cluster.mount('voltls')
    const name = `${top}-surfaces.txt`
    t.teardown(() => rm(join(mnt, name), { force: true }))
    const url = `gluster://${servers.join(',')}/voltls/${name}`
    const missing = binMissing()
    if (missing !== undefined) throw new Error(missing)
    let r = await gts(['put', url, '--tls-dir', `${tlsDir}/client`], { input: 'from the CLI\n' })
    t.equal(r.code, 0, r.stderr)
    t.equal(await readFile(join(mnt, name), 'utf8'), 'from the CLI\n', 'FUSE reads what gluster-ts put wrote')
    r = await gts(['cat', url], { env: { GLUSTER_TS_TLS_DIR: `${tlsDir}/client`, GLUSTER_TS_TLS_MGMT: 'off' } })
    t.equal(r.stdout.toString(), 'from the CLI\n', 'GLUSTER_TS_TLS_DIR')
    r = await gts(['cat', url, '--tls-dir', `${tlsDir}/outsider`, '--timeout', '8000'])
    t.equal(r.code, 6, 'status 6 (unavailable)')
    t.match(r.stderr, /EGLUSTER_TLS: .*refused our certificate \(CN 'gts-outsider'\): CN not allowed/)

    // the commands of docs/cli.md "TLS", pointed at this cluster (gluster-ts on PATH is the built one)
    await writeFile(join(mnt, 'motd'), 'motd over TLS\n')
    t.teardown(() => rm(join(mnt, 'motd'), { force: true }))
    const bin = await mkdtemp(join(tmpdir(), 'gts-tls-bin-'))
    t.teardown(() => rm(bin, { recursive: true, force: true }))
    await writeFile(join(bin, 'gluster-ts'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`, { mode: 0o755 })
    for (const line of (await docBlock('cli.md', '### TLS', 'sh')).split('\n')) {
      const cmd = line.replaceAll('/etc/gluster-ts/tls', `${tlsDir}/client`).replaceAll('gluster://gl1/secure/', `gluster://${servers[0]}/voltls/`)
      const out = await exec('sh', ['-c', cmd], { env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` }, timeout: 60_000 })
      t.ok(cmd.includes(' ls ') ? out.stdout.includes('motd') : out.stdout === 'motd over TLS\n', `docs/cli.md: ${line}`)
    }

    // the YAML of docs/http.md "TLS mounts", pointed at this cluster
    const yaml = (await docBlock('http.md', '### TLS mounts', 'yaml'))
      .replace('[gl1, gl2, gl3]', `[${servers.join(', ')}]`)
      .replace('/etc/gluster-ts/tls', `${tlsDir}/client`)
      .replace('port: 8080', 'port: 0\nworkers: 1\naccessLog: false')
    const dir = await mkdtemp(join(tmpdir(), 'gts-tls-gw-'))
    t.teardown(() => rm(dir, { recursive: true, force: true }))
    await writeFile(join(dir, 'gateway.yaml'), yaml)
    const srv = await startGatewayServer(await loadGatewayConfig(join(dir, 'gateway.yaml')))
    t.teardown(() => srv.close())
    let res: Response | undefined
    for (let i = 0; i < 50; i++) {
      res = await fetch(`${srv.url}/secure/${name}`)
      if (res.status !== 503) break
      await new Promise(resolve => setTimeout(resolve, 200))
    }
    t.equal(res?.status, 200)
    t.equal(await res?.text(), 'from the CLI\n', 'the gateway serves the TLS volume')
  })

  t.test('management TLS off: every refusal is typed and quick', async t => {
    let e = await refused(t, connect('voltls', 'outsider'))
    t.equal(e.tlsReason, 'cn-not-allowed')
    t.equal(e.rejectedBy, 'server')
    t.match(e.message, /CN 'gts-outsider'/)
    t.match(e.brick, /^10\.88\.\d+\.1\d:\d+:\/.*voltls$/, 'names the brick')
    e = await refused(t, connect('voltls', 'stranger'))
    t.equal(e.tlsReason, 'unknown-ca', 'the bricks do not know our CA (alert unknown_ca)')
    t.equal(e.rejectedBy, 'server')
    e = await refused(t, connect('voltls', 'expired'))
    t.equal(e.tlsReason, 'expired', 'alert certificate_expired')
    t.equal(e.rejectedBy, 'server')
    e = await refused(t, connect('voltls', 'untrusting'))
    t.equal(e.tlsReason, 'unknown-ca', 'we do not trust the bricks\' CA')
    t.equal(e.rejectedBy, 'client')
    t.match(e.message, /CN 'gts-node'/)
    e = await refused(t, connect('voltls', 'deep'))
    t.equal(e.tlsReason, 'unknown-ca', 'two intermediate CAs are over depth 1: OpenSSL answers unknown_ca')
    // plaintext to a TLS brick, TLS to a plaintext brick
    e = await refused(t, connect('voltls', 'client', { xlatorOptions: { '*': { 'transport.socket.ssl-enabled': 'off' } } }))
    t.equal(e.tlsReason, 'tls-required')
    e = await refused(t, connect('vol1', 'client', { xlatorOptions: { '*': { 'transport.socket.ssl-enabled': 'on' } } }))
    t.equal(e.tlsReason, 'closed', 'a plaintext brick hangs up on our ClientHello')
    t.match(e.message, /does the server have TLS on/)
    // no certificate at all
    await refused(t, connect('voltls', 'no-such-identity'), 'EGLUSTER_TLS_CONFIG')
  })

  t.test('management TLS on: secure-access on every node', async t => {
    await cluster.tlsMgmt(true)
    t.teardown(() => cluster.tlsMgmt(false))

    await t.test('a plaintext client is told glusterd wants TLS', async t => {
      const e = await refused(t, connect('voltls', 'client'))
      t.equal(e.tlsReason, 'tls-required')
      t.match(e.message, /management: true/)
    })

    await t.test('with management TLS: our client and FUSE read each other\'s writes on voltls', async t => {
      const mnt = await cluster.mount('voltls')
      t.teardown(() => rm(join(mnt, top), { recursive: true, force: true }))
      const files = await writeTree(join(mnt, top, 'fuse'))
      const vol = await connect('voltls', 'client', { tls: { management: true } })
      t.teardown(() => vol.close())
      t.equal(vol.managementTls, true)
      await checkTree(t, vol, mnt, `${top}/fuse`, files)
      await checkWriteOps(t, vol, mnt, `${top}/ours`)
    })

    await t.test('docs/volume.md\'s TLS example, against this cluster', async t => {
      const code = (await docBlock('volume.md', '## TLS', 'ts'))
        .replace("['gl1', 'gl2']", JSON.stringify(servers))
        .replace("'secure'", "'voltls'")
        .replace('/etc/gluster-ts/tls', `${tlsDir}/client`)
      const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (...a: string[]) => (...x: unknown[]) => Promise<Volume>
      const vol = await new AsyncFunction('Volume', `${code}\nreturn vol`)(Volume)
      t.teardown(() => vol.close())
      t.equal(vol.managementTls, true)
      t.ok((await vol.stat('/')).isDirectory())
    })

    await t.test('a node\'s secure-access file turns it on as libgfapi does; a plaintext volume works over it', async t => {
      const mnt = await cluster.mount('vol1')
      const name = `${top}-plain.txt`
      await writeFile(join(mnt, name), 'plaintext volume, TLS glusterd\n')
      t.teardown(() => rm(join(mnt, name), { force: true }))
      const vol = await Volume.connect({ servers, volume: 'vol1', tls: { dir: `${tlsDir}/client`, secureAccessFile: `${cluster.node(1).glusterdVolfileDir}/secure-access` } })
      t.teardown(() => vol.close())
      t.equal(vol.managementTls, true)
      t.equal(String(await vol.readFile(`/${name}`)), 'plaintext volume, TLS glusterd\n')
    })

    await t.test('glusterd checks no CN: an outsider gets the volfile, the bricks refuse it', async t => {
      const e = await refused(t, connect('voltls', 'outsider', { tls: { management: true } }))
      t.equal(e.tlsReason, 'cn-not-allowed')
      const vol = await connect('vol1', 'outsider', { tls: { management: true } })
      t.teardown(() => vol.close())
      t.ok((await vol.stat('/')).isDirectory())
    })

    await t.test('glusterd refuses a certificate from an unknown CA and an expired one at GETSPEC', async t => {
      let e = await refused(t, connect('vol1', 'stranger', { tls: { management: true } }))
      t.equal(e.tlsReason, 'unknown-ca')
      t.equal(e.rejectedBy, 'server')
      t.equal(e.syscall, 'GETSPEC')
      e = await refused(t, connect('vol1', 'expired', { tls: { management: true } }))
      t.equal(e.tlsReason, 'expired')
      e = await refused(t, connect('vol1', 'untrusting', { tls: { management: true } }))
      t.equal(e.rejectedBy, 'client')
    })
  })
}
