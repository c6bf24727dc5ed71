// Can a mount serve reads now? From the volume's client graph and the state of each brick, with
// the rule the volume's reads follow: each replica set needs a quorum of its bricks up (at least
// one, and not only the arbiter), a dispersed set its data-brick count, and a distributed volume
// needs every one of its sets.
import type { Volume } from '@gluster-ts/volume'
import type { GraphNode } from '@gluster-ts/volume/internals'

/** 'ok': every brick up; 'degraded': reads work, some brick is not up; 'down': a read would fail. */
export type HealthStatus = 'ok' | 'degraded' | 'down'

/** Does this part of the graph answer reads, given which bricks (protocol/client names) are up? */
export function readable (node: GraphNode, up: (client: string) => boolean): boolean {
  switch (node.kind) {
    case 'client': return up(node.name)
    case 'replicate': {
      const upCount = node.children.filter(c => up(c.name)).length
      // the arbiter (last child of an arbiter set) holds no data: it cannot serve a read alone
      const data = node.arbiterCount > 0 ? node.children.slice(0, -1) : node.children
      return upCount >= Math.max(1, node.quorumCount) && data.some(c => up(c.name))
    }
    // a dispersed set decodes from any dataBricks of its fragments
    case 'disperse': return node.children.filter(c => up(c.name)).length >= node.dataBricks
    case 'distribute': return node.children.every(c => readable(c, up))
    case 'shard': return readable(node.child, up)
  }
}

/** A connected volume's status from its bricks. */
export function volumeStatus (vol: Volume): HealthStatus {
  const up = (name: string): boolean => vol.bricks.get(name)?.state === 'up'
  if (!readable(vol.graph.root, up)) return 'down'
  return [...vol.bricks.keys()].every(up) ? 'ok' : 'degraded'
}

/** The worst of several statuses (no status at all: 'ok'). */
export function worst (list: readonly HealthStatus[]): HealthStatus {
  return list.includes('down') ? 'down' : list.includes('degraded') ? 'degraded' : 'ok'
}
