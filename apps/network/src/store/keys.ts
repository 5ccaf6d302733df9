import { keyspace } from '@minicloud/platform-state';

const k = keyspace('network');

/**
 * Every Redis key of the network service (`mc:network:...`). Sets named `...s` are indexes that
 * Redis drops by itself once empty. What is left once every resource is deleted:
 * `vtep:<host>` + `vteps` (registered hosts' VTEPs, like Neutron's agents table) and
 * `fdbgen:<host>` (per-host FDB generation counters, monotonic on purpose) and `l2pop:indexed`.
 * Hashes (the l2pop index) are dropped by Redis once empty too.
 */
export const keys = {
  network: (id: string) => k('net', id),
  networks: () => k('nets'),
  networkSubnets: (id: string) => k('net', id, 'subnets'),
  networkPorts: (id: string) => k('net', id, 'ports'),
  /** l2pop index: hash host id -> how many ports are bound to that host on the network. */
  networkHosts: (id: string) => k('net', id, 'hosts'),
  /** l2pop index: hash port id -> JSON {hostId, macAddress, ipAddresses} of each bound port of the network. */
  networkBindings: (id: string) => k('net', id, 'bindings'),
  /** Claim of a VNI: value = network id. */
  vni: (vni: number) => k('vni', vni),
  subnet: (id: string) => k('subnet', id),
  subnets: () => k('subnets'),
  subnetIps: (id: string) => k('subnet', id, 'ips'),
  subnetPool: (id: string) => k('subnetpool', id),
  subnetPools: () => k('subnetpools'),
  /** Claim of one IP of a subnet: value = port id. */
  ip: (subnetId: string, ip: string) => k('ip', subnetId, ip),
  port: (id: string) => k('port', id),
  ports: () => k('ports'),
  /** Hash project id -> how many ports it holds, kept by the port create and delete transactions (the port quota's usage). */
  projectPortCounts: () => k('ports', 'by_project'),
  /** Set once projectPortCounts was counted from every port record. */
  projectPortCountsComplete: () => k('ports', 'by_project', 'complete'),
  /** Claim of a MAC address (unique in the whole cloud): value = port id. */
  mac: (mac: string) => k('mac', mac),
  devicePorts: (deviceId: string) => k('device', deviceId, 'ports'),
  hostPorts: (hostId: string) => k('host', hostId, 'ports'),
  vtep: (hostId: string) => k('vtep', hostId),
  vteps: () => k('vteps'),
  fdbGeneration: (hostId: string) => k('fdbgen', hostId),
  /** Set once the l2pop index (networkHosts, networkBindings) was built from every port record. */
  l2popIndexed: () => k('l2pop', 'indexed'),
  securityGroup: (id: string) => k('sg', id),
  securityGroups: () => k('sgs'),
  securityGroupRules: (id: string) => k('sg', id, 'rules'),
  securityGroupPorts: (id: string) => k('sg', id, 'ports'),
  /** Rule id -> its group id. */
  securityGroupRule: (ruleId: string) => k('sgrule', ruleId),
  /** Project id -> id of its default security group. */
  defaultSecurityGroup: (projectId: string) => k('sgdefault', projectId),
  router: (id: string) => k('router', id),
  routers: () => k('routers'),
  floatingIp: (id: string) => k('fip', id),
  floatingIps: () => k('fips'),
  /** Claim: a port has at most one floating IP; value = floating IP id. */
  floatingIpOfPort: (portId: string) => k('fipport', portId),
};
