// Extended attribute names and values as the attr package's getfattr prints them and setfattr
// reads them (getfattr(1), setfattr(1)): values as "text" (with \ooo for NUL, CR and LF and a
// backslash before \ and "), 0x hex or 0s base64; names and paths with \ooo for the characters
// that would break the `name=value` and `# file:` lines. Everything works on bytes: a value is
// printed as the bytes it holds, as getfattr does.

export type XattrEncoding = 'text' | 'hex' | 'base64'

/** C's isprint() in the C locale. */
const printable = (b: number): boolean => b >= 0x20 && b < 0x7f

/** `\ooo` for backslash and each byte in `chars` (attr's quote()). */
export function xquote (s: string, chars: string): string {
  const special = new Set(Buffer.from(chars, 'latin1'))
  const out: number[] = []
  for (const b of Buffer.from(s, 'utf8')) {
    if (b === 0x5c || special.has(b)) out.push(...Buffer.from(`\\${b.toString(8).padStart(3, '0')}`, 'latin1'))
    else out.push(b)
  }
  return Buffer.from(out).toString('utf8')
}

/**
 * getfattr without -e picks text when at most one byte in eight is not printable (a single
 * trailing NUL not counted), else base64.
 */
export function defaultEncoding (v: Buffer): XattrEncoding {
  const n = v.length > 0 && v[v.length - 1] === 0 ? v.length - 1 : v.length
  let nonPrintable = 0
  for (let i = 0; i < n; i++) if (!printable(v[i]!)) nonPrintable++
  return n >= nonPrintable * 8 ? 'text' : 'base64'
}

/** The value as getfattr prints it after `name=`; bytes, since text values are printed raw. */
export function encodeValue (v: Buffer, enc: XattrEncoding = defaultEncoding(v)): Buffer {
  if (enc === 'hex') return Buffer.from(`0x${v.toString('hex')}`, 'latin1')
  if (enc === 'base64') return Buffer.from(`0s${v.toString('base64')}`, 'latin1')
  const out: number[] = [0x22]
  for (let i = 0; i < v.length; i++) {
    const b = v[i]!
    if (b === 0 && i === v.length - 1) break // a C string's terminator is not shown
    if (b === 0 || b === 0x0a || b === 0x0d) out.push(...Buffer.from(`\\${b.toString(8).padStart(3, '0')}`, 'latin1'))
    else if (b === 0x5c || b === 0x22) out.push(0x5c, b)
    else out.push(b)
  }
  out.push(0x22)
  return Buffer.from(out)
}

export class BadEncoding extends Error {
  override name = 'BadEncoding'
}

const isSpace = (c: string): boolean => /^[ \t\n\v\f\r]$/.test(c)

/** setfattr -v VALUE: 0x… hex, 0s… base64, else text (optionally "quoted", with \ooo, \\ and \" escapes). */
export function decodeValue (text: string): Buffer {
  if (text === '') return Buffer.alloc(0)
  const pre = text.slice(0, 2)
  if (pre === '0x' || pre === '0X') {
    const digits = [...text.slice(2)].filter(c => !isSpace(c)).join('')
    if (digits.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(digits)) throw new BadEncoding('bad input encoding')
    return Buffer.from(digits, 'hex')
  }
  if (pre === '0s' || pre === '0S') {
    // white space may come between groups of four digits, not inside one (as setfattr reads them)
    if (!/^(\s*[A-Za-z0-9+/=]{4})*\s*$/.test(text.slice(2))) throw new BadEncoding('bad input encoding')
    const b64 = [...text.slice(2)].filter(c => !isSpace(c)).join('')
    if (!/^[A-Za-z0-9+/]*(={0,2})$/.test(b64)) throw new BadEncoding('bad input encoding')
    const out = Buffer.from(b64, 'base64')
    // bits left over in the last digit before the padding: not a canonical encoding
    if (out.toString('base64') !== b64) throw new BadEncoding('bad input encoding')
    return out
  }
  let b = Buffer.from(text, 'utf8')
  if (b.length > 1 && b[0] === 0x22 && b[b.length - 1] === 0x22) b = b.subarray(1, -1)
  const out: number[] = []
  for (let i = 0; i < b.length;) {
    if (b[i] !== 0x5c) { out.push(b[i++]!); continue }
    const next = b[i + 1]
    if (next === 0x5c || next === 0x22) {
      out.push(next)
      i += 2
    } else if (next !== undefined && next >= 0x30 && next <= 0x37) {
      // one to three octal digits
      let c = 0
      let j = i + 1
      for (; j < b.length && j < i + 4 && b[j]! >= 0x30 && b[j]! <= 0x37; j++) c = c * 8 + (b[j]! - 0x30)
      out.push(c & 0xff)
      i = j
    } else {
      out.push(b[i++]!)
    }
  }
  return Buffer.from(out)
}
