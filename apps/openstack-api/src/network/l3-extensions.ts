/**
 * The Neutron L3 extensions this front serves (aliases and names as neutron-lib's api definitions):
 * routers and floating IPs (router), enable_snat and external_fixed_ips in a router's gateway
 * (ext-gw-mode), subnet pools and subnets allocated from them (subnet_allocation), a router's static
 * routes (extraroute) and their atomic add/remove (extraroute-atomic).
 */
export const L3_EXTENSIONS = [
  { alias: 'router', name: 'Neutron L3 Router', description: 'Router abstraction for basic L3 forwarding between L2 Neutron networks and access to external networks via a NAT gateway.' },
  { alias: 'ext-gw-mode', name: 'Neutron L3 Configurable external gateway mode', description: 'Extension of the router abstraction for specifying whether SNAT should occur on the external gateway' },
  { alias: 'extraroute', name: 'Neutron Extra Route', description: 'Extra routes configuration for L3 router' },
  { alias: 'extraroute-atomic', name: 'Atomically add/remove extra routes', description: 'Edit extra routes of a router on server side by atomically adding/removing extra routes' },
  { alias: 'subnet_allocation', name: 'Subnet Allocation', description: 'Enables allocation of subnets from a subnet pool' },
];
