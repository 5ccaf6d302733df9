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
  protocol: 'tcp' | 'udp' | 'icmp' | null;
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
  enableSnat: boolean;
  interfaces: { subnetId: string; portId: string }[];
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
}
