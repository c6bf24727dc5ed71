// Code blocks of a markdown file, for the tests that run the examples of docs/ and the READMEs.
// A block may be preceded by a marker line `<!-- docs-examples: WHY -->` saying why a test does
// not run it as written (a container engine, root and a real cluster…).

export interface Block {
  /** the fence's language ('sh', 'ts', 'json'…; '' when none) */
  lang: string
  code: string
  /** 1-based line of the first line of code */
  line: number
  /** character offset of the opening fence */
  offset: number
  /** the docs-examples marker before the fence, if any */
  marker?: string
}

export function extractBlocks (md: string): Block[] {
  const out: Block[] = []
  const re = /^```([\w-]*)\n([\s\S]*?)^```$/gm
  for (let m = re.exec(md); m !== null; m = re.exec(md)) {
    const before = md.slice(0, m.index)
    const marker = /<!--\s*docs-examples:\s*(.*?)\s*-->\s*$/.exec(before)?.[1]
    out.push({ lang: m[1]!, code: m[2]!.replace(/\n$/, ''), line: before.split('\n').length + 1, offset: m.index, ...(marker !== undefined ? { marker } : {}) })
  }
  return out
}

/** Example server names ('gl1', 'h2:24008', '10.88.0.11') in a TS/JS example, pointed at `server`. */
export function serversOf (code: string, server: string): string {
  return code
    .replace(/servers:\s*\[[^\]]*\]/g, `servers: [${JSON.stringify(server)}]`)
    .replace(/'(gl\d|h\d|10(\.\d+){3})(:\d+)?'/g, JSON.stringify(server))
    .replace(/server=[^,'"\s]+/g, `server=${server}`)
}
