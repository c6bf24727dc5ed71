// filter.ts against the examples of rclone's filtering documentation (https://rclone.org/filtering/,
// "Pattern syntax" and "How filter rules are applied"), and bad patterns.
import t from 'tap'
import { buildFilter, compileRule, filterArgs, joinFilterValues, parseFilterRule } from '../src/filter.js'

// [pattern, matches, does not match]: the documented tables
const GLOBS: Array<[string, string[], string[]]> = [
  ['file.jpg', ['file.jpg', 'directory/file.jpg'], ['afile.jpg', 'directory/afile.jpg']],
  ['/file.jpg', ['file.jpg'], ['afile.jpg', 'directory/file.jpg']],
  ['*.jpg', ['file.jpg', 'directory/file.jpg'], ['file.jpg/something', 'file.png']],
  ['/*.jpg', ['file.jpg'], ['directory/file.jpg']],
  ['dir/**', ['dir/file.jpg', 'dir/dir1/dir2/file.jpg'], ['directory/file.jpg', 'adir/file.jpg']],
  ['/dir/**', ['dir/file.jpg', 'dir/sub/file.jpg'], ['a/dir/file.jpg', 'directory/file.jpg']],
  ['**/file.jpg', ['a/file.jpg', 'a/b/file.jpg'], ['file.png', 'a/afile.jpg']],
  ['l?ss', ['less', 'lass', 'a/less'], ['floss', 'l/ss', 'lss']],
  ['h[ae]llo', ['hello', 'hallo'], ['hullo', 'h/llo']],
  ['h[!ae]llo', ['hullo'], ['hello', 'hallo', 'h/llo']],
  ['h[^ae]llo', ['hullo'], ['hallo']],
  ['[a-c]x', ['ax', 'bx', 'cx'], ['dx']],
  ['{one,two}_potato', ['one_potato', 'two_potato'], ['three_potato', '_potato']],
  ['*.{jpg,png}', ['a.jpg', 'd/b.png'], ['c.gif', 'a.jpgx']],
  ['{a,b{c,d}}.txt', ['a.txt', 'bc.txt', 'bd.txt'], ['b.txt', 'bcd.txt']],
  ['\\*.jpg', ['*.jpg'], ['file.jpg']],
  ['a.b', ['a.b'], ['axb']],
  ['a+(b)', ['a+(b)'], ['aab']],
  ['**', ['a', 'a/b/c'], []],
]

t.test('glob syntax: rclone\'s documented examples', async t => {
  for (const [glob, yes, no] of GLOBS) {
    const r = compileRule(false, glob)
    for (const p of yes) t.ok(r.re.test(p), `${glob} matches ${p}`)
    for (const p of no) t.notOk(r.re.test(p), `${glob} does not match ${p}`)
  }
})

t.test('a trailing / matches directories only; excluding dir/ excludes what is under it', async t => {
  const inc = buildFilter([{ kind: 'filter', value: '+ keep/' }, { kind: 'filter', value: '- *' }, { kind: 'filter', value: '- */' }])
  t.equal(inc.file('keep'), false, 'a file named keep is not the directory keep/')
  t.equal(inc.dir('keep'), true)
  t.equal(inc.dir('other'), false, '- */ prunes other directories')
  const ex = buildFilter([{ kind: 'exclude', value: 'logs/' }])
  t.equal(ex.dir('logs'), false)
  t.equal(ex.dir('a/logs'), false, 'unanchored: at any level')
  t.equal(ex.file('logs/1.log'), false, 'its files are excluded too (logs/ is logs/**)')
  t.equal(ex.file('logs'), true, 'a file named logs is not excluded')
  t.equal(ex.dir('logsx'), true)
})

t.test('rules in order, first match wins; --include implies - ** at the end', async t => {
  // rclone's "How filter rules are applied" example
  const f = buildFilter(filterArgs(['--filter', '+ *.jpg', '--filter', '- secret*.jpg', '--filter', '- *']))
  t.equal(f.file('secret17.jpg'), true, 'the + *.jpg before it wins')
  t.equal(f.file('a.png'), false)
  const g = buildFilter(filterArgs(['--exclude', 'secret*.jpg', '--include', '*.jpg']))
  t.equal(g.file('secret17.jpg'), false, 'in the other order, the exclude wins')
  t.equal(g.file('a.jpg'), true)
  t.equal(g.file('a.png'), false, 'anything else: excluded after an --include')
  t.equal(g.dir('photos'), true, 'the implied - ** does not prune directories: a.jpg may be inside')
  const none = buildFilter([])
  t.equal(none.empty, true)
  t.equal(none.file('anything/at/all'), true, 'no rules: everything')
  const ex = buildFilter(filterArgs(['--exclude', '*.tmp']))
  t.equal(ex.file('a.tmp'), false)
  t.equal(ex.file('a.txt'), true, 'only excludes: the rest is included')
  t.equal(ex.dir('x.tmp'), true, 'a file glob does not prune a directory')
  const pruned = buildFilter(filterArgs(['--exclude', 'cache/**', '--include', '*.dat']))
  t.equal(pruned.dir('a/cache'), false, 'the exclude comes first: cache is not walked')
  const kept = buildFilter(filterArgs(['--include', '*.dat', '--exclude', 'cache/**']))
  t.equal(kept.dir('a/cache'), true, 'an include before it may match inside: walked')
  t.equal(kept.file('a/cache/x.dat'), true)
  t.equal(kept.file('a/cache/x.txt'), false)
})

t.test('the command line: order across flags, --flag=value, values that start with -', async t => {
  t.same(filterArgs(['sync', '--exclude', 'a', '--include=b', 'x', '--filter', '- c', '--', '--exclude', 'd']),
    [{ kind: 'exclude', value: 'a' }, { kind: 'include', value: 'b' }, { kind: 'filter', value: '- c' }])
  t.same(joinFilterValues(['sync', '--filter', '- *.jpg', 'a', 'b', '--', '--filter']), ['sync', '--filter=- *.jpg', 'a', 'b', '--', '--filter'])
  t.throws(() => filterArgs(['ls', '--exclude']), { code: 'EUSAGE' })
})

t.test('bad patterns are usage errors, named', async t => {
  for (const bad of ['[abc', 'a{b,c', 'a}', '', 'x\\', '***', '{{re}}', '[]']) {
    t.throws(() => compileRule(false, bad), { code: 'EUSAGE', message: /invalid filter/ }, JSON.stringify(bad))
  }
  for (const bad of ['*.jpg', '+*.jpg', '* a', '+ ']) t.throws(() => parseFilterRule(bad), { code: 'EUSAGE' }, JSON.stringify(bad))
})
