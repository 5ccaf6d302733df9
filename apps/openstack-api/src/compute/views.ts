import { compute } from '@minicloud/proto';

/** Where compute links point: the versioned endpoint (self) and the unversioned one (bookmark). */
export interface ComputeUrls {
  /** e.g. http://host:port/compute/v2.1 */
  versioned: string;
  /** e.g. http://host:port/compute */
  bookmark: string;
}

function links(urls: ComputeUrls, collection: string, id: string) {
  return [
    { rel: 'self', href: `${urls.versioned}/${collection}/${id}` },
    { rel: 'bookmark', href: `${urls.bookmark}/${collection}/${id}` },
  ];
}

/** Nova's timestamp form in server bodies: ISO 8601 UTC to the second ("2026-12-07T01:02:03Z"). */
export function novaTime(d: Date | undefined): string | null {
  return d ? d.toISOString().replace(/\.\d{3}Z$/, 'Z') : null;
}

/** Nova's launched_at form: no zone, microseconds ("2026-12-07T01:02:03.000000"). */
function launchedTime(d: Date | undefined): string | null {
  return d ? d.toISOString().replace(/\.(\d{3})Z$/, '.$1000') : null;
}

/** An enum value's Nova name: VM_STATE_ACTIVE -> "active", TASK_STATE_POWERING_OFF -> "powering_off". */
function stateName(names: Record<number, string>, value: number, prefix: string): string {
  return (names[value] ?? '').replace(prefix, '').toLowerCase();
}

/** Nova's power_state integers (nova/compute/power_state.py). */
const POWER_STATE_CODES: Record<number, number> = {
  [compute.PowerState.POWER_STATE_UNSPECIFIED]: 0,
  [compute.PowerState.POWER_STATE_NOSTATE]: 0,
  [compute.PowerState.POWER_STATE_RUNNING]: 1,
  [compute.PowerState.POWER_STATE_PAUSED]: 3,
  [compute.PowerState.POWER_STATE_SHUTDOWN]: 4,
  [compute.PowerState.POWER_STATE_CRASHED]: 6,
  [compute.PowerState.POWER_STATE_SUSPENDED]: 7,
};

/** A flavor in a list (`GET /flavors`): id, name, links. */
export function flavorSummary(f: compute.Flavor, urls: ComputeUrls): Record<string, unknown> {
  return { id: f.id, name: f.name, links: links(urls, 'flavors', f.id) };
}

/** A flavor in full (2.1: no description or extra_specs in the body; swap "" when none). */
export function flavorDetail(f: compute.Flavor, urls: ComputeUrls): Record<string, unknown> {
  return {
    id: f.id,
    name: f.name,
    ram: f.ramMb,
    disk: f.diskGb,
    vcpus: f.vcpus,
    swap: f.swapMb || '',
    'OS-FLV-EXT-DATA:ephemeral': f.ephemeralGb,
    'OS-FLV-DISABLED:disabled': false,
    rxtx_factor: f.rxtxFactor || 1.0,
    'os-flavor-access:is_public': f.isPublic,
    links: links(urls, 'flavors', f.id),
  };
}

/** A server in a list (`GET /servers`): id, name, links. */
export function serverSummary(s: compute.Server, urls: ComputeUrls): Record<string, unknown> {
  return { id: s.id, name: s.name, links: links(urls, 'servers', s.id) };
}

/** Nova's ips view (GET /servers/{id}/ips): per network name, each address's version and addr only. */
export function ipsView(addresses: readonly compute.ServerAddress[]): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const a of addresses) (out[a.networkName || a.networkId] ??= []).push({ version: a.ipAddress.includes(':') ? 6 : 4, addr: a.ipAddress });
  return out;
}

/** `addresses`: per network name, Nova's address objects (version, addr, OS-EXT-IPS:type, OS-EXT-IPS-MAC:mac_addr). */
export function addressesView(addresses: readonly compute.ServerAddress[]): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const a of addresses) {
    const key = a.networkName || a.networkId;
    (out[key] ??= []).push({
      version: a.ipAddress.includes(':') ? 6 : 4,
      addr: a.ipAddress,
      'OS-EXT-IPS:type': a.type || 'fixed',
      'OS-EXT-IPS-MAC:mac_addr': a.macAddress,
    });
  }
  return out;
}

/** Nova shows `progress` only in these statuses (nova/api/openstack/compute/views/servers.py). */
const PROGRESS_STATUSES = new Set(['ACTIVE', 'BUILD', 'REBUILD', 'RESIZE', 'VERIFY_RESIZE', 'MIGRATING']);

/**
 * A server as Nova 2.1 answers an update (PUT /servers/{id}) or a rebuild: the core fields without
 * the extension attributes (OS-EXT-*, OS-SRV-USG, key_name, security_groups, config_drive,
 * volumes_attached), as Nova's view builder with every `show_*` off.
 */
export function serverBasic(s: compute.Server, urls: ComputeUrls): Record<string, unknown> {
  // Nova's basic view leaves the OS-EXT-IPS attributes out of the addresses too
  return withStatusExtras(s, serverCore(s, urls, ipsView(s.addresses)));
}

/** The fields every server view shares (Nova's view builder core), with `addresses` as the caller renders them. */
function serverCore(s: compute.Server, urls: ComputeUrls, addresses: unknown): Record<string, unknown> {
  return {
    id: s.id,
    name: s.name,
    status: s.status || 'UNKNOWN',
    tenant_id: s.projectId,
    user_id: s.userId,
    metadata: s.metadata,
    hostId: '',
    image: s.imageId ? { id: s.imageId, links: [{ rel: 'bookmark', href: `${urls.bookmark}/images/${s.imageId}` }] } : '',
    flavor: s.flavor ? { id: s.flavor.id, links: [{ rel: 'bookmark', href: `${urls.bookmark}/flavors/${s.flavor.id}` }] } : {},
    created: novaTime(s.createdAt),
    updated: novaTime(s.updatedAt ?? s.createdAt),
    addresses,
    accessIPv4: s.accessIpV4,
    accessIPv6: s.accessIpV6,
    links: links(urls, 'servers', s.id),
    'OS-DCF:diskConfig': 'MANUAL',
  };
}

/** `progress` in the statuses Nova shows it, and the fault of a server in ERROR (build failures are code 500 in Nova). */
function withStatusExtras(s: compute.Server, body: Record<string, unknown>): Record<string, unknown> {
  if (PROGRESS_STATUSES.has(String(body.status))) body.progress = 0;
  if (s.fault && s.vmState === compute.VmState.VM_STATE_ERROR) {
    body.fault = { code: 500, message: s.fault.message, created: novaTime(s.updatedAt ?? s.createdAt) };
  }
  return body;
}

/**
 * A server as Nova 2.1 shows it (GET /servers/{id}, /servers/detail): `status` is the one status the
 * controller derives from vm_state and task_state; OS-EXT-STS:* carry the three states as Nova names
 * them; the OS-EXT-SRV-ATTR:* host fields appear when the controller reveals the host (admins);
 * `securityGroups` are the names of its ports' groups (read from the network service by the caller);
 * none: no `security_groups` key, as Nova.
 */
export function serverDetail(s: compute.Server, urls: ComputeUrls, securityGroups: readonly string[]): Record<string, unknown> {
  const taskState = s.taskState === compute.TaskState.TASK_STATE_UNSPECIFIED ? null : stateName(compute.TaskState, s.taskState, 'TASK_STATE_');
  const body: Record<string, unknown> = {
    ...serverCore(s, urls, addressesView(s.addresses)),
    'OS-EXT-AZ:availability_zone': s.availabilityZone,
    config_drive: '',
    key_name: s.keyName || null,
    'OS-SRV-USG:launched_at': launchedTime(s.launchedAt),
    'OS-SRV-USG:terminated_at': null,
    // Nova's view builder adds security_groups only when the server's ports have some
    ...(securityGroups.length > 0 ? { security_groups: securityGroups.map((name) => ({ name })) } : {}),
    'OS-EXT-STS:task_state': taskState,
    'OS-EXT-STS:vm_state': stateName(compute.VmState, s.vmState, 'VM_STATE_') || null,
    'OS-EXT-STS:power_state': POWER_STATE_CODES[s.powerState] ?? 0,
    'os-extended-volumes:volumes_attached': s.volumesAttached.map((v) => ({ id: v.volumeId })),
  };
  if (s.hostId) {
    body['OS-EXT-SRV-ATTR:host'] = s.hostId;
    body['OS-EXT-SRV-ATTR:hypervisor_hostname'] = s.hostId;
    body['OS-EXT-SRV-ATTR:instance_name'] = `instance-${s.id.slice(0, 8)}`;
  }
  return withStatusExtras(s, body);
}
