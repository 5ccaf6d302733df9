import { InvalidArgumentError, NotFoundError } from '@minicloud/domain-errors';
import {
  checkFirewall,
  DEFAULT_PROBE_SIZE_BYTES,
  type FirewallDecision,
  inCidr,
  isValidIpv4,
  type FloatingIpView,
  type OverlayTraceReply,
  type OverlayTraceRequest,
  type PortFirewall,
  type RouterView,
  type SecurityGroupRule,
} from '@minicloud/domain-network';
import type { NetworkRecord, PortRecord, RouterRecord, SecurityGroupRecord, SecurityGroupRuleRecord, SubnetRecord } from './records';
import type { FloatingIps } from './floating-ips';
import type { Ports } from './ports';
import type { Routers } from './routers';
import type { Caller, StoreDeps } from './store/deps';
import { readJson, readJsonMany } from './store/json';
import { keys } from './store/keys';

/** Sends a trace to a host's overlay module and returns its answer (NATS request/reply in production). */
export type OverlayTransport = (hostId: string, req: OverlayTraceRequest) => Promise<OverlayTraceReply>;

export interface TraceInput {
  fromPortId: string;
  fromInstanceId: string;
  fromIp: string;
  toIp: string;
  toInstanceId: string;
  protocol: string;
  dstPort: number;
}

const internal: Caller = { projectId: '', isAdmin: true };

/**
 * The packet tracer's controller side: resolves source and destination, gathers what the hosts'
 * overlay modules need (L3 context, firewalls), and starts the trace on the first host, which
 * carries it VTEP to VTEP. Source and destination instances/ports are resolved in the caller's scope.
 * @throws InvalidArgumentError('from_port_id' | 'to_ip' | 'protocol' | 'dst_port'); NotFoundError('port' | 'instance_port')
 */
export class Tracer {
  constructor(
    private readonly d: StoreDeps,
    private readonly ports: Ports,
    private readonly routers: Routers,
    private readonly floatingIps: FloatingIps,
    private readonly transport: OverlayTransport,
  ) {}

  async trace(input: TraceInput, caller: Caller): Promise<OverlayTraceReply> {
    const protocol = flowProtocol(input.protocol, input.dstPort);
    const dstIp = input.toIp || (input.toInstanceId ? (await this.firstPortOf(input.toInstanceId, caller)).fixedIps[0]?.ipAddress ?? '' : '');
    if (!isValidIpv4(dstIp)) throw new InvalidArgumentError('to_ip', `"${dstIp}" is not an IPv4 address (give to_ip or to_instance_id)`);
    const probe = { dstIp, protocol, dstPort: protocol === 'icmp' ? 0 : input.dstPort, sizeBytes: DEFAULT_PROBE_SIZE_BYTES };
    const fips = await this.floatingIpViews();
    const routers = await this.routerViews();
    if (input.fromIp) {
      if (!isValidIpv4(input.fromIp)) throw new InvalidArgumentError('from_ip', `"${input.fromIp}" is not an IPv4 address`);
      const fip = fips.find((f) => f.floatingIp === dstIp);
      if (!fip) return dropped(`${dstIp} is not a floating IP associated with a port`);
      const target = (await this.ports.get(fip.portId, internal)).value;
      if (!target.bindingHostId) return dropped(`port ${target.id} behind floating IP ${dstIp} is not bound to a host`);
      const firewalls = await this.firewallsOf([target]);
      return this.transport(target.bindingHostId, { start: { kind: 'external', srcIp: input.fromIp }, probe, l3: { sourceSubnetCidr: '', routers, floatingIps: fips }, firewalls });
    }
    const src = input.fromPortId ? (await this.ports.get(input.fromPortId, caller)).value : input.fromInstanceId ? await this.firstPortOf(input.fromInstanceId, caller) : undefined;
    if (!src) throw new InvalidArgumentError('from_port_id', 'give from_port_id, from_instance_id or from_ip');
    if (!src.bindingHostId) return dropped(`port ${src.id} is not bound to a host (no vNIC plugged anywhere)`);
    const srcSubnet = src.fixedIps[0] ? (await readJson<SubnetRecord>(this.d.redis, keys.subnet(src.fixedIps[0].subnetId)))?.value : undefined;
    // a static route's nexthop may receive the packet too
    const nexthops = routers.flatMap((r) => (r.routes ?? []).map((x) => x.nexthop));
    const fixedTargets = new Set([dstIp, ...nexthops, ...fips.filter((f) => f.floatingIp === dstIp).map((f) => f.fixedIp)]);
    const all = await readJsonMany<PortRecord>(this.d.redis, (await this.d.redis.smembers(keys.ports())).map(keys.port));
    const candidates = all.filter((p) => p.fixedIps.some((f) => fixedTargets.has(f.ipAddress)));
    const firewalls = await this.firewallsOf([src, ...candidates]);
    return this.transport(src.bindingHostId, { start: { kind: 'vnic', srcPortId: src.id }, probe, l3: { sourceSubnetCidr: srcSubnet?.cidr ?? '', routers, floatingIps: fips }, firewalls });
  }

  /**
   * Whether port `portId`'s security groups let a new inbound flow from `remoteIp` in (the same rule
   * evaluation the hosts' overlay firewalls run). Any port of any project: callers are compute agents,
   * and `actsFor` (called with the port's binding host before anything is evaluated) refuses an agent
   * asking about a port that is not on one of its hosts.
   * @throws InvalidArgumentError('port_id' | 'remote_ip' | 'protocol' | 'dst_port'); NotFoundError('port'); what `actsFor` throws
   */
  async checkIngress(input: { portId: string; remoteIp: string; protocol: string; dstPort: number }, actsFor: (bindingHostId: string) => void = () => undefined): Promise<FirewallDecision> {
    if (!input.portId || input.portId.length > 64) throw new InvalidArgumentError('port_id', 'is required, at most 64 characters');
    if (!isValidIpv4(input.remoteIp)) throw new InvalidArgumentError('remote_ip', `"${input.remoteIp.slice(0, 64)}" is not an IPv4 address`);
    const protocol = flowProtocol(input.protocol, input.dstPort);
    const port = (await this.ports.get(input.portId, internal)).value;
    actsFor(port.bindingHostId);
    const firewalls = await this.firewallsOf([port]);
    return checkFirewall(firewalls[port.id], 'ingress', { protocol, dstPort: input.dstPort, remoteIp: input.remoteIp });
  }

  private async firstPortOf(instanceId: string, caller: Caller): Promise<PortRecord> {
    const [p] = await this.ports.list(caller, { networkId: '', deviceId: instanceId, bindingHostId: '' });
    if (!p) throw new NotFoundError('instance_port', instanceId, 'the instance has no port');
    return p;
  }

  private async floatingIpViews(): Promise<FloatingIpView[]> {
    const out: FloatingIpView[] = [];
    for (const f of await this.floatingIps.list(internal)) {
      if (!f.portId) continue;
      const port = (await readJson<PortRecord>(this.d.redis, keys.port(f.portId)))?.value;
      const net = port && (await readJson<NetworkRecord>(this.d.redis, keys.network(port.networkId)))?.value;
      if (port && net) out.push({ floatingIp: f.floatingIpAddress, fixedIp: f.fixedIpAddress, portId: f.portId, routerId: f.routerId, networkId: net.id, segmentationId: net.segmentationId });
    }
    return out;
  }

  private async routerViews(): Promise<RouterView[]> {
    const out: RouterView[] = [];
    // an administratively down router forwards nothing
    for (const r of await this.routers.list(internal)) if (r.adminStateUp !== false) out.push(await this.routerView(r));
    return out;
  }

  private async routerView(r: RouterRecord): Promise<RouterView> {
    const interfaces = [];
    for (const i of r.interfaces) {
      const subnet = (await readJson<SubnetRecord>(this.d.redis, keys.subnet(i.subnetId)))?.value;
      const port = (await readJson<PortRecord>(this.d.redis, keys.port(i.portId)))?.value;
      const net = subnet && (await readJson<NetworkRecord>(this.d.redis, keys.network(subnet.networkId)))?.value;
      if (subnet && port && net) interfaces.push({ subnetId: subnet.id, cidr: subnet.cidr, gatewayIp: port.fixedIps.find((f) => f.subnetId === subnet.id)?.ipAddress ?? subnet.gatewayIp ?? '', networkId: net.id, segmentationId: net.segmentationId, macAddress: port.macAddress });
    }
    let gateway: RouterView['gateway'] = null;
    if (r.externalNetworkId) {
      const subnetIds = await this.d.redis.smembers(keys.networkSubnets(r.externalNetworkId));
      const subnets = await readJsonMany<SubnetRecord>(this.d.redis, subnetIds.map(keys.subnet));
      const cidr = (subnets.find((s) => s.id === r.externalSubnetId) ?? subnets.find((s) => r.externalIp && inCidr(r.externalIp, s.cidr)))?.cidr ?? '';
      gateway = { networkId: r.externalNetworkId, externalIp: r.externalIp, cidr, enableSnat: r.enableSnat };
    }
    return { id: r.id, name: r.name, interfaces, gateway, routes: r.routes ?? [] };
  }

  /** The firewall of each port: its groups' rules, their names, and the member IPs of every remote group. */
  private async firewallsOf(ports: PortRecord[]): Promise<Record<string, PortFirewall>> {
    const out: Record<string, PortFirewall> = {};
    for (const p of ports) {
      const rules: SecurityGroupRule[] = [];
      const groupNames: Record<string, string> = {};
      for (const g of p.securityGroupIds) {
        const group = (await readJson<SecurityGroupRecord>(this.d.redis, keys.securityGroup(g)))?.value;
        groupNames[g] = group?.name ?? '?';
        const raw = await this.d.redis.hvals(keys.securityGroupRules(g));
        rules.push(...raw.map((x) => JSON.parse(x) as SecurityGroupRuleRecord).sort((a, b) => (a.id < b.id ? -1 : 1)));
      }
      const membership: Record<string, string[]> = {};
      for (const g of new Set(rules.map((r) => r.remoteGroupId).filter((x): x is string => !!x))) {
        const members = await readJsonMany<PortRecord>(this.d.redis, (await this.d.redis.smembers(keys.securityGroupPorts(g))).map(keys.port));
        membership[g] = members.flatMap((m) => m.fixedIps.map((f) => f.ipAddress));
      }
      out[p.id] = { portId: p.id, portSecurityEnabled: p.portSecurityEnabled, rules, groupNames, membership };
    }
    return out;
  }
}

/**
 * A flow's protocol (tcp when empty), checked with its destination port (1..65535 unless icmp).
 * @throws InvalidArgumentError('protocol' | 'dst_port')
 */
function flowProtocol(protocol: string, dstPort: number): string {
  const p = protocol || 'tcp';
  if (!['tcp', 'udp', 'icmp'].includes(p)) throw new InvalidArgumentError('protocol', `"${p.slice(0, 16)}" is not tcp, udp or icmp`);
  if (p !== 'icmp' && (!Number.isInteger(dstPort) || dstPort < 1 || dstPort > 65535)) throw new InvalidArgumentError('dst_port', `${dstPort} is not a port 1..65535`);
  return p;
}

function dropped(reason: string): OverlayTraceReply {
  return { hops: [{ stage: 'drop', hostId: '', description: reason, fields: {} }], delivered: false, dropReason: reason };
}
