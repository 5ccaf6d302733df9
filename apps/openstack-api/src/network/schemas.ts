/** JSON schemas of the Neutron v2.0 request bodies served (neutron-lib's attribute maps, reduced). */

const id = { type: 'string', minLength: 1, maxLength: 255 } as const;
const name = { type: 'string', maxLength: 255 } as const;

/**
 * The body of a Neutron create: `{"<resource>": {...}}` with the resource's own attributes plus the
 * ones every resource takes (description, and project_id/tenant_id for an admin creating on behalf
 * of a project); unknown attributes are refused (Neutron: "Unrecognized attribute(s)").
 */
export function createBody<P extends Record<string, unknown>>(resource: string, required: readonly string[], properties: P) {
  return {
    type: 'object',
    required: [resource],
    properties: {
      [resource]: {
        type: 'object',
        required,
        properties: { ...properties, description: { type: 'string', maxLength: 255 }, project_id: id, tenant_id: id },
        additionalProperties: false,
      },
    },
    additionalProperties: false,
  } as const;
}

export const createNetworkBody = createBody('network', [], {
  name,
  admin_state_up: { type: 'boolean' },
  shared: { type: 'boolean' },
  'router:external': { type: 'boolean' },
  mtu: { type: 'integer', minimum: 68, maximum: 9216 },
  'provider:network_type': { type: 'string', enum: ['vxlan', 'flat'] },
  'provider:segmentation_id': { type: 'integer', minimum: 1, maximum: 16777215 },
  port_security_enabled: { type: 'boolean' },
});

export interface CreateNetworkBody {
  network: {
    name?: string;
    shared?: boolean;
    'router:external'?: boolean;
    mtu?: number;
    'provider:network_type'?: string;
    'provider:segmentation_id'?: number;
    project_id?: string;
    tenant_id?: string;
    description?: string;
  };
}

const pool = { type: 'object', required: ['start', 'end'], properties: { start: { type: 'string' }, end: { type: 'string' } }, additionalProperties: false } as const;
const route = { type: 'object', required: ['destination', 'nexthop'], properties: { destination: { type: 'string' }, nexthop: { type: 'string' } }, additionalProperties: false } as const;

/** The subnet attributes create and update share (Neutron's address plan of a subnet). */
const subnetPlanFields = {
  gateway_ip: { type: ['string', 'null'], maxLength: 64 },
  allocation_pools: { type: 'array', items: pool },
  dns_nameservers: { type: 'array', items: { type: 'string', maxLength: 64 } },
  host_routes: { type: 'array', items: route },
  enable_dhcp: { type: 'boolean' },
} as const;

export const createSubnetBody = createBody('subnet', ['network_id'], {
  subnetpool_id: id,
  // neutron-lib converts prefixlen with convert_to_int: clients send "26" as well as 26
  prefixlen: { anyOf: [{ type: 'integer', minimum: 1, maximum: 32 }, { type: 'string', pattern: '^[0-9]{1,2}$' }] },
  network_id: id,
  name,
  cidr: { type: 'string', minLength: 1, maxLength: 64 },
  ip_version: { type: 'integer', enum: [4, 6] },
  ...subnetPlanFields,
});

export interface CreateSubnetBody {
  subnet: {
    network_id: string;
    name?: string;
    /** Absent when allocated from subnetpool_id. */
    cidr?: string;
    subnetpool_id?: string;
    prefixlen?: number | string;
    ip_version?: number;
    gateway_ip?: string | null;
    allocation_pools?: { start: string; end: string }[];
    dns_nameservers?: string[];
    host_routes?: { destination: string; nexthop: string }[];
    enable_dhcp?: boolean;
    description?: string;
  };
}

export const createPortBody = createBody('port', ['network_id'], {
  network_id: id,
  name,
  fixed_ips: {
    type: 'array',
    items: { type: 'object', properties: { subnet_id: id, ip_address: { type: 'string', maxLength: 64 } }, additionalProperties: false },
  },
  device_id: { type: 'string', maxLength: 255 },
  device_owner: { type: 'string', maxLength: 255 },
  security_groups: { type: 'array', items: id },
  port_security_enabled: { type: 'boolean' },
  mac_address: { type: 'string', maxLength: 32 },
  admin_state_up: { type: 'boolean' },
});

export interface CreatePortBody {
  port: {
    network_id: string;
    name?: string;
    fixed_ips?: { subnet_id?: string; ip_address?: string }[];
    device_id?: string;
    device_owner?: string;
    security_groups?: string[];
    port_security_enabled?: boolean;
    mac_address?: string;
    project_id?: string;
    tenant_id?: string;
    description?: string;
  };
}

/** The body of a Neutron update: `{"<resource>": {...}}` with the attributes the resource lets change. */
function updateBody<P extends Record<string, unknown>>(resource: string, properties: P) {
  return {
    type: 'object',
    required: [resource],
    properties: { [resource]: { type: 'object', properties, additionalProperties: false } },
    additionalProperties: false,
  } as const;
}

export const updateNetworkBody = updateBody('network', { name, description: { type: 'string', maxLength: 255 }, admin_state_up: { type: 'boolean' }, shared: { type: 'boolean' } });

export interface UpdateNetworkBody {
  network: { name?: string; description?: string; admin_state_up?: boolean; shared?: boolean };
}

export const updateSubnetBody = updateBody('subnet', {
  name,
  description: { type: 'string', maxLength: 255 },
  ...subnetPlanFields,
});

export interface UpdateSubnetBody {
  subnet: {
    name?: string;
    gateway_ip?: string | null;
    allocation_pools?: { start: string; end: string }[];
    dns_nameservers?: string[];
    host_routes?: { destination: string; nexthop: string }[];
    enable_dhcp?: boolean;
    description?: string;
  };
}

export const updatePortBody = updateBody('port', {
  name,
  description: { type: 'string', maxLength: 255 },
  admin_state_up: { type: 'boolean' },
  security_groups: { type: ['array', 'null'], items: id },
  port_security_enabled: { type: 'boolean' },
  device_id: { type: 'string', maxLength: 255 },
  device_owner: { type: 'string', maxLength: 255 },
  fixed_ips: {
    type: 'array',
    items: { type: 'object', properties: { subnet_id: id, ip_address: { type: 'string', maxLength: 64 } }, additionalProperties: false },
  },
});

export interface UpdatePortBody {
  port: {
    name?: string;
    admin_state_up?: boolean;
    security_groups?: string[] | null;
    port_security_enabled?: boolean;
    device_id?: string;
    device_owner?: string;
    fixed_ips?: { subnet_id?: string; ip_address?: string }[];
    description?: string;
  };
}
