// The TLS test certificates in tls-fixtures/ (made by tls-fixtures/make.sh; what each one is is
// listed there). Unit and loopback tests read them from here.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export const TLS_FIXTURES_DIR = fileURLToPath(new URL('./tls-fixtures/', import.meta.url))

export type TlsFixture = 'ca' | 'server' | 'client' | 'outsider' | 'expired' | 'future' | 'other-ca' | 'stranger' |
  'inter1' | 'inter2' | 'mid' | 'deep' | 'selfsigned'

/** Path of `<name>.pem` or `<name>.key`. */
export function tlsFixturePath (name: TlsFixture, kind: 'pem' | 'key' = 'pem'): string {
  return `${TLS_FIXTURES_DIR}${name}.${kind}`
}

/** The PEM text of `<name>.pem` or `<name>.key`. */
export function tlsFixture (name: TlsFixture, kind: 'pem' | 'key' = 'pem'): string {
  return readFileSync(tlsFixturePath(name, kind), 'utf8')
}

/** cert + key of one identity, and the test CA to trust. */
export function tlsIdentity (name: TlsFixture, ca: TlsFixture = 'ca'): { cert: string, key: string, ca: string } {
  return { cert: tlsFixture(name), key: tlsFixture(name, 'key'), ca: tlsFixture(ca) }
}
