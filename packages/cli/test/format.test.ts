// Formatting helpers: ls -l columns, modes, human sizes, size parsing, tail's line cutting.
import t from 'tap'
import { humanSize, modeString, octalMode, parseSize, parseMode, lsDate, longListing, lastLines, hasLines, byteOrder, statTime, typeName, isoTime, exactIno, parseTailCount, parseSizeChange, applySizeChange } from '../src/format.js'

t.test('modeString as ls prints it', async t => {
  t.equal(modeString(0o100644), '-rw-r--r--')
  t.equal(modeString(0o040755), 'drwxr-xr-x')
  t.equal(modeString(0o120777), 'lrwxrwxrwx')
  t.equal(modeString(0o041777), 'drwxrwxrwt')
  t.equal(modeString(0o040766 | 0o1000), 'drwxrw-rwT')
  t.equal(modeString(0o104755), '-rwsr-xr-x')
  t.equal(modeString(0o102745), '-rwxr-Sr-x')
  t.equal(octalMode(0o100644), '0644')
  t.equal(typeName(0o040000), 'directory')
  t.equal(typeName(0o100000), 'file')
})

t.test('humanSize like GNU ls -h (powers of 1024, rounded up)', async t => {
  const cases: Array<[number, string]> = [[0, '0'], [1023, '1023'], [1024, '1.0K'], [1536, '1.5K'], [1025, '1.1K'],
    [10 * 1024, '10K'], [10 * 1024 - 1, '10K'], [1 << 20, '1.0M'], [5.5 * 2 ** 30, '5.5G']]
  for (const [n, s] of cases) t.equal(humanSize(n), s, String(n))
})

t.test('parseSize', async t => {
  t.equal(parseSize('0'), 0)
  t.equal(parseSize('4K'), 4096)
  t.equal(parseSize('1M'), 1 << 20)
  t.equal(parseSize('1MiB'), 1 << 20)
  t.equal(parseSize('1MB'), 1_000_000)
  t.equal(parseSize('2g'), 2 * 2 ** 30)
  for (const bad of ['', '-1', '1.5K', 'K', '1Q', '99999999999999999999']) t.throws(() => parseSize(bad), { code: 'EUSAGE' }, bad)
  t.equal(parseMode('755'), 0o755)
  t.throws(() => parseMode('9'), { code: 'EUSAGE' })
})

t.test('ls -l dates: time within six months, year beyond', async t => {
  const now = Date.UTC(2026, 10, 25, 13, 0)
  t.equal(lsDate(Date.UTC(2026, 10, 2, 9, 5), now), 'Nov  2 09:05')
  t.equal(lsDate(Date.UTC(2025, 0, 15), now), 'Jan 15  2025')
})

t.test('longListing aligns columns and shows symlink targets', async t => {
  const now = Date.UTC(2026, 10, 25)
  const lines = longListing([
    { name: 'a', mode: 0o100644, nlink: 1, uid: 0, gid: 0, size: 5, mtimeMs: now, target: undefined },
    { name: 'dir', mode: 0o040755, nlink: 12, uid: 1000, gid: 100, size: 4096, mtimeMs: now },
    { name: 'l', mode: 0o120777, nlink: 1, uid: 0, gid: 0, size: 1, mtimeMs: now, target: 'a' },
  ], { human: false, nowMs: now })
  t.same(lines, [
    '-rw-r--r--  1 0    0      5 Nov 25 00:00 a',
    'drwxr-xr-x 12 1000 100 4096 Nov 25 00:00 dir',
    'lrwxrwxrwx  1 0    0      1 Nov 25 00:00 l -> a',
  ])
  t.match(longListing([{ name: 'b', mode: 0o100644, nlink: 1, uid: 0, gid: 0, size: 1536, mtimeMs: now }], { human: true, nowMs: now })[0], / 1\.5K /)
})

t.test('lastLines / hasLines (tail -n)', async t => {
  const b = Buffer.from('a\nb\nc\n')
  t.equal(lastLines(b, 2).toString(), 'b\nc\n')
  t.equal(lastLines(b, 10).toString(), 'a\nb\nc\n')
  t.equal(lastLines(b, 0).toString(), '')
  t.equal(lastLines(Buffer.from('a\nb\nno-newline'), 1).toString(), 'no-newline')
  t.equal(lastLines(Buffer.from('a\nb\nno-newline'), 2).toString(), 'b\nno-newline')
  t.equal(hasLines(b, 2), true, 'a chunk ending in "b\\nc\\n" proves 2 lines when a newline precedes them')
  t.equal(hasLines(Buffer.from('b\nc\n'), 2), false)
})

t.test('byteOrder sorts as LC_ALL=C ls does; statTime keeps nanoseconds', async t => {
  t.same(['b', 'B', 'a', '_', 'é'].sort(byteOrder), ['B', '_', 'a', 'b', 'é'])
  t.equal(statTime(1767323045678123456n), '2026-01-02 03:04:05.678123456 +0000')
  t.equal(isoTime(1767323045000000007n), '2026-01-02T03:04:05.000000007Z')
  t.equal(isoTime(-1n), '1969-12-31T23:59:59.999999999Z', 'before the epoch')
})

t.test('exactIno: the 64-bit inode number from the gfid when it agrees with the double', async t => {
  const gfid = '11118443-1894-4273-9340-4b212fa1c0e4' // ino 10610563327990022372 on a FUSE mount
  t.equal(exactIno({ gfid, ino: Number(10610563327990022372n) }), 10610563327990022372n)
  t.equal(exactIno({ gfid: '00000000-0000-0000-0000-000000000001', ino: 1 }), 1n)
  t.equal(exactIno({ gfid, ino: 42 }), 42n, 'a brick that numbers otherwise: its number')
})

t.test('tail counts and truncate sizes as coreutils takes them', async t => {
  t.same(parseTailCount('10', '--lines'), { fromStart: false, n: 10 })
  t.same(parseTailCount('-3', '--lines'), { fromStart: false, n: 3 })
  t.same(parseTailCount('+2', '--lines'), { fromStart: true, n: 2 })
  t.same(parseTailCount('+1K', '--bytes'), { fromStart: true, n: 1024 })
  for (const bad of ['', '+', 'x', '+-1', '1.5']) t.throws(() => parseTailCount(bad, '--lines'), { code: 'EUSAGE' }, JSON.stringify(bad))
  const cases: Array<[string, number, number]> = [
    ['100', 5, 100], ['+1K', 100, 1124], ['-24', 100, 76], ['-200', 100, 0], ['<50', 100, 50], ['<500', 100, 100],
    ['>50', 100, 100], ['>500', 100, 500], ['/64', 100, 64], ['%64', 100, 128], ['%64', 128, 128], ['/64', 0, 0],
  ]
  for (const [text, size, want] of cases) t.equal(applySizeChange(parseSizeChange(text), size), want, `${text} of ${size}`)
  for (const bad of ['/0', '%0', '+', '*4', '1Q']) t.throws(() => parseSizeChange(bad), { code: 'EUSAGE' }, bad)
})
