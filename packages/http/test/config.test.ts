// The config file in YAML as well as JSON: same options, same validation, same errors.
import t from 'tap'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { loadGatewayConfig, parseGatewayConfig, parseMountSpec, resolveMount } from '../src/index.js'
import { tmpDir } from './helpers.js'

const YAML = `# the gateway
host: 0.0.0.0
port: 8080
workers: 2
mounts:
  - mountpoint=/a,volume=v,server=h:0
  - mountpoint: /b
    volume: w
    servers: x:1;y:2
    listing: true
    upcalls: "off"
    upcallCacheTtlMs: 45000
`
const JSON_SAME = JSON.stringify({
  host: '0.0.0.0', port: 8080, workers: 2,
  mounts: ['mountpoint=/a,volume=v,server=h:0', { mountpoint: '/b', volume: 'w', servers: 'x:1;y:2', listing: true, upcalls: 'off', upcallCacheTtlMs: 45000 }],
})

t.test('a YAML file gives what the same JSON gives', async t => {
  const dir = tmpDir(t)
  const y = join(dir, 'gw.yaml')
  const yml = join(dir, 'gw.yml')
  const j = join(dir, 'gw.json')
  await writeFile(y, YAML)
  await writeFile(yml, YAML)
  await writeFile(j, JSON_SAME)
  const fromJson = await loadGatewayConfig(j)
  t.same(await loadGatewayConfig(y), fromJson, '.yaml')
  t.same(await loadGatewayConfig(yml), fromJson, '.yml')
  t.equal(fromJson.port, 8080)
  t.same(fromJson.mounts[1], { mountpoint: '/b', volume: 'w', servers: ['x:1', 'y:2'], listing: true, upcalls: 'off', upcallCacheTtlMs: 45000 })
})

t.test('no known extension: the content decides', async t => {
  const dir = tmpDir(t)
  const a = join(dir, 'gateway.conf')
  await writeFile(a, YAML)
  t.equal((await loadGatewayConfig(a)).workers, 2, 'YAML')
  await writeFile(a, '  ' + JSON_SAME)
  t.equal((await loadGatewayConfig(a)).workers, 2, 'JSON (starts with {)')
  t.same(parseGatewayConfig('{"mounts": ["volume=v"]}', 'x.yaml').mounts, [{ mountpoint: '/', volume: 'v', servers: ['localhost:24007'] }], 'JSON is YAML too')
})

t.test('YAML is validated like JSON, with the file name in the message', async t => {
  const bad: Array<[string, RegExp]> = [
    ['mounts: []', /gw\.yaml: "mounts" must be a non-empty array/],
    ['- just\n- a list', /gw\.yaml: expected an object/],
    ['mounts:\n  - mountpoint: x\n    volume: v\n    servers: [h]', /mountpoint must start/],
    ['mounts: ["volume=v"]\nport: -1', /"port" must be a non-negative integer/],
    ['mounts: ["volume=v"]\nbogus: 1', /unknown key "bogus"/],
    ['mounts: ["volume=v"]\nport: 1\nport: 2', /gw\.yaml: not YAML \(Map keys must be unique at line 3/],
    ['mounts: [\n', /gw\.yaml: not YAML/],
    ['mounts: ["volume=v"]\n---\nmounts: ["volume=w"]', /gw\.yaml: not YAML/],
    ['mounts:\n  - mountpoint: /a\n    volume: v\n    servers: [h]\n    upcalls: sometimes', /upcalls must be auto or off/],
    ['mounts:\n  - mountpoint: /a\n    volume: v\n    servers: [h]\n    upcallCacheTtlMs: soon', /upcallCacheTtlMs must be a non-negative integer/],
  ]
  for (const [text, re] of bad) t.throws(() => parseGatewayConfig(text, '/etc/gw.yaml'), re, JSON.stringify(text))
  for (const [text] of bad) t.throws(() => parseGatewayConfig(text, '/etc/gw.yaml'), TypeError)
  const f = join(tmpDir(t), 'broken.yml')
  await writeFile(f, 'mounts: [')
  await t.rejects(loadGatewayConfig(f), /broken\.yml: not YAML/)
  await t.rejects(loadGatewayConfig(join(tmpDir(t), 'missing.yaml')), { code: 'ENOENT' })
})

t.test('YAML anchors are bounded (no billion laughs)', async t => {
  const lol = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]']
  for (let i = 0; i < 8; i++) lol.push(`${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10).fill('*' + String.fromCharCode(97 + i)).join(',')}]`)
  t.throws(() => parseGatewayConfig(lol.join('\n') + '\nmounts: ["volume=v"]', 'x.yaml'), /x\.yaml: not YAML \(.*alias/i, 'refused before expansion')
})

t.test('upcall options: kv-list and defaults', async t => {
  t.same(parseMountSpec('volume=v,upcalls=off,upcall-cache-ttl-ms=60000'), { mountpoint: '/', volume: 'v', servers: ['localhost:24007'], upcalls: 'off', upcallCacheTtlMs: 60000 })
  t.throws(() => parseMountSpec('volume=v,upcalls=maybe'), /expected auto or off/)
  const r = resolveMount(parseMountSpec('volume=v'))
  t.equal(r.upcalls, 'auto')
  t.equal(r.upcallCacheTtlMs, 30000)
  t.equal(r.cacheTtlMs, 1000)
})

t.test('download buffer options: kv-list, defaults, validation', async t => {
  t.same(parseMountSpec('volume=v,stream-buffer-bytes=8388608,stream-window=4'), { mountpoint: '/', volume: 'v', servers: ['localhost:24007'], streamBufferBytes: 8388608, streamWindow: 4 })
  const r = resolveMount(parseMountSpec('volume=v'))
  t.equal(r.streamBufferBytes, 16 * 1024 * 1024)
  t.equal(r.streamWindow, 8)
  t.throws(() => resolveMount({ mountpoint: '/', volume: 'v', servers: ['h'], streamWindow: 0 }), /streamWindow must be a positive integer/)
  t.throws(() => resolveMount({ mountpoint: '/', volume: 'v', servers: ['h'], streamBufferBytes: 1.5 }), /streamBufferBytes must be a positive integer/)
})
