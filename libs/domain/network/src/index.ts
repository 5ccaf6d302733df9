/**
 * @minicloud/domain-network: pure networking logic for the network service (Neutron-like) and the
 * agents' virtual switch: IPv4 addressing and IPAM, VXLAN VNIs and MTU, MAC addresses, l2population
 * FDB and ARP responder tables, security group evaluation. IPv4 only.
 */
export { IPV4_ADDRESS_COUNT, intToIp, ipToInt, isValidIpv4 } from './ipv4';
export { assertNoCidrOverlap, cidrContains, cidrsOverlap, parseCidr, prefixToMask, type Ipv4Cidr } from './cidr';
export { allocateSubnetCidr, cidrWithin } from './subnet-allocation';
export * from './ipam';
export {
  VNI_MAX,
  VNI_MIN,
  assertValidVni,
  isValidVni,
  parseVniRange,
  pickVni,
  vniRangeSize,
  type VniRange,
} from './segmentation';
export { MIN_IPV4_MTU_BYTES, VXLAN_OVERHEAD_BYTES, VXLAN_UDP_PORT, tenantMtu } from './vxlan';
export { BROADCAST_MAC, DEFAULT_BASE_MAC, ZERO_MAC, generateMac, isMulticastMac, normaliseMac } from './mac';
export {
  FLOODING_IP,
  FLOODING_MAC,
  compareFdbEntries,
  computeFdb,
  computeHostFdb,
  networksReachedByRouters,
  fdbEntryKey,
  isFloodingEntry,
  type FdbEntry,
  type PortBinding,
  type VtepMap,
} from './fdb';
export { applyFdbDiff, diffFdb, type FdbDiff } from './fdb-diff';
export {
  EMPTY_FDB_DELTA,
  FdbSequencer,
  MAX_HELD_FDB_DELTAS,
  applyFdbDelta,
  fdbDeltaFor,
  type BindingSide,
  type FdbDelta,
  type FdbUpdateAction,
  type PortBindingChange,
} from './fdb-delta';
export { arpResponderFromFdb, computeArpResponder, type ArpResponderTable } from './arp-responder';
export {
  evaluate,
  normaliseRemoteIpPrefix,
  ruleIdentity,
  ruleMatches,
  validateSecurityGroupRule,
  type Direction,
  type Ethertype,
  type GroupMembership,
  type Packet,
  type RuleProtocol,
  type SecurityGroupRule,
  type Verdict,
} from './security-group';
export { IP_PROTOCOL_NUMBERS, ipProtocolNumber, isIcmp, takesPortRange } from './ip-protocol';
export { formatIpv6Cidr, parseIpv6, parseIpv6Cidr, type Ipv6Cidr } from './ipv6';
export { DEFAULT_SECURITY_GROUP_NAME, defaultSecurityGroupRules, newSecurityGroupRules } from './default-security-group';
export { computeHostLocalPorts } from './local-ports';
export { DEFAULT_PROBE_SIZE_BYTES, encapsulate, flowSourcePort, type InnerFrame, type VxlanFrame } from './vxlan-encap';
export { checkFirewall, describeRule, type FirewallDecision, type PortFirewall } from './firewall';
export { inCidr, routeOffLink, type FloatingIpView, type L3Context, type RouteDecision, type RouterInterfaceView, type RouterView } from './l3';
export {
  receiveAtVtep,
  traceFromExternal,
  traceFromVnic,
  type Firewalls,
  type Probe,
  type SwitchView,
  type TraceHop,
  type TraceOutcome,
  type TraceStage,
  type TraceStep,
} from './trace';
export { overlayTraceSubject, vtepSubject, type OverlayTraceReply, type OverlayTraceRequest, type VtepFrameMessage } from './overlay-protocol';
export {
  MAX_ROUTES,
  lookupRoute,
  normaliseRoutes,
  routesVia,
  validateRoutes,
  type ConnectedNetworks,
  type RouteEntry,
  type RouteOrigin,
  type StaticRoute,
} from './routing-table';
