import { FailedPreconditionError, InvalidArgumentError, NotFoundError, PermissionDeniedError, ResourceExhaustedError } from '@minicloud/domain-errors';
import { allocateSubnetCidr, cidrWithin, cidrsOverlap, parseCidr } from '@minicloud/domain-network';
import type { SubnetPoolRecord } from './records';
import { retryCas, type Caller, type StoreDeps } from './store/deps';
import { readJson, readJsonMany, type Stored } from './store/json';
import { keys } from './store/keys';

/** At most this many prefixes in one pool (the input limits' list size). */
const MAX_PREFIXES = 128;

/** A new subnet pool; unset prefix lengths take Neutron's defaults (min 8, max 32, default = min). */
export interface CreateSubnetPoolInput {
  name: string;
  prefixes: string[];
  defaultPrefixlen?: number;
  minPrefixlen?: number;
  maxPrefixlen?: number;
  shared: boolean;
  isDefault: boolean;
  projectId: string;
}

/** Changes to a pool; unset fields are kept; non-empty prefixes replace the old ones and must cover them. */
export interface UpdateSubnetPoolInput {
  name?: string;
  prefixes: string[];
  defaultPrefixlen?: number;
  minPrefixlen?: number;
  maxPrefixlen?: number;
  isDefault?: boolean;
}

function checkPrefixes(prefixes: string[]): string[] {
  if (!prefixes.length) throw new InvalidArgumentError('prefixes', 'at least one prefix is required');
  if (prefixes.length > MAX_PREFIXES) throw new InvalidArgumentError('prefixes', `has ${prefixes.length} items, more than ${MAX_PREFIXES}`);
  const parsed = prefixes.map((p, i) => parseCidr(p, `prefixes[${i}]`));
  parsed.forEach((a, i) =>
    parsed.slice(i + 1).forEach((b) => {
      if (cidrsOverlap(a, b)) throw new InvalidArgumentError('prefixes', `${a.text} overlaps ${b.text}`);
    }),
  );
  return parsed.map((p) => p.text);
}

function checkLengths(p: Pick<SubnetPoolRecord, 'minPrefixlen' | 'maxPrefixlen' | 'defaultPrefixlen'>): void {
  if (p.minPrefixlen < 1 || p.minPrefixlen > 32) throw new InvalidArgumentError('min_prefixlen', `${p.minPrefixlen} is outside 1..32`);
  if (p.maxPrefixlen < p.minPrefixlen || p.maxPrefixlen > 32) throw new InvalidArgumentError('max_prefixlen', `${p.maxPrefixlen} is outside ${p.minPrefixlen}..32`);
  if (p.defaultPrefixlen < p.minPrefixlen || p.defaultPrefixlen > p.maxPrefixlen) {
    throw new InvalidArgumentError('default_prefixlen', `${p.defaultPrefixlen} is outside min_prefixlen..max_prefixlen (${p.minPrefixlen}..${p.maxPrefixlen})`);
  }
}

/**
 * Subnet pools (Neutron subnet_allocation, IPv4): prefixes that subnets get CIDRs from. A pool is
 * visible to its project, to every project when shared, and to admins; shared and is_default are
 * admin-only (Neutron's policy), one default pool at most. Allocations are kept in the pool record
 * and claimed by compare-and-set, so two concurrent subnets never get overlapping CIDRs.
 */
export class SubnetPools {
  constructor(private readonly d: StoreDeps) {}

  /** @throws InvalidArgumentError('name' | 'prefixes' | '*_prefixlen' | 'is_default'); PermissionDeniedError */
  async create(input: CreateSubnetPoolInput, caller: Caller): Promise<SubnetPoolRecord> {
    if ((input.shared || input.isDefault) && !caller.isAdmin) throw new PermissionDeniedError(`setting ${input.shared ? 'shared' : 'is_default'} requires role admin`);
    if (input.projectId && input.projectId !== caller.projectId && !caller.isAdmin) throw new PermissionDeniedError('setting project_id requires role admin');
    const prefixes = checkPrefixes(input.prefixes);
    const minPrefixlen = input.minPrefixlen ?? 8;
    const rec: SubnetPoolRecord = {
      id: this.d.newId(),
      name: input.name,
      projectId: input.projectId || caller.projectId,
      prefixes,
      minPrefixlen,
      maxPrefixlen: input.maxPrefixlen ?? 32,
      defaultPrefixlen: input.defaultPrefixlen ?? minPrefixlen,
      shared: input.shared,
      isDefault: input.isDefault,
      allocations: {},
      createdAtMs: this.d.nowMs(),
    };
    checkLengths(rec);
    if (rec.isDefault) await this.assertNoOtherDefault(rec.id);
    await this.d.transact({ key: keys.subnetPool(rec.id), expected: '', next: JSON.stringify(rec), ops: [{ kind: 'sadd', key: keys.subnetPools(), a1: rec.id }] });
    return rec;
  }

  /** @throws InvalidArgumentError('subnet_pool_id'); NotFoundError('subnet_pool') (an invisible one too) */
  async get(id: string, caller: Caller): Promise<Stored<SubnetPoolRecord>> {
    if (!id) throw new InvalidArgumentError('subnet_pool_id', 'is required');
    const s = await readJson<SubnetPoolRecord>(this.d.redis, keys.subnetPool(id));
    if (!s || !visible(s.value, caller)) throw new NotFoundError('subnet_pool', id);
    return s;
  }

  /** Pools the caller may see, oldest first. */
  async list(caller: Caller): Promise<SubnetPoolRecord[]> {
    const all = await readJsonMany<SubnetPoolRecord>(this.d.redis, (await this.d.redis.smembers(keys.subnetPools())).map(keys.subnetPool));
    return all.filter((p) => visible(p, caller)).sort((a, b) => a.createdAtMs - b.createdAtMs || (a.id < b.id ? -1 : 1));
  }

  /**
   * Renames, grows the prefixes, changes prefix lengths or is_default (admin) of the caller's pool.
   * @throws NotFoundError('subnet_pool'); PermissionDeniedError (a shared pool of another project, is_default);
   *   InvalidArgumentError('prefixes') when the new prefixes do not cover the old
   */
  async update(id: string, patch: UpdateSubnetPoolInput, caller: Caller): Promise<SubnetPoolRecord> {
    if (patch.isDefault !== undefined && !caller.isAdmin) throw new PermissionDeniedError('setting is_default requires role admin');
    const prefixes = patch.prefixes.length ? checkPrefixes(patch.prefixes) : undefined;
    if (patch.isDefault) await this.assertNoOtherDefault(id);
    return this.change(id, caller, (cur) => {
      if (prefixes) {
        const parsed = prefixes.map((p) => parseCidr(p));
        const lost = cur.prefixes.find((old) => !cidrWithin(parseCidr(old), parsed));
        if (lost) throw new InvalidArgumentError('prefixes', `a subnet pool only grows: ${lost} is not covered by the new prefixes`);
      }
      const next: SubnetPoolRecord = {
        ...cur,
        name: patch.name ?? cur.name,
        prefixes: prefixes ?? cur.prefixes,
        defaultPrefixlen: patch.defaultPrefixlen ?? cur.defaultPrefixlen,
        minPrefixlen: patch.minPrefixlen ?? cur.minPrefixlen,
        maxPrefixlen: patch.maxPrefixlen ?? cur.maxPrefixlen,
        isDefault: patch.isDefault ?? cur.isDefault,
      };
      checkLengths(next);
      return next;
    });
  }

  /** Deletes a pool no subnet was allocated from. @throws NotFoundError; FailedPreconditionError('subnet_pool_in_use') */
  async delete(id: string, caller: Caller): Promise<void> {
    await retryCas(`subnet pool ${id}`, async () => {
      const s = await this.owned(id, caller);
      const used = Object.keys(s.value.allocations).length;
      if (used) throw new FailedPreconditionError(`subnet pool ${id} has ${used} subnet(s) allocated from it`, 'subnet_pool_in_use');
      const res = await this.d.transact({ key: keys.subnetPool(id), expected: s.raw, next: '', ops: [{ kind: 'srem', key: keys.subnetPools(), a1: id }] });
      return res.ok || undefined;
    });
  }

  /**
   * Claims a CIDR for subnet `subnetId`: `cidr` when given (inside the pool, free), else the lowest
   * free one of `prefixlen` (0: the pool's default).
   * @throws NotFoundError('subnet_pool'); InvalidArgumentError('prefixlen' | 'cidr');
   *   ResourceExhaustedError('subnet_pool_exhausted') when no CIDR of that size is free
   */
  async allocate(poolId: string, subnetId: string, cidr: string, prefixlen: number, caller: Caller): Promise<string> {
    if (!poolId) throw new InvalidArgumentError('subnetpool_id', 'is required');
    let chosen = '';
    await retryCas(`subnet pool ${poolId}`, async () => {
      const s = await this.get(poolId, caller);
      const pool = s.value;
      const taken = Object.keys(pool.allocations);
      if (cidr) {
        const c = parseCidr(cidr);
        if (!cidrWithin(c, pool.prefixes.map((p) => parseCidr(p)))) throw new InvalidArgumentError('cidr', `${c.text} is not inside the prefixes of subnet pool ${poolId}`);
        if (c.prefixLength < pool.minPrefixlen || c.prefixLength > pool.maxPrefixlen) throw new InvalidArgumentError('cidr', `/${c.prefixLength} is outside the pool's ${pool.minPrefixlen}..${pool.maxPrefixlen}`);
        const clash = taken.find((t) => cidrsOverlap(parseCidr(t), c));
        if (clash) throw new InvalidArgumentError('cidr', `${c.text} overlaps ${clash}, already allocated from subnet pool ${poolId}`);
        chosen = c.text;
      } else {
        const len = prefixlen || pool.defaultPrefixlen;
        if (len < pool.minPrefixlen || len > pool.maxPrefixlen) throw new InvalidArgumentError('prefixlen', `${len} is outside the pool's ${pool.minPrefixlen}..${pool.maxPrefixlen}`);
        const found = allocateSubnetCidr(pool.prefixes, taken, len);
        if (!found) throw new ResourceExhaustedError(`subnet pool ${poolId} has no free /${len}`, 'subnet_pool_exhausted');
        chosen = found;
      }
      const next = { ...pool, allocations: { ...pool.allocations, [chosen]: subnetId } };
      return (await this.d.transact({ key: keys.subnetPool(poolId), expected: s.raw, next: JSON.stringify(next) })).ok || undefined;
    });
    return chosen;
  }

  /** Frees a CIDR allocated to `subnetId` (a subnet deleted, or a create that failed). Idempotent. */
  async release(poolId: string, cidr: string, subnetId: string): Promise<void> {
    await retryCas(`subnet pool ${poolId}`, async () => {
      const s = await readJson<SubnetPoolRecord>(this.d.redis, keys.subnetPool(poolId));
      if (!s || s.value.allocations[cidr] !== subnetId) return true;
      const { [cidr]: _freed, ...rest } = s.value.allocations;
      return (await this.d.transact({ key: keys.subnetPool(poolId), expected: s.raw, next: JSON.stringify({ ...s.value, allocations: rest }) })).ok || undefined;
    });
  }

  private async assertNoOtherDefault(id: string): Promise<void> {
    const other = (await this.list({ projectId: '', isAdmin: true })).find((p) => p.isDefault && p.id !== id);
    if (other) throw new InvalidArgumentError('is_default', `subnet pool ${other.id} is already the default for IPv4`);
  }

  private async owned(id: string, caller: Caller): Promise<Stored<SubnetPoolRecord>> {
    const s = await this.get(id, caller);
    if (!caller.isAdmin && s.value.projectId !== caller.projectId) throw new PermissionDeniedError(`subnet pool ${id} is shared by another project; only its owner or an admin may change it`);
    return s;
  }

  private change(id: string, caller: Caller, f: (p: SubnetPoolRecord) => SubnetPoolRecord): Promise<SubnetPoolRecord> {
    return retryCas(`subnet pool ${id}`, async () => {
      const s = await this.owned(id, caller);
      const next = f(s.value);
      return (await this.d.transact({ key: keys.subnetPool(id), expected: s.raw, next: JSON.stringify(next) })).ok ? next : undefined;
    });
  }
}

function visible(p: SubnetPoolRecord, caller: Caller): boolean {
  return caller.isAdmin || p.shared || p.projectId === caller.projectId;
}
