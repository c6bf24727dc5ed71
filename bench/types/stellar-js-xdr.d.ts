// @stellar/js-xdr 4.0.0 ships no type declarations. This is the part of its API the benches use:
// xdr.config() with the TypeBuilder, the generated type classes (static toXDR/fromXDR/read/write),
// and XdrReader for decoding a prefix (a READ reply header) without requiring full consumption.
declare module '@stellar/js-xdr' {
  /** What xdr.config() produces for a struct, union, enum or primitive: a class with static codec methods. */
  export interface XdrTypeClass {
    new (...args: any[]): any
    toXDR (value: unknown): Buffer
    fromXDR (input: Buffer): any
    read (reader: XdrReader): any
    write (value: unknown, writer: XdrWriter): void
    [member: string]: any
  }

  export class XdrReader {
    constructor (source: Buffer)
    remainingBytes (): number
    get eof (): boolean
  }

  export class XdrWriter {
    constructor (buffer?: Buffer | number)
    finalize (): Buffer
  }

  /** A type reference inside config(): a primitive, a sized type or lookup('name'). */
  export type TypeRef = unknown

  export interface TypeBuilder {
    enum (name: string, members: Record<string, number>): void
    struct (name: string, fields: Array<[string, TypeRef]>): void
    union (name: string, cfg: {
      switchOn: TypeRef
      switches: Array<[string | number, string | TypeRef]>
      arms?: Record<string, TypeRef>
      defaultArm?: TypeRef
    }): void
    typedef (name: string, type: TypeRef): void
    const (name: string, value: number): void
    void (): TypeRef
    bool (): TypeRef
    int (): TypeRef
    uint (): TypeRef
    hyper (): TypeRef
    uhyper (): TypeRef
    float (): TypeRef
    double (): TypeRef
    string (maxLength?: number): TypeRef
    opaque (length: number): TypeRef
    varOpaque (maxLength?: number): TypeRef
    array (child: TypeRef, length: number): TypeRef
    varArray (child: TypeRef, maxLength?: number): TypeRef
    option (child: TypeRef): TypeRef
    lookup (name: string): TypeRef
  }

  export function config (fn: (builder: TypeBuilder) => void, types?: Record<string, XdrTypeClass>): Record<string, XdrTypeClass>

  const xdr: {
    config: typeof config
    XdrReader: typeof XdrReader
    XdrWriter: typeof XdrWriter
  }
  export default xdr
}
