import { routeOffLink, type L3Context, type RouterView } from './l3';
import { traceFromVnic, type SwitchView } from './trace';

const netA = { subnetId: 'sa', cidr: '10.0.0.0/24', gatewayIp: '10.0.0.1', networkId: 'na', segmentationId: 100, macAddress: 'fa:16:3e:00:00:01' };
const netB = { subnetId: 'sb', cidr: '10.0.1.0/24', gatewayIp: '10.0.1.1', networkId: 'nb', segmentationId: 101, macAddress: 'fa:16:3e:00:00:02' };
const router = (extra: Partial<RouterView> = {}): RouterView => ({ id: 'r1', name: 'r', interfaces: [netA, netB], gateway: { networkId: 'ext', externalIp: '172.24.4.10', cidr: '172.24.4.0/24', enableSnat: true }, ...extra });
const ctx = (r: RouterView): L3Context => ({ sourceSubnetCidr: netA.cidr, routers: [r], floatingIps: [] });

describe('routeOffLink with static routes', () => {
  it('a static route sends its destination to the nexthop on the interface holding it', () => {
    const d = routeOffLink(ctx(router({ routes: [{ destination: '192.168.0.0/16', nexthop: '10.0.1.5' }] })), '10.0.0.7', '192.168.3.3');
    expect(d).toMatchObject({ kind: 'static_route', route: { nexthop: '10.0.1.5' }, iface: { subnetId: 'sb' } });
  });
  it('without the route the gateway takes it (SNAT)', () => {
    expect(routeOffLink(ctx(router()), '10.0.0.7', '192.168.3.3')).toMatchObject({ kind: 'external', nat: { type: 'snat' } });
  });
  it('a connected subnet wins over a shorter static route, a longer static route wins over it', () => {
    const r = router({ routes: [{ destination: '10.0.0.0/8', nexthop: '10.0.1.5' }, { destination: '10.0.1.128/25', nexthop: '10.0.0.9' }] });
    expect(routeOffLink(ctx(r), '10.0.0.7', '10.0.1.20')).toMatchObject({ kind: 'east_west', iface: { subnetId: 'sb' } });
    expect(routeOffLink(ctx(r), '10.0.0.7', '10.0.1.200')).toMatchObject({ kind: 'static_route', route: { nexthop: '10.0.0.9' }, iface: { subnetId: 'sa' } });
    expect(routeOffLink(ctx(r), '10.0.0.7', '10.7.0.1')).toMatchObject({ kind: 'static_route', route: { nexthop: '10.0.1.5' } });
  });
  it('a router without a gateway drops what no route covers', () => {
    expect(routeOffLink(ctx(router({ gateway: null, routes: [{ destination: '192.168.0.0/16', nexthop: '10.0.1.5' }] })), '10.0.0.7', '8.8.8.8')).toMatchObject({ kind: 'drop' });
  });
});

describe('traceFromVnic through a static route', () => {
  const vnic = (ip: string, mac: string, vni: number, portId: string) => ({ networkId: vni === 100 ? 'na' : 'nb', segmentationId: vni, tunnelIp: '192.0.2.1', macAddress: mac, ipAddress: ip, portId });
  const sw: SwitchView = { hostId: 'h1', tunnelIp: '192.0.2.1', vnics: [vnic('10.0.0.7', 'fa:16:3e:00:00:07', 100, 'src'), vnic('10.0.1.5', 'fa:16:3e:00:01:05', 101, 'gw-vm')], fdb: [] };
  const open = { portId: '', portSecurityEnabled: false, rules: [], groupNames: {}, membership: {} };
  it('the packet keeps its destination and reaches the nexthop VM', () => {
    const step = traceFromVnic(sw, 'src', { dstIp: '192.168.3.3', protocol: 'icmp', dstPort: 0, sizeBytes: 64 }, ctx(router({ routes: [{ destination: '192.168.0.0/16', nexthop: '10.0.1.5' }] })), { src: { ...open, portId: 'src' }, 'gw-vm': { ...open, portId: 'gw-vm' } });
    expect(step.outcome).toEqual({ kind: 'delivered' });
    expect(step.hops.find((h) => h.fields.nexthop)).toMatchObject({ stage: 'router', fields: { destination: '192.168.0.0/16', nexthop: '10.0.1.5', vni: '101' } });
    expect(step.hops[step.hops.length - 1]).toMatchObject({ stage: 'vnic', fields: { port_id: 'gw-vm' } });
  });
});
