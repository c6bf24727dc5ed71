// Run inside another network namespace by server-auth.test.ts (nsenter --net=…): one probe of
// our server from a non-local address, given as JSON in argv[2]; the result as JSON on stdout.
//   { "op": "getspec", "target": T }                       → { spec }
//   { "op": "setvolume", "target": T, "brick": i, "keys": {…} } → SetVolumeReply
//   { "op": "volume", "servers": "h:p", "volume": "vol1" } → { read } (write, read back, via @gluster-ts/volume)
// T = { volfileServer, volume, brickPorts: number[] }. A failure prints { error: { code, message } }.
import { Volume } from '@gluster-ts/volume'
import type { VolumeConfig } from '@gluster-ts/server'
import { fetchSpec, setVolumeRaw } from '../packages/server/test/integration/auth-probe.js'
import type { AuthTarget } from '../packages/server/test/integration/auth-probe.js'

interface WireTarget { volfileServer: string, volume: VolumeConfig, brickPorts: number[] }
type Probe =
  | { op: 'getspec', target: WireTarget }
  | { op: 'setvolume', target: WireTarget, brick: number, keys: Record<string, string> }
  | { op: 'volume', servers: string, volume: string }

const target = (w: WireTarget): AuthTarget => ({ volfileServer: w.volfileServer, volume: w.volume, brickPort: i => w.brickPorts[i]! })

async function run (p: Probe): Promise<unknown> {
  switch (p.op) {
    case 'getspec': return { spec: await fetchSpec(target(p.target)) }
    case 'setvolume': return await setVolumeRaw(target(p.target), p.brick, p.keys)
    case 'volume': {
      const vol = await Volume.connect({ servers: p.servers, volume: p.volume, connectTimeoutMs: 10_000 })
      try {
        const body = `written from ${process.pid}`
        await vol.writeFile('/from-netns.txt', body)
        return { read: (await vol.readFile('/from-netns.txt')).toString() }
      } finally {
        await vol.close()
      }
    }
  }
}

run(JSON.parse(process.argv[2] ?? '{}') as Probe).then(
  r => { process.stdout.write(JSON.stringify(r) + '\n') },
  (err: unknown) => {
    const e = err as { code?: string, message?: string, brick?: string }
    process.stdout.write(JSON.stringify({ error: { code: e.code, message: e.message, brick: e.brick } }) + '\n')
  })
