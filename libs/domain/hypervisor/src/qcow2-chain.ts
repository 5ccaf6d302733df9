import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from '@minicloud/domain-errors';

/** QCOW2's default cluster size (64 KiB). */
export const QCOW2_DEFAULT_CLUSTER_BYTES = 65_536;

/**
 * One image file of a chain. The base image is read-only and holds `baseClusters` clusters whose
 * content is implicit (`<imageId>:<cluster>`), so a cached base costs no memory; overlays hold a sparse
 * block map cluster -> content tag. Frozen layers (snapshots, clone parents) are never written again
 * and may be shared by several chains (linked clones).
 */
export interface DiskLayer {
  readonly id: string;
  readonly kind: 'base' | 'overlay';
  readonly imageId?: string;
  readonly baseClusters: number;
  readonly blocks: Map<number, string>;
  frozen: boolean;
}

/** Sizes of one layer: `allocatedBytes` = clusters stored in that file x cluster size (<= virtual). */
export interface DiskLayerInfo {
  readonly id: string;
  readonly kind: 'base' | 'overlay';
  readonly frozen: boolean;
  readonly allocatedBytes: number;
}

/**
 * A QCOW2 backing chain (`base <- snap1 <- ... <- active overlay`), as libvirt builds it for a Nova
 * instance: a cached base image, a thin overlay per VM (`qemu-img create -f qcow2 -b base`), external
 * snapshots that freeze the active overlay and put a new one on top, linked clones that share the frozen
 * layers, and snapshot deletion that merges a layer into its child (block-stream/`qemu-img rebase`
 * semantics: clusters the child lacks are copied up, so the content seen through the chain is unchanged).
 * Content is modelled as a block map (cluster index -> content tag); reads walk the chain top-down.
 */
export class Qcow2Chain {
  private layersValue: DiskLayer[];
  private nextLayer = 0;

  /**
   * @param id chain id (layer ids are `<id>/<n>`)
   * @param virtualSizeBytes the guest-visible disk size (flavor root disk)
   * @param base the cached base image, or undefined for a blank disk
   * @throws InvalidArgumentError (`virtual_size_bytes`, `cluster_bytes`, `base.size_bytes`) for sizes that
   *   are not positive, or a base larger than the virtual size.
   */
  constructor(
    readonly id: string,
    readonly virtualSizeBytes: number,
    base?: { imageId: string; sizeBytes: number },
    readonly clusterBytes = QCOW2_DEFAULT_CLUSTER_BYTES,
    layers?: DiskLayer[],
  ) {
    if (!(virtualSizeBytes > 0)) throw new InvalidArgumentError('virtual_size_bytes', `must be > 0, got ${virtualSizeBytes}`);
    if (!(clusterBytes > 0) || !Number.isInteger(clusterBytes)) throw new InvalidArgumentError('cluster_bytes', `must be a positive integer, got ${clusterBytes}`);
    if (base && !(base.sizeBytes >= 0 && base.sizeBytes <= virtualSizeBytes)) {
      throw new InvalidArgumentError('base.size_bytes', `must be in [0, virtual size ${virtualSizeBytes}], got ${base.sizeBytes}`);
    }
    this.layersValue = layers ?? [
      { id: `${id}/base`, kind: 'base', imageId: base?.imageId, baseClusters: base ? Math.ceil(base.sizeBytes / clusterBytes) : 0, blocks: new Map(), frozen: true },
    ];
    if (!layers) this.pushOverlay();
  }

  /** Number of clusters of the virtual disk. */
  get clusters(): number {
    return Math.ceil(this.virtualSizeBytes / this.clusterBytes);
  }

  /** The layers, base first, active overlay last. */
  layers(): DiskLayerInfo[] {
    return this.layersValue.map((l) => ({ id: l.id, kind: l.kind, frozen: l.frozen, allocatedBytes: this.allocatedOf(l) }));
  }

  /** Number of layers (base included). */
  get layerCount(): number {
    return this.layersValue.length;
  }

  /** Bytes stored in the active overlay (what `qemu-img info` reports as disk size of the VM's disk). */
  get allocatedBytes(): number {
    return this.allocatedOf(this.top());
  }

  /** Bytes stored in every overlay of the chain (snapshots included; the shared base excluded). */
  get chainAllocatedBytes(): number {
    return this.layersValue.filter((l) => l.kind === 'overlay').reduce((s, l) => s + this.allocatedOf(l), 0);
  }

  /**
   * Writes `content` to a cluster of the active overlay (allocating it on first write: copy-on-write).
   * @throws InvalidArgumentError (`cluster`) outside 0..clusters-1.
   */
  write(cluster: number, content: string): void {
    if (!Number.isInteger(cluster) || cluster < 0 || cluster >= this.clusters) {
      throw new InvalidArgumentError('cluster', `must be an integer in 0..${this.clusters - 1}, got ${cluster}`);
    }
    this.top().blocks.set(cluster, content);
  }

  /** Content of a cluster as the guest reads it (undefined = never written: reads zeroes). */
  read(cluster: number): string | undefined {
    for (let i = this.layersValue.length - 1; i >= 0; i--) {
      const l = this.layersValue[i];
      if (l.kind === 'base') return cluster < l.baseClusters && l.imageId ? `${l.imageId}:${cluster}` : undefined;
      const c = l.blocks.get(cluster);
      if (c !== undefined) return c;
    }
    return undefined;
  }

  /** Every cluster with content, as the guest sees it (for checks; O(clusters written + base)). */
  contentMap(): Map<number, string> {
    const out = new Map<number, string>();
    const seen = new Set<number>();
    for (const l of this.layersValue) {
      if (l.kind === 'base') for (let c = 0; c < l.baseClusters; c++) seen.add(c);
      else for (const c of l.blocks.keys()) seen.add(c);
    }
    for (const c of seen) {
      const v = this.read(c);
      if (v !== undefined) out.set(c, v);
    }
    return out;
  }

  /** External snapshot: freezes the active overlay and puts a new empty one on top. @returns the frozen layer's id */
  snapshot(): string {
    const t = this.top();
    t.frozen = true;
    this.pushOverlay();
    return t.id;
  }

  /**
   * Linked clone: snapshots this chain (its active layer becomes a shared, frozen parent) and returns a
   * new chain on the same frozen layers with its own empty overlay.
   */
  linkedClone(cloneId: string): Qcow2Chain {
    this.snapshot();
    const shared = this.layersValue.slice(0, -1);
    return new Qcow2Chain(cloneId, this.virtualSizeBytes, undefined, this.clusterBytes, [...shared, newOverlay(`${cloneId}/0`)]).bumpCounter();
  }

  /**
   * Deletes a snapshot layer by merging it into its child: clusters the child lacks are copied up; the
   * layer leaves this chain (other chains sharing it keep it). Content seen through the chain is unchanged.
   * @throws NotFoundError ("snapshot") for an id not in the chain; FailedPreconditionError
   *   ("not_a_snapshot") for the base or the active overlay.
   */
  deleteSnapshot(layerId: string): void {
    const i = this.layersValue.findIndex((l) => l.id === layerId);
    if (i < 0) throw new NotFoundError('snapshot', layerId);
    const layer = this.layersValue[i];
    if (layer.kind === 'base' || i === this.layersValue.length - 1) {
      throw new FailedPreconditionError(`layer ${layerId} is the ${layer.kind === 'base' ? 'base image' : 'active overlay'}, not a snapshot`, 'not_a_snapshot');
    }
    const child = this.layersValue[i + 1];
    // A frozen child shared with a clone must not change under the clone: write a private copy instead.
    const target = child.frozen ? { ...child, id: child.id, blocks: new Map(child.blocks) } : child;
    for (const [c, v] of layer.blocks) if (!target.blocks.has(c)) target.blocks.set(c, v);
    this.layersValue.splice(i, 2, target);
  }

  private allocatedOf(l: DiskLayer): number {
    const clusters = l.kind === 'base' ? l.baseClusters : l.blocks.size;
    return Math.min(this.virtualSizeBytes, clusters * this.clusterBytes);
  }

  private top(): DiskLayer {
    return this.layersValue[this.layersValue.length - 1];
  }

  private pushOverlay(): void {
    this.layersValue.push(newOverlay(`${this.id}/${this.nextLayer++}`));
  }

  private bumpCounter(): this {
    this.nextLayer = 1;
    return this;
  }
}

function newOverlay(id: string): DiskLayer {
  return { id, kind: 'overlay', baseClusters: 0, blocks: new Map(), frozen: false };
}
