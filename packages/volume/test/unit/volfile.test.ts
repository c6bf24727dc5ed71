import t from 'tap'
import { readFileSync, readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parseVolfile, lexVolfile } from '../../src/volfile.js'
import { buildClientGraph, parseSize } from '../../src/graph.js'

const dir = fileURLToPath(new URL('../fixtures/volfiles/', import.meta.url))
const read = (f: string): string => readFileSync(dir + f, 'utf8')

t.test('every captured volfile parses; the top is the last volume', async t => {
  const files = readdirSync(dir).filter(f => f.endsWith('.vol'))
  t.ok(files.length >= 9)
  for (const f of files) {
    const vf = parseVolfile(read(f))
    t.equal(vf.top, vf.xlators[vf.xlators.length - 1], f)
    for (const x of vf.xlators) for (const s of x.subvolumes) t.ok(vf.byName.has(s))
  }
})

t.test('vol1.tcp-fuse.vol: options and subvolumes as written', async t => {
  const vf = parseVolfile(read('vol1.tcp-fuse.vol'))
  t.same(vf.xlators.map(x => x.name), ['vol1-client-0', 'vol1-client-1', 'vol1-client-2', 'vol1-replicate-0', 'vol1-dht',
    'vol1-utime', 'vol1-write-behind', 'vol1-open-behind', 'vol1-quick-read', 'vol1-md-cache', 'vol1'])
  const c0 = vf.byName.get('vol1-client-0')!
  t.equal(c0.type, 'protocol/client')
  t.equal(c0.options.get('remote-host'), '10.77.0.11')
  t.equal(c0.options.get('ping-timeout'), '42')
  t.same(vf.byName.get('vol1-replicate-0')!.subvolumes, ['vol1-client-0', 'vol1-client-1', 'vol1-client-2'])
  t.equal(vf.top.name, 'vol1')
  t.equal(vf.top.type, 'debug/io-stats')
})

t.test('lexer: quotes, escapes, comments, keywords', async t => {
  const toks = lexVolfile('volume a # comment\n type "x y" option k "a\\"b" option k2 a#b\nsubvolumeS\nend-volume')
  t.same(toks.map(x => x.value), ['volume', 'a', 'type', 'x y', 'option', 'k', 'a"b', 'option', 'k2', 'a#b', 'subvolumes', 'end-volume'])
  t.equal(toks[toks.length - 1]!.line, 4)
  t.same(lexVolfile('volumes typex').map(x => x.kind), ['word', 'word'])
})

t.test('grammar errors are EGLUSTER_VOLFILE with the line', async t => {
  const bad: Array<[string, RegExp]> = [
    ['volume a\n option k v\nend-volume', /line 2: volume 'a': 'type' must come first/],
    ['volume a\n type t\n type u\nend-volume', /two 'type'/],
    ['volume a\n type t\n option k\nend-volume', /expected a value for option 'k'/],
    ['volume a\n type t\n subvolumes b\nend-volume', /subvolume 'b' is not defined above/],
    ['volume a\n type t\n subvolumes a\nend-volume', /names itself/],
    ['volume a\n type t\nend-volume\nvolume a\n type t\nend-volume', /defined twice/],
    ['volume a\n type t\n', /no 'end-volume'/],
    ['volume a\n type t\n option k `ls`\nend-volume', /backticks/],
    ['volume a\n type t\n option k "x\nend-volume', /newline inside a quoted string/],
    ['', /no volumes/],
    ['option k v', /expected 'volume'/],
    ['volume a\n type t\n option foo type\nend-volume', /found keyword 'type'/],
  ]
  for (const [text, re] of bad) {
    t.throws(() => parseVolfile(text), { code: 'EGLUSTER_VOLFILE', message: re }, re.source)
  }
})

t.test('client graph of vol1: replicate over 3 clients, perf xlators passed through', async t => {
  const g = buildClientGraph(read('vol1.tcp-fuse.vol'))
  t.equal(g.root.kind, 'distribute')
  if (g.root.kind !== 'distribute') return
  t.equal(g.root.children.length, 1)
  const r = g.root.children[0]!
  t.equal(r.kind, 'replicate')
  if (r.kind !== 'replicate') return
  t.same(r.children.map(c => c.host), ['10.77.0.11', '10.77.0.12', '10.77.0.13'])
  t.same(r.pendingXattrs, ['vol1-client-0', 'vol1-client-1', 'vol1-client-2'])
  t.equal(r.readHashMode, 1)
  t.equal(r.quorumCount, 2, 'quorum auto for replica 3')
  t.equal(r.arbiterCount, 0)
  t.equal(r.chooseLocal, true)
  t.same(g.passedThrough, ['vol1', 'vol1-md-cache', 'vol1-quick-read', 'vol1-open-behind', 'vol1-write-behind', 'vol1-utime'])
  t.equal(g.clients.length, 3)
  t.equal(g.clients[0]!.pingTimeoutSec, 42)
  t.equal(g.clients[0]!.brickPath, '/tmp/realcluster/n1/bricks/vol1')
  t.equal(g.clients[0]!.username, undefined)
  t.equal(g.volumeId, 'f9dbfbeb-31cf-49b0-8faa-66ece9a1e036')
})

t.test('client graph of vol2: distribute over two replica sets', async t => {
  const g = buildClientGraph(read('vol2.tcp-fuse.vol'))
  if (g.root.kind !== 'distribute') { t.fail('not distribute'); return }
  t.same(g.root.children.map(c => c.name), ['vol2-replicate-0', 'vol2-replicate-1'])
  t.equal(g.root.rsyncHashRegex, '^\\.(.+)\\.[^.]+$')
  t.equal(g.clients.length, 6)
  t.same(g.clients.map(c => c.leafIndex), [0, 1, 2, 3, 4, 5])
})

t.test('trusted volfiles carry username/password to every client', async t => {
  for (const f of ['vol1.trusted-tcp-fuse.vol', 'vol2.trusted-via-cli-getspec.vol']) {
    const g = buildClientGraph(read(f))
    for (const c of g.clients) {
      t.match(c.username, /^[0-9a-f-]{36}$/)
      t.match(c.password, /^[0-9a-f-]{36}$/)
    }
  }
})

t.test('option overrides, like glfs_set_xlator_option, with globs', async t => {
  const g = buildClientGraph(read('vol2.tcp-fuse.vol'), {
    '*-replicate-*': { 'read-hash-mode': '0', 'choose-local': 'off' },
    'vol2-client-3': { 'ping-timeout': '7' },
  })
  if (g.root.kind !== 'distribute') return
  for (const r of g.root.children) {
    if (r.kind !== 'replicate') continue
    t.equal(r.readHashMode, 0)
    t.equal(r.chooseLocal, false)
  }
  t.same(g.clients.map(c => c.pingTimeoutSec), [42, 42, 42, 7, 42, 42])
  t.throws(() => buildClientGraph(read('vol1.tcp-fuse.vol'), { 'vol1-client-0': { 'ping-timeout': 'soon' } }), { code: 'EGLUSTER_VOLFILE' })
})

t.test('unsupported translators are refused by name', async t => {
  const ec = `volume v-client-0
    type protocol/client
    option remote-host h
    option remote-subvolume /b
end-volume
volume v-disperse-0
    type cluster/disperse
    option redundancy 1
    subvolumes v-client-0
end-volume
volume v-dht
    type cluster/distribute
    subvolumes v-disperse-0
end-volume`
  const cloud = ec.replace('cluster/disperse', 'features/cloudsync')
  t.throws(() => buildClientGraph(cloud), { code: 'EGLUSTER_UNSUPPORTED', xlator: 'v-disperse-0', xlatorType: 'features/cloudsync', message: /features\/cloudsync \('v-disperse-0'/ })
  t.throws(() => buildClientGraph(read('vol1.brick-n1.vol')), { code: 'EGLUSTER_UNSUPPORTED' }, 'a brick volfile is not a client graph')
  const shard = ec.replace('cluster/disperse', 'features/shard')
  t.throws(() => buildClientGraph(shard), { code: 'EGLUSTER_UNSUPPORTED', xlatorType: 'features/shard' })
  t.throws(() => buildClientGraph('volume c\n type protocol/client\n option remote-host h\nend-volume'), { code: 'EGLUSTER_VOLFILE', message: /remote-subvolume/ })
  const arb = read('vol1.tcp-fuse.vol').replace('option afr-pending-xattr', 'option arbiter-count 1\n    option afr-pending-xattr')
  const g = buildClientGraph(arb)
  if (g.root.kind === 'distribute' && g.root.children[0]!.kind === 'replicate') t.equal(g.root.children[0]!.arbiterCount, 1)
  const shd = buildClientGraph(read('vol1.shd.vol'))
  t.equal(shd.root.kind, 'replicate', 'the self-heal daemon graph is replicate over clients')
})

t.test('features/shard: vol4 (4MB blocks, captured) and the virt group (no option: 64MB) run shard above DHT', async t => {
  const vol4 = readFileSync(fileURLToPath(new URL('../fixtures/shard-4MB/vol4.tcp-fuse.vol', import.meta.url)), 'utf8')
  const g = buildClientGraph(vol4)
  t.equal(g.root.kind, 'shard')
  if (g.root.kind !== 'shard') return
  t.equal(g.root.name, 'vol4-shard')
  t.equal(g.root.blockSize, 4 * 2 ** 20)
  t.equal(g.root.deletionRate, 100)
  t.equal(g.root.lruLimit, 16384)
  t.equal(g.root.child.kind, 'distribute')
  t.same(g.passedThrough, ['vol4', 'vol4-md-cache', 'vol4-quick-read', 'vol4-open-behind', 'vol4-write-behind', 'vol4-utime'])
  const virt = buildClientGraph(vol4.replace('    option shard-block-size 4MB\n', ''))
  t.equal(virt.root.kind === 'shard' && virt.root.blockSize, 64 * 2 ** 20, 'the default block size')
  const sizes: Array<[string, number | undefined]> = [['4MB', 4 << 20], ['64mb', 64 << 20], ['512M', 512 << 20], ['1GB', 1 << 30], ['1.5GB', 1.5 * 2 ** 30], ['4TB', 4 * 2 ** 40], ['4194304', 4194304], ['4 MB', 4 << 20], ['x', undefined], ['4XB', undefined], ['', undefined]]
  for (const [s, n] of sizes) t.equal(parseSize(s), n, `size '${s}'`)
  for (const bad of ['1MB', '5TB', 'lots']) {
    t.throws(() => buildClientGraph(vol4.replace('shard-block-size 4MB', `shard-block-size ${bad}`)), { code: 'EGLUSTER_VOLFILE', message: /shard-block-size/ }, bad)
  }
  t.throws(() => buildClientGraph(vol4.replace('    subvolumes vol4-dht\n', '    subvolumes vol4-dht vol4-replicate-0\n')), { code: 'EGLUSTER_VOLFILE', message: /exactly one subvolume/ })
})

t.test('cluster/disperse: the captured 2+1 volfile, and the geometry ec.c accepts', async t => {
  const vol3 = readFileSync(fileURLToPath(new URL('../fixtures/disperse-2+1/vol3.tcp-fuse.vol', import.meta.url)), 'utf8')
  const g = buildClientGraph(vol3)
  t.equal(g.root.kind, 'distribute')
  const d = g.root.kind === 'distribute' ? g.root.children[0]! : g.root
  t.match(d, { kind: 'disperse', name: 'vol3-disperse-0', redundancy: 1, dataBricks: 2, readPolicy: 'gfid-hash', eagerLockTimeoutMs: 1000, otherEagerLockTimeoutMs: 1000 })
  if (d.kind === 'disperse') t.same(d.children.map(c => c.name), ['vol3-client-0', 'vol3-client-1', 'vol3-client-2'], 'brick i = i-th child')
  const geo = (r: string, extra = ''): string => vol3.replace('option redundancy 1', `option redundancy ${r}${extra}`)
  // 1 ≤ r and 2r < n (ec.c:ec_parse_options)
  t.throws(() => buildClientGraph(geo('0')), { code: 'EGLUSTER_VOLFILE', message: /redundancy 0/ })
  t.throws(() => buildClientGraph(geo('2')), { code: 'EGLUSTER_VOLFILE', message: /3 bricks with redundancy 2/ })
  t.throws(() => buildClientGraph(vol3.replace('    option redundancy 1\n', '')), { code: 'EGLUSTER_VOLFILE' }, 'no redundancy option')
  t.throws(() => buildClientGraph(geo('1', '\n    option read-policy random')), { code: 'EGLUSTER_VOLFILE', message: /read-policy/ })
  const rr = buildClientGraph(geo('1', '\n    option read-policy round-robin\n    option eager-lock-timeout 5'))
  const d2 = rr.root.kind === 'distribute' ? rr.root.children[0]! : rr.root
  t.match(d2, { readPolicy: 'round-robin', eagerLockTimeoutMs: 5000 })
  t.match(buildClientGraph(geo('1', '\n    option eager-lock off\n    option other-eager-lock-timeout 3')).root, { children: [{ eagerLockTimeoutMs: 0, otherEagerLockTimeoutMs: 3000 }] })
})
