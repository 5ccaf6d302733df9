import { AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, NotFoundError, PermissionDeniedError, ResourceExhaustedError } from '@minicloud/domain-errors';
import { MIN_IPV4_MTU_BYTES, assertValidVni, pickVni, tenantMtu, vniRangeSize, type VniRange } from '@minicloud/domain-network';
import { Subjects } from '@minicloud/platform-bus';
import type { NetworkQuotas } from './quotas';
import type { NetworkRecord } from './records';
import { retryCas, type Caller, type StoreDeps } from './store/deps';
import { readJson, readJsonMany, type Stored } from './store/json';
import { keys } from './store/keys';

export interface CreateNetworkInput {
  name: string;
  /** '' = vxlan, or flat when routerExternal. */
  networkType: string;
  /** 0 = allocate. Admin only otherwise. */
  segmentationId: number;
  /** 0 = the largest the type allows. */
  mtu: number;
  shared: boolean;
  routerExternal: boolean;
  /** Admin only: owner project; '' = caller's. */
  projectId: string;
  description?: string;
}

/** Upper bound of claim attempts for one VNI allocation (each conflict walks on to another VNI). */
const MAX_VNI_ATTEMPTS = 4096;

/**
 * Networks (Neutron ML2 with the vxlan and flat type drivers). Visibility: admin sees all; others see
 * their project's networks and shared ones; anything else is NOT_FOUND.
 */
export class Networks {
  constructor(
    private readonly d: StoreDeps,
    private readonly cfg: { vniRanges: readonly VniRange[]; underlayMtu: number },
    private readonly quotas?: NetworkQuotas,
  ) {}

  /**
   * Creates a network. vxlan: VNI claimed with SET NX on `vni:<vni>` (retrying another candidate on
   * conflict), MTU = underlay - 50. flat: no VNI, MTU = underlay. Provider attributes (network_type
   * flat, segmentation_id, router_external, project_id) and `shared` need admin (Neutron's
   * create_network:shared / router:external / provider:* defaults: sharing a network exposes it
   * to every project).
   * @throws PermissionDeniedError for provider attributes without admin; InvalidArgumentError
   *   ('network_type' | 'segmentation_id' | 'mtu'); AlreadyExistsError('segmentation_id') when the
   *   requested VNI is in use; ResourceExhaustedError('no_free_segmentation_id')
   */
  async create(input: CreateNetworkInput, caller: Caller): Promise<NetworkRecord> {
    const networkType = input.networkType === '' ? (input.routerExternal ? 'flat' : 'vxlan') : input.networkType;
    if (networkType !== 'vxlan' && networkType !== 'flat') {
      throw new InvalidArgumentError('network_type', `"${input.networkType}" is not supported (vxlan, flat)`);
    }
    if (!caller.isAdmin) {
      const provider =
        networkType === 'flat' ? 'network_type'
        : input.segmentationId ? 'segmentation_id'
        : input.routerExternal ? 'router_external'
        : input.shared ? 'shared'
        : input.projectId && input.projectId !== caller.projectId ? 'project_id'
        : '';
      if (provider) throw new PermissionDeniedError(`setting ${provider} requires role admin`);
    }
    if (networkType === 'flat' && input.segmentationId) {
      throw new InvalidArgumentError('segmentation_id', 'a flat network has no segmentation id');
    }
    if (input.segmentationId) assertValidVni(input.segmentationId);
    const maxMtu = networkType === 'vxlan' ? tenantMtu(this.cfg.underlayMtu) : this.cfg.underlayMtu;
    if (input.mtu && (input.mtu < MIN_IPV4_MTU_BYTES || input.mtu > maxMtu)) {
      throw new InvalidArgumentError('mtu', `${input.mtu} must be within ${MIN_IPV4_MTU_BYTES}..${maxMtu} for a ${networkType} network`);
    }
    await this.quotas?.assertRoom(input.projectId || caller.projectId, 'networks');
    const id = this.d.newId();
    let segmentationId = 0;
    if (networkType === 'vxlan') {
      segmentationId = input.segmentationId ? await this.claimRequestedVni(input.segmentationId, id) : await this.allocateVni(id);
    }
    const record: NetworkRecord = {
      id,
      name: input.name,
      projectId: input.projectId || caller.projectId,
      networkType,
      segmentationId,
      mtu: input.mtu || maxMtu,
      shared: input.shared,
      routerExternal: input.routerExternal,
      adminStateUp: true,
      status: 'ACTIVE',
      createdAtMs: this.d.nowMs(),
      description: input.description ?? '',
    };
    const res = await this.d.transact({
      key: keys.network(id),
      expected: '',
      next: JSON.stringify(record),
      ops: [{ kind: 'sadd', key: keys.networks(), a1: id }],
    });
    if (!res.ok) {
      if (segmentationId) await this.d.redis.del(keys.vni(segmentationId));
      throw new FailedPreconditionError(`network ${id} could not be stored`);
    }
    await this.d.events.networkChanged(Subjects.networkCreated, { networkId: id, projectId: record.projectId, segmentationId }, caller.requestId);
    return record;
  }

  private async claimRequestedVni(vni: number, networkId: string): Promise<number> {
    const r = await this.d.claim({ key: keys.vni(vni), owner: networkId });
    if (r !== 'claimed') throw new AlreadyExistsError('segmentation_id', String(vni));
    return vni;
  }

  /** Picks a VNI at random in the configured ranges and claims it; a lost race marks it taken and walks on. */
  private async allocateVni(networkId: string): Promise<number> {
    const taken = new Set<number>();
    for (const range of this.cfg.vniRanges) {
      const attempts = Math.min(vniRangeSize(range), MAX_VNI_ATTEMPTS);
      for (let i = 0; i < attempts; i++) {
        let vni: number;
        try {
          vni = pickVni(range, (v) => taken.has(v), this.d.rng);
        } catch (e) {
          if (e instanceof ResourceExhaustedError) break;
          throw e;
        }
        if ((await this.d.claim({ key: keys.vni(vni), owner: networkId })) === 'claimed') return vni;
        taken.add(vni);
      }
    }
    throw new ResourceExhaustedError(
      `no free VNI in ${this.cfg.vniRanges.map((r) => `${r.min}:${r.max}`).join(',')}`,
      'no_free_segmentation_id',
    );
  }

  /** The stored record regardless of caller (internal use). */
  async load(id: string): Promise<Stored<NetworkRecord> | undefined> {
    if (!id) return undefined;
    return readJson<NetworkRecord>(this.d.redis, keys.network(id));
  }

  /**
   * A network the caller may see (own project, shared, or admin).
   * @throws InvalidArgumentError('network_id') when empty; NotFoundError('network') otherwise
   */
  async get(id: string, caller: Caller): Promise<Stored<NetworkRecord>> {
    if (!id) throw new InvalidArgumentError('network_id', 'is required');
    const stored = await this.load(id);
    if (!stored || !canSeeNetwork(stored.value, caller)) throw new NotFoundError('network', id);
    return stored;
  }

  /** A network the caller owns (or admin): a visible shared network of another project is PERMISSION_DENIED. */
  async getOwned(id: string, caller: Caller): Promise<Stored<NetworkRecord>> {
    const stored = await this.get(id, caller);
    if (!caller.isAdmin && stored.value.projectId !== caller.projectId) {
      throw new PermissionDeniedError(`network ${id} belongs to another project`);
    }
    return stored;
  }

  /** Networks the caller may see, oldest first, optionally by exact name. */
  async list(caller: Caller, name = ''): Promise<NetworkRecord[]> {
    const ids = await this.d.redis.smembers(keys.networks());
    const all = await readJsonMany<NetworkRecord>(this.d.redis, ids.map(keys.network));
    return all
      .filter((n) => canSeeNetwork(n, caller) && (!name || n.name === name))
      .sort((a, b) => a.createdAtMs - b.createdAtMs || (a.id < b.id ? -1 : 1));
  }

  /** Subnet ids of a network (unordered). */
  subnetIds(id: string): Promise<string[]> {
    return this.d.redis.smembers(keys.networkSubnets(id));
  }

  /**
   * Updates name / admin_state_up (owner or admin) and shared (admin only, Neutron's
   * update_network:shared).
   * @throws NotFoundError('network'), PermissionDeniedError
   */
  async update(id: string, patch: { name?: string; description?: string; shared?: boolean; adminStateUp?: boolean }, caller: Caller): Promise<NetworkRecord> {
    if (patch.shared !== undefined && !caller.isAdmin) throw new PermissionDeniedError('setting shared requires role admin');
    return retryCas(`network ${id}`, async () => {
      const stored = await this.getOwned(id, caller);
      const next: NetworkRecord = {
        ...stored.value,
        ...(patch.name !== undefined ? { name: patch.name } : {}),
        ...(patch.description !== undefined ? { description: patch.description } : {}),
        ...(patch.shared !== undefined ? { shared: patch.shared } : {}),
        ...(patch.adminStateUp !== undefined ? { adminStateUp: patch.adminStateUp, status: patch.adminStateUp ? 'ACTIVE' : 'DOWN' } : {}),
      };
      const res = await this.d.transact({ key: keys.network(id), expected: stored.raw, next: JSON.stringify(next) });
      return res.ok ? next : undefined;
    });
  }

  /**
   * Removes the network record and frees its VNI, only while it has no subnets and no ports left
   * (the caller deletes those first).
   * @throws FailedPreconditionError('network_in_use') when a port or subnet appeared meanwhile
   */
  async removeRecord(stored: Stored<NetworkRecord>): Promise<void> {
    const n = stored.value;
    const res = await this.d.transact({
      key: keys.network(n.id),
      expected: stored.raw,
      next: '',
      guards: [
        { kind: 'empty', key: keys.networkPorts(n.id) },
        { kind: 'empty', key: keys.networkSubnets(n.id) },
      ],
      ops: [
        { kind: 'srem', key: keys.networks(), a1: n.id },
        ...(n.segmentationId ? [{ kind: 'delifeq' as const, key: keys.vni(n.segmentationId), a1: n.id }] : []),
      ],
    });
    if (!res.ok) {
      throw new FailedPreconditionError(`network ${n.id} is in use or changed while being deleted; retry`, 'network_in_use');
    }
  }
}

/** Admin, the owner project, a shared network, or an external one (Neutron shows router:external networks to all). */
export function canSeeNetwork(n: NetworkRecord, caller: Caller): boolean {
  return caller.isAdmin || n.projectId === caller.projectId || n.shared || n.routerExternal;
}

/**
 * Whether the caller may see the subnets of network `n`: Neutron's get_subnet policy (admin, the
 * owner, or a shared network). An external network that is not shared is visible to everyone, as a
 * floating IP pool and a router gateway, but its subnets (its address plan) are not.
 */
export function canSeeSubnetsOf(n: NetworkRecord, caller: Caller): boolean {
  return caller.isAdmin || n.projectId === caller.projectId || n.shared;
}
