import { FailedPreconditionError, InvalidArgumentError, NotFoundError, PermissionDeniedError } from '@minicloud/domain-errors';
import { inCidr } from '@minicloud/domain-network';
import type { FloatingIpQuota } from './floating-ip-quota';
import type { L2pop } from './l2pop';
import type { Networks } from './networks';
import type { Ports } from './ports';
import type { FloatingIpRecord } from './records';
import type { Routers } from './routers';
import { retryCas, type Caller, type StoreDeps } from './store/deps';
import { readJson, readJsonMany, type Stored } from './store/json';
import { keys } from './store/keys';
import type { Subnets } from './subnets';

const asService = (c: Caller): Caller => ({ projectId: c.projectId, isAdmin: true, requestId: c.requestId });

/**
 * Floating IPs (Neutron L3): an address allocated from the external network's subnet (held by a port
 * with device_owner network:floatingip), associated 1:1 to a port's fixed IP through the router that
 * has both an interface on that port's subnet and its gateway on the floating network.
 */
export class FloatingIps {
  constructor(
    private readonly d: StoreDeps,
    private readonly networks: Networks,
    private readonly subnets: Subnets,
    private readonly ports: Ports,
    private readonly routers: Routers,
    /** The floating_ips quota; absent: not counted (tests without identity). */
    private readonly quota?: FloatingIpQuota,
    /** Bumps the FDB generation of the hosts of ports whose floating IP changed (DVR: those hosts serve the NAT); absent: none. */
    private readonly l2pop?: Pick<L2pop, 'bumpPortHosts'>,
  ) {}

  /**
   * Allocates a floating IP (a chosen address: admin only, as Neutron's policy), associated at once
   * when portId is given (fixedIpAddress picks one of the port's fixed IPs; '' its first).
   * @throws InvalidArgumentError('floating_network_id') (missing / not external); PermissionDeniedError
   *   (floating_ip_address or another project_id without admin); NotFoundError('network' | 'port');
   *   AlreadyExistsError('ip_address') for a chosen address in use; ResourceExhaustedError when the
   *   external subnet is full or the project is over its floating_ips quota; see {@link update}
   */
  async create(input: { floatingNetworkId: string; portId: string; fixedIpAddress: string; floatingIpAddress: string; projectId: string }, caller: Caller): Promise<FloatingIpRecord> {
    const { floatingNetworkId, portId } = input;
    if (!floatingNetworkId) throw new InvalidArgumentError('floating_network_id', 'is required');
    if (input.floatingIpAddress && !caller.isAdmin) throw new PermissionDeniedError('choosing floating_ip_address requires role admin');
    if (input.projectId && input.projectId !== caller.projectId && !caller.isAdmin) throw new PermissionDeniedError('setting project_id requires role admin');
    const projectId = input.projectId || caller.projectId;
    const net = (await this.networks.get(floatingNetworkId, caller)).value;
    if (!net.routerExternal) throw new InvalidArgumentError('floating_network_id', `network ${floatingNetworkId} is not router:external`);
    const id = this.d.newId();
    const reservation = this.quota ? await this.quota.reserve(projectId) : '';
    let rec: FloatingIpRecord;
    try {
      const fixedIps = input.floatingIpAddress ? [{ subnetId: '', ipAddress: input.floatingIpAddress }] : [];
      const port = await this.ports.create({ networkId: net.id, name: '', fixedIps, deviceId: id, deviceOwner: 'network:floatingip', securityGroupIds: [], portSecurityEnabled: false, macAddress: '', projectId }, asService(caller));
      rec = { id, projectId, floatingNetworkId: net.id, floatingIpAddress: port.fixedIps[0]?.ipAddress ?? '', floatingPortId: port.id, portId: '', fixedIpAddress: '', routerId: '', status: 'DOWN', createdAtMs: this.d.nowMs(), ...(this.quota ? { quotaCounted: true } : {}) };
      try {
        await this.d.transact({ key: keys.floatingIp(id), expected: '', next: JSON.stringify(rec), ops: [{ kind: 'sadd', key: keys.floatingIps(), a1: id }] });
      } catch (e) {
        await this.ports.delete(port.id, asService(caller)).catch(() => undefined);
        throw e;
      }
    } catch (e) {
      if (reservation) await this.quota!.rollback(reservation);
      throw e;
    }
    if (reservation) {
      try {
        await this.quota!.commit(reservation);
      } catch (e) {
        // not counted: the floating IP must not stay (deleting it would release what was never committed)
        await this.removeUncounted(id, caller);
        throw e;
      }
    }
    if (!portId) return rec;
    try {
      return await this.update(id, portId, input.fixedIpAddress, caller);
    } catch (e) {
      await this.delete(id, caller).catch(() => undefined);
      throw e;
    }
  }

  /** @throws InvalidArgumentError('floating_ip_id'); NotFoundError('floating_ip') */
  async get(id: string, caller: Caller): Promise<Stored<FloatingIpRecord>> {
    if (!id) throw new InvalidArgumentError('floating_ip_id', 'is required');
    const s = await readJson<FloatingIpRecord>(this.d.redis, keys.floatingIp(id));
    if (!s || (!caller.isAdmin && s.value.projectId !== caller.projectId)) throw new NotFoundError('floating_ip', id);
    return s;
  }

  async list(caller: Caller): Promise<FloatingIpRecord[]> {
    const all = await readJsonMany<FloatingIpRecord>(this.d.redis, (await this.d.redis.smembers(keys.floatingIps())).map(keys.floatingIp));
    return all.filter((f) => caller.isAdmin || f.projectId === caller.projectId).sort((a, b) => a.createdAtMs - b.createdAtMs || (a.id < b.id ? -1 : 1));
  }

  /**
   * Associates to `portId` (its fixed IP `fixedIpAddress`, '' its first), or disassociates with ''.
   * A port has one floating IP at most.
   * @throws NotFoundError('port'); InvalidArgumentError('port_id' | 'fixed_ip_address') (no fixed IP, or
   *   not the port's); NotFoundError('external_gateway_for_floating_ip') when no router links the port's
   *   subnet to the floating network; FailedPreconditionError('port_has_floating_ip')
   */
  async update(id: string, portId: string, fixedIpAddress: string, caller: Caller): Promise<FloatingIpRecord> {
    let target: Pick<FloatingIpRecord, 'portId' | 'fixedIpAddress' | 'routerId'> = { portId: '', fixedIpAddress: '', routerId: '' };
    const fip = (await this.get(id, caller)).value;
    if (portId) {
      const port = (await this.ports.get(portId, caller)).value;
      const fixed = fixedIpAddress ? port.fixedIps.find((f) => f.ipAddress === fixedIpAddress) : port.fixedIps[0];
      if (!fixed && fixedIpAddress) throw new InvalidArgumentError('fixed_ip_address', `port ${portId} does not have fixed ip ${fixedIpAddress}`);
      if (!fixed) throw new InvalidArgumentError('port_id', `port ${portId} has no fixed IP; a floating IP needs one`);
      const subnet = (await this.subnets.load(fixed.subnetId))?.value;
      const router = (await this.routers.list(asService(caller))).find(
        (r) => r.externalNetworkId === fip.floatingNetworkId && r.interfaces.some((i) => i.subnetId === fixed.subnetId) && !!subnet && inCidr(fixed.ipAddress, subnet.cidr),
      );
      if (!router) {
        throw new NotFoundError('external_gateway_for_floating_ip', fip.floatingNetworkId, `external network ${fip.floatingNetworkId} is not reachable from subnet ${fixed.subnetId}; cannot associate port ${portId} with a floating IP`);
      }
      target = { portId, fixedIpAddress: fixed.ipAddress, routerId: router.id };
      if (fip.portId !== portId && (await this.d.claim({ key: keys.floatingIpOfPort(portId), owner: id })) !== 'claimed') {
        throw new FailedPreconditionError(`port ${portId} already has a floating IP`, 'port_has_floating_ip');
      }
    }
    let previousPort = '';
    const updated = await retryCas(`floating IP ${id}`, async () => {
      const s = await this.get(id, caller);
      const next: FloatingIpRecord = { ...s.value, ...target, status: target.portId ? 'ACTIVE' : 'DOWN' };
      const old = s.value.portId;
      const res = await this.d.transact({
        key: keys.floatingIp(id),
        expected: s.raw,
        next: JSON.stringify(next),
        ops: old && old !== target.portId ? [{ kind: 'delifeq', key: keys.floatingIpOfPort(old), a1: id }] : [],
      });
      previousPort = old;
      return res.ok ? next : undefined;
    });
    await this.l2pop?.bumpPortHosts([...new Set([previousPort, updated.portId])], caller.requestId);
    return updated;
  }

  /** Disassociates the floating IP of a port that was deleted, as Neutron does when a port goes; none: nothing. */
  async portDeleted(portId: string, requestId?: string): Promise<void> {
    const fipId = await this.d.redis.get(keys.floatingIpOfPort(portId));
    if (!fipId) return;
    const fip = await readJson<FloatingIpRecord>(this.d.redis, keys.floatingIp(fipId));
    if (!fip || fip.value.portId !== portId) return;
    await this.update(fipId, '', '', { projectId: fip.value.projectId, isAdmin: true, requestId });
  }

  /** Disassociates, frees the address (its port) and gives back its quota. @throws NotFoundError('floating_ip') */
  async delete(id: string, caller: Caller): Promise<void> {
    const s = await this.remove(id, caller);
    if (s.quotaCounted && this.quota) await this.quota.release(s.projectId);
  }

  private async removeUncounted(id: string, caller: Caller): Promise<void> {
    await this.remove(id, caller).catch(() => undefined);
  }

  private async remove(id: string, caller: Caller): Promise<FloatingIpRecord> {
    const s = await this.get(id, caller);
    const res = await this.d.transact({
      key: keys.floatingIp(id),
      expected: s.raw,
      next: '',
      ops: [{ kind: 'srem', key: keys.floatingIps(), a1: id }, ...(s.value.portId ? [{ kind: 'delifeq' as const, key: keys.floatingIpOfPort(s.value.portId), a1: id }] : [])],
    });
    if (!res.ok) throw new FailedPreconditionError(`floating IP ${id} changed while being deleted; retry`, 'concurrent_update');
    await this.ports.delete(s.value.floatingPortId, asService(caller)).catch(() => undefined);
    if (s.value.portId) await this.l2pop?.bumpPortHosts([s.value.portId], caller.requestId);
    return s.value;
  }
}
