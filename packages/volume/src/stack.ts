// The running client graph, built from the volfile's description (graph.ts) bottom-up, as
// GlusterFS links its xlators: each protocol/client leaf over its brick connection, replica sets
// or disperse sets over their bricks, distribute over its subvolumes, shard over distribute. The top is what
// Volume calls.
import type { BrickClient } from './brick.js'
import { ClientLayer } from './client-layer.js'
import { DisperseLayer } from './disperse.js'
import { DistributeLayer } from './distribute.js'
import type { ClientGraph, GraphNode } from './graph.js'
import type { Layer } from './layer.js'
import { Replicate, type ReadTiming } from './replicate.js'
import { ReplicateLayer, type WriteSettings } from './replicate-layer.js'
import { ShardLayer, type ShardSettings } from './shard.js'

export interface StackSettings {
  read: ReadTiming
  write: WriteSettings
  shard: ShardSettings
}

/** The layers of `graph` over `bricks` (by protocol/client name); resolves to the top one. */
export function buildStack (graph: ClientGraph, bricks: ReadonlyMap<string, BrickClient>, s: StackSettings): Layer {
  const brick = (name: string): BrickClient => {
    const b = bricks.get(name)
    if (b === undefined) throw new Error(`no brick connection for ${name}`)
    return b
  }
  const build = (node: GraphNode): Layer => {
    switch (node.kind) {
      case 'client': return new ClientLayer(brick(node.name), { attemptTimeoutMs: s.read.attemptTimeoutMs })
      case 'replicate': return new ReplicateLayer(new Replicate(node, node.children.map(c => brick(c.name)), s.read), s.write)
      case 'disperse': return new DisperseLayer(node, node.children.map(c => new ClientLayer(brick(c.name), { attemptTimeoutMs: s.read.attemptTimeoutMs })), s.read, s.write.timing.stragglerMs)
      case 'distribute': return new DistributeLayer(node, node.children.map(build))
      case 'shard': return new ShardLayer(node, build(node.child), s.shard)
    }
  }
  return build(graph.root)
}

/** Every layer of the graph, top first. */
export function layersOf (top: Layer): Layer[] {
  const out: Layer[] = []
  const walk = (l: Layer): void => { out.push(l); for (const c of l.children) walk(c) }
  walk(top)
  return out
}

/**
 * Close every layer that has background work, top first (shard finishes its deletions through
 * the layers below, then disperse ends its lock cycles with their post-ops).
 */
export async function closeLayers (top: Layer, o: { timeoutMs?: number } = {}): Promise<void> {
  for (const l of layersOf(top)) await l.close?.(o).catch(() => {})
}
