import type { AllocationPool } from '@minicloud/domain-network';

/** A network as stored in Redis (`mc:network:net:<id>`, JSON). Subnet ids live in a set beside it. */
export interface NetworkRecord {
  id: string;
  name: string;
  projectId: string;
  /** vxlan (tenant) or flat (provider). */
  networkType: 'vxlan' | 'flat';
  /** VNI for vxlan, 0 for flat. */
  segmentationId: number;
  mtu: number;
  shared: boolean;
  routerExternal: boolean;
  adminStateUp: boolean;
  status: string;
  createdAtMs: number;
  /** Absent in records written before descriptions were kept. */
  description?: string;
}

/** A subnet (`mc:network:subnet:<id>`, JSON); its allocated IPs are the set `subnet:<id>:ips`. */
export interface SubnetRecord {
  id: string;
  networkId: string;
  projectId: string;
  name: string;
  cidr: string;
  ipVersion: number;
  /** null: no gateway. */
  gatewayIp: string | null;
  allocationPools: AllocationPool[];
  dnsNameservers: string[];
  hostRoutes: { destination: string; nexthop: string }[];
  enableDhcp: boolean;
  createdAtMs: number;
  /** Absent in records written before descriptions were kept. */
  description?: string;
  /** The subnet pool the CIDR came from; absent when none. */
  subnetpoolId?: string;
}

/** A subnet pool (`mc:network:subnetpool:<id>`, JSON), with the CIDRs allocated from it. */
export interface SubnetPoolRecord {
  id: string;
  name: string;
  projectId: string;
  /** Canonical IPv4 CIDRs. */
  prefixes: string[];
  defaultPrefixlen: number;
  minPrefixlen: number;
  maxPrefixlen: number;
  shared: boolean;
  isDefault: boolean;
  /** CIDR -> the subnet id it was allocated to. */
  allocations: Record<string, string>;
  createdAtMs: number;
}

export interface FixedIpRecord {
  subnetId: string;
  ipAddress: string;
}

/** A port (`mc:network:port:<id>`, JSON). */
export interface PortRecord {
  id: string;
  name: string;
  networkId: string;
  projectId: string;
  macAddress: string;
  fixedIps: FixedIpRecord[];
  deviceId: string;
  deviceOwner: string;
  /** binding:host_id; '' when unbound. */
  bindingHostId: string;
  /** DOWN (unbound), ACTIVE (bound). */
  status: 'DOWN' | 'ACTIVE' | 'BUILD';
  securityGroupIds: string[];
  portSecurityEnabled: boolean;
  adminStateUp: boolean;
  createdAtMs: number;
  /** Absent in records written before descriptions were kept. */
  description?: string;
}

/** A security group (`mc:network:sg:<id>`, JSON); its rules are the hash `sg:<id>:rules`. */
export interface SecurityGroupRecord {
  id: string;
  name: string;
  projectId: string;
  description: string;
  stateful: boolean;
  createdAtMs: number;
}

/** A rule as stored in `sg:<group>:rules` (field = rule id). Null = any. */
export interface SecurityGroupRuleRecord {
  id: string;
  securityGroupId: string;
  direction: 'ingress' | 'egress';
  ethertype: 'IPv4' | 'IPv6';
  /** A protocol name (lower case) or number, as domain-network's RuleProtocol. */
  protocol: string | null;
  portRangeMin: number | null;
  portRangeMax: number | null;
  remoteIpPrefix: string | null;
  remoteGroupId: string | null;
  description: string;
}

/** A router (`mc:network:router:<id>`, JSON). Interfaces and the gateway are ports it owns (device_id = router id). */
export interface RouterRecord {
  id: string;
  name: string;
  projectId: string;
  /** '' when no gateway. */
  externalNetworkId: string;
  externalIp: string;
  externalPortId: string;
  /** The external subnet holding externalIp; absent in records written before it was kept. */
  externalSubnetId?: string;
  enableSnat: boolean;
  /** Absent in records written before it was kept: up. */
  adminStateUp?: boolean;
  interfaces: { subnetId: string; portId: string }[];
  /** Static routes (Neutron's extraroute); absent in records written before they were kept: none. */
  routes?: { destination: string; nexthop: string }[];
  status: 'ACTIVE';
  createdAtMs: number;
}

/** A floating IP (`mc:network:fip:<id>`, JSON): an address of the external network held by a port of its own. */
export interface FloatingIpRecord {
  id: string;
  projectId: string;
  floatingNetworkId: string;
  floatingIpAddress: string;
  /** The external-network port that holds the address (device_owner network:floatingip). */
  floatingPortId: string;
  /** Associated port, '' when none. */
  portId: string;
  fixedIpAddress: string;
  routerId: string;
  status: 'ACTIVE' | 'DOWN';
  createdAtMs: number;
  /** Counted in the project's floating_ips quota (released on delete); absent: not counted. */
  quotaCounted?: boolean;
}
