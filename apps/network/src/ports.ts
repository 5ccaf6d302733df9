import { AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, NotFoundError, PermissionDeniedError, ResourceExhaustedError } from '@minicloud/domain-errors';
import { cidrContains, generateMac, ipToInt, isValidIpv4, nextFreeIp, normaliseMac, parseCidr } from '@minicloud/domain-network';
import { Subjects } from '@minicloud/platform-bus';
import type { L2pop } from './l2pop';
import type { Networks } from './networks';
import type { FixedIpRecord, PortRecord, SubnetRecord } from './records';
import { overQuotaError, portCountOps, type NetworkQuotas } from './quotas';
import type { SecurityGroups } from './security-groups';
import { MAX_CAS_ATTEMPTS, retryCas, type Caller, type StoreDeps } from './store/deps';
import { readJson, readJsonMany, type Stored } from './store/json';
import { keys } from './store/keys';
import { ANY, type Op } from './store/transact';
import type { Subnets } from './subnets';

export interface CreatePortInput {
  networkId: string;
  name: string;
  /** Each needs a subnet id, an IP, or both. Empty: one address from the first subnet with room. */
  fixedIps: { subnetId: string; ipAddress: string }[];
  deviceId: string;
  deviceOwner: string;
  /** Empty: the project's default group (none when port security is off), unless explicitSecurityGroups. */
  securityGroupIds: string[];
  /** The list is meant as given even when empty: a port in no group. */
  explicitSecurityGroups?: boolean;
  portSecurityEnabled?: boolean;
  /** '' = generated from BASE_MAC. */
  macAddress: string;
  /** Admin only; '' = the caller's project. */
  projectId: string;
  description?: string;
  /** Internal (routers): the port may take its subnet's gateway IP. */
  takeGatewayIp?: boolean;
}

export interface PortFilters {
  networkId: string;
  deviceId: string;
  bindingHostId: string;
  /** Non-empty: ports whose device is any of these. */
  deviceIds?: string[];
}

/** Attempts at a generated MAC before giving up (a collision in 2^24 is rare; 16 in a row means a full space). */
const MAX_MAC_ATTEMPTS = 16;

/**
 * Ports: MAC and IP allocation (each a SET NX claim, so concurrent creates never share one), host
 * bindings and the l2pop generation bumps they cause. Ports are project-scoped (admin sees all).
 */
export class Ports {
  constructor(
    private readonly d: StoreDeps,
    private readonly cfg: { baseMac: string },
    private readonly networks: Networks,
    private readonly subnets: Subnets,
    private readonly securityGroups: SecurityGroups,
    private readonly l2pop: L2pop,
    private readonly quotas?: NetworkQuotas,
  ) {}

  /**
   * Creates a port on a network the caller can see (own or shared). Claims the MAC, then each IP;
   * on any failure every claim made so far is released, so nothing is left half-created.
   * @throws NotFoundError('network' | 'subnet' | 'security_group'); PermissionDeniedError (project_id
   *   without admin); InvalidArgumentError('mac_address', 'fixed_ips[i]...', 'security_group_ids');
   *   AlreadyExistsError('mac_address' | 'ip_address') for a requested address in use;
   *   ResourceExhaustedError('ip_address_generation_failure') when no subnet has a free address
   */
  async create(input: CreatePortInput, caller: Caller): Promise<PortRecord> {
    const network = (await this.networks.get(input.networkId, caller)).value;
    if (input.projectId && input.projectId !== caller.projectId && !caller.isAdmin) {
      throw new PermissionDeniedError('setting project_id requires role admin');
    }
    const projectId = input.projectId || caller.projectId;
    if (network.routerExternal && network.projectId !== caller.projectId && !caller.isAdmin) {
      throw new PermissionDeniedError(`network ${network.id} is external: its ports are made by routers and floating IPs (or an admin)`);
    }
    checkPortAttributes(input, network.projectId, caller);
    const portSecurityEnabled = input.portSecurityEnabled ?? true;
    let securityGroupIds: string[] = [];
    if (!portSecurityEnabled) {
      if (input.securityGroupIds.length) throw new InvalidArgumentError('security_group_ids', 'a port without port security cannot have security groups');
    } else if (input.securityGroupIds.length || input.explicitSecurityGroups) {
      securityGroupIds = [...new Set(input.securityGroupIds)];
      await this.securityGroups.assertUsable(securityGroupIds, projectId, caller);
    } else {
      securityGroupIds = [await this.securityGroups.ensureDefault(projectId)];
    }
    // Refuses early from the counter; the transaction below checks the limit again, atomically with the write.
    const quotaGuard = await this.quotas?.portQuotaGuard(projectId);
    const id = this.d.newId();
    let macAddress = '';
    const fixedIps: FixedIpRecord[] = [];
    try {
      macAddress = await this.claimMac(id, input.macAddress);
      const subnets = await this.subnets.listOfNetwork(network.id);
      if (input.fixedIps.length) {
        for (const [i, fi] of input.fixedIps.entries()) fixedIps.push(await this.claimRequestedIp(id, subnets, fi, i, input.takeGatewayIp ?? false));
      } else if (subnets.length) {
        fixedIps.push(await this.claimFromFirstSubnetWithRoom(id, subnets));
      }
      const record: PortRecord = {
        id,
        name: input.name,
        networkId: network.id,
        projectId,
        macAddress,
        fixedIps,
        deviceId: input.deviceId,
        deviceOwner: input.deviceOwner,
        bindingHostId: '',
        status: 'DOWN',
        securityGroupIds,
        portSecurityEnabled,
        adminStateUp: true,
        createdAtMs: this.d.nowMs(),
        description: input.description ?? '',
      };
      const res = await this.d.transact({
        key: keys.port(id),
        expected: '',
        next: JSON.stringify(record),
        guards: [{ kind: 'exists', key: keys.network(network.id) }, ...securityGroupIds.map((g) => ({ kind: 'exists' as const, key: keys.securityGroup(g) })), ...(quotaGuard ? [quotaGuard] : [])],
        ops: [
          { kind: 'sadd', key: keys.networkPorts(network.id), a1: id },
          { kind: 'sadd', key: keys.ports(), a1: id },
          ...portCountOps(projectId, 1),
          ...(record.deviceId ? [{ kind: 'sadd' as const, key: keys.devicePorts(record.deviceId), a1: id }] : []),
          ...securityGroupIds.map((g) => ({ kind: 'sadd' as const, key: keys.securityGroupPorts(g), a1: id })),
        ],
      });
      if (!res.ok) {
        if (!res.conflict && res.guardIndex > securityGroupIds.length) throw overQuotaError('ports');
        if (!res.conflict && res.guardIndex > 0) throw new NotFoundError('security_group', securityGroupIds[res.guardIndex - 1]!);
        throw new NotFoundError('network', network.id);
      }
      await this.d.events.portChanged(Subjects.portCreated, portEvent(record, ''), caller.requestId);
      return record;
    } catch (e) {
      await this.releaseClaims(id, macAddress, fixedIps);
      throw e;
    }
  }

  private async claimMac(portId: string, requested: string): Promise<string> {
    if (requested) {
      const mac = normaliseMac(requested);
      if ((await this.d.claim({ key: keys.mac(mac), owner: portId })) !== 'claimed') throw new AlreadyExistsError('mac_address', mac);
      return mac;
    }
    for (let i = 0; i < MAX_MAC_ATTEMPTS; i++) {
      const mac = generateMac(this.d.rng, this.cfg.baseMac);
      if ((await this.d.claim({ key: keys.mac(mac), owner: portId })) === 'claimed') return mac;
    }
    throw new ResourceExhaustedError(`no free MAC address under base ${this.cfg.baseMac}`, 'mac_generation_failure');
  }

  private async claimRequestedIp(portId: string, subnets: SubnetRecord[], fi: { subnetId: string; ipAddress: string }, i: number, takeGatewayIp: boolean): Promise<FixedIpRecord> {
    const field = `fixed_ips[${i}]`;
    if (!fi.subnetId && !fi.ipAddress) throw new InvalidArgumentError(field, 'needs a subnet_id or an ip_address');
    if (fi.ipAddress && !isValidIpv4(fi.ipAddress)) throw new InvalidArgumentError(`${field}.ip_address`, `"${fi.ipAddress}" is not an IPv4 address`);
    const subnet = fi.subnetId
      ? subnets.find((s) => s.id === fi.subnetId)
      : subnets.find((s) => cidrContains(parseCidr(s.cidr), ipToInt(fi.ipAddress)));
    if (!subnet) {
      if (fi.subnetId) throw new InvalidArgumentError(`${field}.subnet_id`, `subnet ${fi.subnetId} is not on this network`);
      throw new InvalidArgumentError(`${field}.ip_address`, `${fi.ipAddress} is in no subnet of this network`);
    }
    if (!fi.ipAddress) return { subnetId: subnet.id, ipAddress: await this.claimFromSubnet(portId, subnet) };
    const cidr = parseCidr(subnet.cidr);
    const ipInt = ipToInt(fi.ipAddress);
    if (!cidrContains(cidr, ipInt) || ipInt === cidr.networkInt || ipInt === cidr.broadcastInt) {
      throw new InvalidArgumentError(`${field}.ip_address`, `${fi.ipAddress} is not a host address of ${subnet.cidr}`);
    }
    if (fi.ipAddress === subnet.gatewayIp && !takeGatewayIp) throw new AlreadyExistsError('ip_address', `${fi.ipAddress} (the gateway of ${subnet.id})`);
    const r = await this.d.claim({ key: keys.ip(subnet.id, fi.ipAddress), owner: portId, parent: keys.subnet(subnet.id), index: { key: keys.subnetIps(subnet.id), member: fi.ipAddress } });
    if (r === 'taken') throw new AlreadyExistsError('ip_address', fi.ipAddress);
    if (r === 'no_parent') throw new NotFoundError('subnet', subnet.id);
    return { subnetId: subnet.id, ipAddress: fi.ipAddress };
  }

  private async claimFromFirstSubnetWithRoom(portId: string, subnets: SubnetRecord[]): Promise<FixedIpRecord> {
    let last: unknown;
    for (const subnet of subnets) {
      try {
        return { subnetId: subnet.id, ipAddress: await this.claimFromSubnet(portId, subnet) };
      } catch (e) {
        if (!(e instanceof ResourceExhaustedError) && !(e instanceof NotFoundError)) throw e;
        last = e;
      }
    }
    if (last instanceof ResourceExhaustedError) throw last;
    throw new ResourceExhaustedError('no subnet of the network has a free IP address', 'ip_address_generation_failure');
  }

  /** Random free address of the pools (domain nextFreeIp), claimed with SET NX; a lost race marks it used and picks again. */
  private async claimFromSubnet(portId: string, subnet: SubnetRecord): Promise<string> {
    const allocated = new Set(await this.d.redis.smembers(keys.subnetIps(subnet.id)));
    for (;;) {
      const ip = nextFreeIp(subnet, allocated, this.d.rng);
      const r = await this.d.claim({ key: keys.ip(subnet.id, ip), owner: portId, parent: keys.subnet(subnet.id), index: { key: keys.subnetIps(subnet.id), member: ip } });
      if (r === 'claimed') return ip;
      if (r === 'no_parent') throw new NotFoundError('subnet', subnet.id);
      allocated.add(ip);
    }
  }

  private async releaseClaims(portId: string, mac: string, fixedIps: FixedIpRecord[]): Promise<void> {
    const ops: Op[] = [];
    if (mac) ops.push({ kind: 'delifeq', key: keys.mac(mac), a1: portId });
    for (const f of fixedIps) ops.push(...ipReleaseOps(portId, f));
    if (ops.length) await this.d.transact({ key: keys.port(portId), expected: '', next: ANY, ops }).catch(() => undefined);
  }

  /**
   * A port of the caller's project (admin: any).
   * @throws InvalidArgumentError('port_id'); NotFoundError('port')
   */
  async get(id: string, caller: Caller): Promise<Stored<PortRecord>> {
    if (!id) throw new InvalidArgumentError('port_id', 'is required');
    const stored = await readJson<PortRecord>(this.d.redis, keys.port(id));
    if (!stored || (!caller.isAdmin && stored.value.projectId !== caller.projectId)) throw new NotFoundError('port', id);
    return stored;
  }

  /** The caller's ports matching every non-empty filter (device_ids: any of them), oldest first. */
  async list(caller: Caller, f: PortFilters): Promise<PortRecord[]> {
    const deviceIds = new Set(f.deviceIds ?? []);
    let ids: string[];
    if (deviceIds.size > 0 && !f.networkId && !f.deviceId) {
      // One index read per device, in one round trip.
      const sets = await Promise.all([...deviceIds].map((d) => this.d.redis.smembers(keys.devicePorts(d))));
      ids = [...new Set(sets.flat())];
    } else {
      const index = f.networkId ? keys.networkPorts(f.networkId) : f.deviceId ? keys.devicePorts(f.deviceId) : f.bindingHostId ? keys.hostPorts(f.bindingHostId) : keys.ports();
      ids = await this.d.redis.smembers(index);
    }
    const ports = await readJsonMany<PortRecord>(this.d.redis, ids.map(keys.port));
    return ports
      .filter(
        (p) =>
          (caller.isAdmin || p.projectId === caller.projectId) &&
          (!f.networkId || p.networkId === f.networkId) &&
          (!f.deviceId || p.deviceId === f.deviceId) &&
          (deviceIds.size === 0 || deviceIds.has(p.deviceId)) &&
          (!f.bindingHostId || p.bindingHostId === f.bindingHostId),
      )
      .sort((a, b) => a.createdAtMs - b.createdAtMs || (a.id < b.id ? -1 : 1));
  }

  /**
   * Updates name, admin_state_up, device_id, device_owner, port_security_enabled, security groups
   * (replace_security_groups: set exactly the list; otherwise a non-empty list is added) and fixed
   * IPs (replace_fixed_ips: the whole list, as Neutron's update: an entry naming an address the
   * port holds, or only a subnet the port has an address on, keeps it; others are claimed as on
   * create; addresses left out are freed). When a bound port's addresses change, the hosts holding
   * its network get the change as an l2pop delta.
   * @throws NotFoundError('port' | 'security_group'); InvalidArgumentError('port_security_enabled')
   *   when disabling port security on a port that keeps security groups, or naming a bad
   *   'fixed_ips[i]...'; AlreadyExistsError('ip_address') for an address in use;
   *   PermissionDeniedError for a reserved device_owner without admin (as on create)
   */
  async update(
    id: string,
    patch: {
      name?: string;
      adminStateUp?: boolean;
      portSecurityEnabled?: boolean;
      securityGroupIds: string[];
      replaceSecurityGroups: boolean;
      deviceId?: string;
      deviceOwner?: string;
      fixedIps?: { subnetId: string; ipAddress: string }[];
      replaceFixedIps?: boolean;
      description?: string;
    },
    caller: Caller,
  ): Promise<PortRecord> {
    if (patch.deviceOwner !== undefined && !caller.isAdmin && RESERVED_DEVICE_OWNER.test(patch.deviceOwner)) {
      throw new PermissionDeniedError(`setting device_owner "${patch.deviceOwner}" requires role admin`);
    }
    const updated = await retryCas(`port ${id}`, async () => {
      const stored = await this.get(id, caller);
      const cur = stored.value;
      if (patch.portSecurityEnabled !== undefined && !caller.isAdmin) {
        const network = (await this.networks.get(cur.networkId, caller)).value;
        if (network.projectId !== caller.projectId) throw new PermissionDeniedError(`setting port_security_enabled on network ${network.id} requires role admin or owning the network`);
      }
      const groups = patch.replaceSecurityGroups ? [...new Set(patch.securityGroupIds)] : [...new Set([...cur.securityGroupIds, ...patch.securityGroupIds])];
      const added = groups.filter((g) => !cur.securityGroupIds.includes(g));
      const removed = cur.securityGroupIds.filter((g) => !groups.includes(g));
      await this.securityGroups.assertUsable(added, cur.projectId, caller);
      const portSecurityEnabled = patch.portSecurityEnabled ?? cur.portSecurityEnabled;
      if (!portSecurityEnabled && groups.length) {
        throw new InvalidArgumentError('port_security_enabled', 'remove the security groups of a port before disabling its port security');
      }
      const { fixedIps, claimed } = patch.replaceFixedIps ? await this.claimUpdatedIps(cur, patch.fixedIps ?? []) : { fixedIps: cur.fixedIps, claimed: [] };
      const freed = cur.fixedIps.filter((f) => !fixedIps.some((n) => n.subnetId === f.subnetId && n.ipAddress === f.ipAddress));
      const next: PortRecord = {
        ...cur,
        name: patch.name ?? cur.name,
        adminStateUp: patch.adminStateUp ?? cur.adminStateUp,
        deviceId: patch.deviceId ?? cur.deviceId,
        deviceOwner: patch.deviceOwner ?? cur.deviceOwner,
        description: patch.description ?? cur.description,
        portSecurityEnabled,
        securityGroupIds: groups,
        fixedIps,
      };
      const deviceOps: Op[] =
        next.deviceId === cur.deviceId
          ? []
          : [
              ...(cur.deviceId ? [{ kind: 'srem' as const, key: keys.devicePorts(cur.deviceId), a1: id }] : []),
              ...(next.deviceId ? [{ kind: 'sadd' as const, key: keys.devicePorts(next.deviceId), a1: id }] : []),
            ];
      const l2 = await this.l2pop.planPortChange(cur, next);
      const res = await this.d.transact({
        key: keys.port(id),
        expected: stored.raw,
        next: JSON.stringify(next),
        guards: added.map((g) => ({ kind: 'exists' as const, key: keys.securityGroup(g) })),
        ops: [
          ...added.map((g) => ({ kind: 'sadd' as const, key: keys.securityGroupPorts(g), a1: id })),
          ...removed.map((g) => ({ kind: 'srem' as const, key: keys.securityGroupPorts(g), a1: id })),
          ...deviceOps,
          ...freed.flatMap((f) => ipReleaseOps(id, f)),
          ...(l2?.ops ?? []),
        ],
        ...(l2 ? { bump: l2.bump } : {}),
      });
      if (res.ok) {
        await l2?.publish(res, caller.requestId);
        return next;
      }
      await this.releaseIps(id, claimed);
      if (!res.conflict) throw new NotFoundError('security_group', added[res.guardIndex]!);
      return undefined;
    });
    return updated;
  }

  /** Frees addresses claimed for an existing port whose update did not go through (its record is left alone). */
  private async releaseIps(portId: string, fixedIps: FixedIpRecord[]): Promise<void> {
    if (fixedIps.length) await this.d.transact({ key: keys.port(portId), expected: ANY, next: ANY, ops: fixedIps.flatMap((f) => ipReleaseOps(portId, f)) }).catch(() => undefined);
  }

  /** The port's new fixed IPs for an update: kept ones, then fresh claims (released again on failure). */
  private async claimUpdatedIps(cur: PortRecord, requested: { subnetId: string; ipAddress: string }[]): Promise<{ fixedIps: FixedIpRecord[]; claimed: FixedIpRecord[] }> {
    const subnets = await this.subnets.listOfNetwork(cur.networkId);
    const fixedIps: FixedIpRecord[] = [];
    const claimed: FixedIpRecord[] = [];
    try {
      for (const [i, fi] of requested.entries()) {
        const kept = cur.fixedIps.find((f) => (fi.ipAddress ? f.ipAddress === fi.ipAddress && (!fi.subnetId || f.subnetId === fi.subnetId) : f.subnetId === fi.subnetId) && !fixedIps.includes(f));
        if (kept) {
          fixedIps.push(kept);
          continue;
        }
        const fresh = await this.claimRequestedIp(cur.id, subnets, fi, i, false);
        claimed.push(fresh);
        fixedIps.push(fresh);
      }
    } catch (e) {
      await this.releaseIps(cur.id, claimed);
      throw e;
    }
    return { fixedIps, claimed };
  }

  /**
   * Deletes a port: frees its IPs and MAC, drops it from every index (the l2pop index included, in
   * the same transaction), and when it was bound sends the hosts holding its network their delta.
   * @throws NotFoundError('port')
   */
  async delete(id: string, caller: Caller): Promise<void> {
    await retryCas(`port ${id}`, async () => (await this.tryRemove(await this.get(id, caller), caller.requestId)) || undefined);
  }

  /** @returns false when the record changed since it was read */
  async tryRemove(stored: Stored<PortRecord>, requestId?: string): Promise<boolean> {
    const p = stored.value;
    const l2 = await this.l2pop.planPortChange(p, undefined);
    const res = await this.d.transact({
      key: keys.port(p.id),
      expected: stored.raw,
      next: '',
      ...(l2 ? { bump: l2.bump } : {}),
      ops: [
        { kind: 'srem', key: keys.networkPorts(p.networkId), a1: p.id },
        { kind: 'srem', key: keys.ports(), a1: p.id },
        ...(p.deviceId ? [{ kind: 'srem' as const, key: keys.devicePorts(p.deviceId), a1: p.id }] : []),
        ...(p.bindingHostId ? [{ kind: 'srem' as const, key: keys.hostPorts(p.bindingHostId), a1: p.id }] : []),
        ...p.securityGroupIds.map((g) => ({ kind: 'srem' as const, key: keys.securityGroupPorts(g), a1: p.id })),
        { kind: 'delifeq', key: keys.mac(p.macAddress), a1: p.id },
        ...p.fixedIps.flatMap((f) => ipReleaseOps(p.id, f)),
        ...(l2?.ops ?? []),
        // After the l2pop ops: their hincr results come first in the transaction's counts.
        ...portCountOps(p.projectId, -1),
      ],
    });
    if (!res.ok) return false;
    await l2?.publish(res, requestId);
    await this.d.events.portChanged(Subjects.portDeleted, portEvent(p, p.bindingHostId), requestId);
    return true;
  }

  /**
   * Binds a port to a host (binding:host_id) and device; status ACTIVE. Rebinding to another host
   * (migration) is allowed. In the same transaction, the network's l2pop index moves the port and the
   * FDB generation of every host holding the network (plus old and new host) is incremented; each
   * then gets FdbUpdated with its delta.
   * With `claim`, a port whose device_id is already another device is refused in the same
   * compare-and-set (a user's port attached to two servers at once goes to one).
   * @throws InvalidArgumentError('host_id'); NotFoundError('port'); FailedPreconditionError('port_in_use') on a lost claim
   */
  async bind(id: string, b: { hostId: string; deviceId: string; deviceOwner: string; claim?: boolean }, caller: Caller): Promise<PortRecord> {
    if (!b.hostId) throw new InvalidArgumentError('host_id', 'is required');
    return this.rebind(id, caller, (cur) => {
      if (b.claim && cur.deviceId && cur.deviceId !== b.deviceId) throw new FailedPreconditionError(`Port ${id} is still in use.`, 'port_in_use');
      return { ...cur, bindingHostId: b.hostId, deviceId: b.deviceId || cur.deviceId, deviceOwner: b.deviceOwner || cur.deviceOwner, status: 'ACTIVE' };
    });
  }

  /** Clears binding:host_id (device_id is kept); status DOWN. Idempotent. @throws NotFoundError('port') */
  unbind(id: string, caller: Caller): Promise<PortRecord> {
    return this.rebind(id, caller, (cur) => ({ ...cur, bindingHostId: '', status: 'DOWN' }));
  }

  /**
   * Sets device_id and device_owner when `expect` holds for the port as it is (checked in the same
   * compare-and-set, so two routers cannot both take a port). @throws NotFoundError('port');
   * FailedPreconditionError('port_in_use') when `expect` refuses the port
   */
  setDevice(id: string, deviceId: string, deviceOwner: string, caller: Caller, expect: (cur: PortRecord) => boolean = () => true): Promise<PortRecord> {
    return this.rebind(id, caller, (cur) => {
      if (!expect(cur)) throw new FailedPreconditionError(`port ${id} is in use by device ${cur.deviceId} (${cur.deviceOwner})`, 'port_in_use');
      return { ...cur, deviceId, deviceOwner };
    });
  }

  private async rebind(id: string, caller: Caller, change: (cur: PortRecord) => PortRecord): Promise<PortRecord> {
    return retryCas(`port ${id}`, async () => {
      const stored = await this.get(id, caller);
      const cur = stored.value;
      const next = change(cur);
      const ops: Op[] = [];
      if (cur.bindingHostId !== next.bindingHostId) {
        if (cur.bindingHostId) ops.push({ kind: 'srem', key: keys.hostPorts(cur.bindingHostId), a1: id });
        if (next.bindingHostId) ops.push({ kind: 'sadd', key: keys.hostPorts(next.bindingHostId), a1: id });
      }
      if (cur.deviceId !== next.deviceId) {
        if (cur.deviceId) ops.push({ kind: 'srem', key: keys.devicePorts(cur.deviceId), a1: id });
        if (next.deviceId) ops.push({ kind: 'sadd', key: keys.devicePorts(next.deviceId), a1: id });
      }
      const l2 = await this.l2pop.planPortChange(cur, next);
      const res = await this.d.transact({ key: keys.port(id), expected: stored.raw, next: JSON.stringify(next), guards: [], ops: [...ops, ...(l2?.ops ?? [])], ...(l2 ? { bump: l2.bump } : {}) });
      if (!res.ok) return undefined;
      await l2?.publish(res, caller.requestId);
      if (cur.bindingHostId !== next.bindingHostId) {
        const subject = next.bindingHostId ? Subjects.portBound : Subjects.portUnbound;
        await this.d.events.portChanged(subject, portEvent(next, cur.bindingHostId), caller.requestId);
      }
      return next;
    });
  }

  /**
   * Deletes a network the caller owns: refused while a port on it has a device; ports without a
   * device are deleted, then its subnets, then the record and its VNI claim.
   * @throws NotFoundError('network'); PermissionDeniedError; FailedPreconditionError('network_in_use')
   */
  async deleteNetwork(networkId: string, caller: Caller): Promise<void> {
    const network = await this.networks.getOwned(networkId, caller);
    const ids = await this.d.redis.smembers(keys.networkPorts(networkId));
    const ports = await readJsonMany<PortRecord>(this.d.redis, ids.map(keys.port));
    const inUse = ports.filter((p) => p.deviceId);
    if (inUse.length) {
      throw new FailedPreconditionError(`network ${networkId} has ${inUse.length} port(s) in use by devices (e.g. port ${inUse[0]!.id})`, 'network_in_use');
    }
    for (const p of ports) {
      const stored = await readJson<PortRecord>(this.d.redis, keys.port(p.id));
      if (stored && !stored.value.deviceId) await this.tryRemove(stored, caller.requestId);
    }
    for (const s of await this.subnets.listOfNetwork(networkId)) {
      for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
        const stored = await this.subnets.load(s.id);
        if (!stored || (await this.subnets.tryRemove(stored))) break;
      }
    }
    const current = (await this.networks.load(networkId)) ?? network;
    await this.networks.removeRecord(current);
    await this.d.events.networkChanged(Subjects.networkDeleted, { networkId, projectId: current.value.projectId, segmentationId: current.value.segmentationId }, caller.requestId);
  }
}

function ipReleaseOps(portId: string, f: FixedIpRecord): Op[] {
  return [
    { kind: 'delifeq', key: keys.ip(f.subnetId, f.ipAddress), a1: portId },
    { kind: 'srem', key: keys.subnetIps(f.subnetId), a1: f.ipAddress },
  ];
}

function portEvent(p: PortRecord, oldBindingHostId: string) {
  return { portId: p.id, networkId: p.networkId, projectId: p.projectId, deviceId: p.deviceId, bindingHostId: p.bindingHostId, oldBindingHostId };
}

/** device_owner prefixes the cloud's own services set (router and floating-IP ports, VM vNICs). */
const RESERVED_DEVICE_OWNER = /^(network|compute):/;

/**
 * Neutron's create_port field rules for a caller who is not admin: device_owner `network:*` (and
 * `compute:*`, which only the compute service's bind sets here) is admin-only, and on a network of
 * another project (a shared one) a chosen IP address, MAC address or port_security_enabled is
 * admin-or-network-owner; only a subnet id may be named there (create_port:fixed_ips:subnet_id allows
 * `shared`).
 * @throws PermissionDeniedError naming the field.
 */
function checkPortAttributes(input: CreatePortInput, networkProjectId: string, caller: Caller): void {
  if (caller.isAdmin) return;
  if (RESERVED_DEVICE_OWNER.test(input.deviceOwner)) throw new PermissionDeniedError(`setting device_owner "${input.deviceOwner}" requires role admin`);
  if (networkProjectId === caller.projectId) return;
  const field = input.fixedIps.some((f) => f.ipAddress) ? 'fixed_ips.ip_address' : input.macAddress ? 'mac_address' : input.portSecurityEnabled !== undefined ? 'port_security_enabled' : '';
  if (field) throw new PermissionDeniedError(`setting ${field} on another project's network requires role admin or owning the network`);
}
