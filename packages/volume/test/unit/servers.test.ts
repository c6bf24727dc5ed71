import t from 'tap'
import { parseServer, parseServers } from '../../src/servers.js'

t.test('server entries', async t => {
  const cases: Array<[string, string]> = [
    ['h1', 'h1:24007'], ['h1:24008', 'h1:24008'], ['h1:0', 'h1:24007'], ['10.0.0.1', '10.0.0.1:24007'],
    ['[::1]:24010', '[::1]:24010'], ['[fe80::1]', '[fe80::1]:24007'], ['[::1]:0', '[::1]:24007'], ['::1', '[::1]:24007'],
    ['unix:/run/glusterd.socket', 'unix:/run/glusterd.socket'], ['  h2  ', 'h2:24007'],
  ]
  for (const [input, label] of cases) t.equal(parseServer(input).label, label, input)
  t.same(parseServer('unix:/x').address, { path: '/x' })
  t.same(parseServer('[::1]:5').address, { host: '::1', port: 5 })
  for (const bad of ['', 'h:x', 'h:70000', '[::1', '[]:1', '[::1]x', ':5', 'unix:rel', 'a b']) {
    t.throws(() => parseServer(bad), TypeError, JSON.stringify(bad))
  }
})

t.test('lists: arrays or one string, repeats dropped', async t => {
  t.same(parseServers(['h1', 'h1:24007', 'h2:0']).map(s => s.label), ['h1:24007', 'h2:24007'])
  t.same(parseServers('h1,h2;h3 h4').map(s => s.label), ['h1:24007', 'h2:24007', 'h3:24007', 'h4:24007'])
  t.throws(() => parseServers([]), TypeError)
})
