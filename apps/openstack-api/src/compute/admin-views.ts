import { compute } from '@minicloud/proto';

/**
 * Nova's timestamp form in admin bodies (services, aggregates, migrations, instance actions, usage):
 * ISO 8601 without zone, microseconds ("2026-12-07T01:02:03.000000"); null when unknown.
 */
export function novaMicroTime(d: Date | undefined): string | null {
  return d ? d.toISOString().replace(/\.(\d{3})Z$/, '.$1000') : null;
}

/** A host's service liveness as Nova reports it: "up" while it heartbeats (also suspect or in maintenance). */
export function hostLiveness(h: compute.Host): 'up' | 'down' {
  const alive = [compute.HostState.HOST_STATE_UP, compute.HostState.HOST_STATE_SUSPECT, compute.HostState.HOST_STATE_MAINTENANCE];
  return alive.includes(h.state) ? 'up' : 'down';
}

const used = (r: compute.ResourceInventory | undefined) => Number(r?.allocated ?? 0);
const total = (r: compute.ResourceInventory | undefined) => Number(r?.total ?? 0);

/**
 * A hypervisor in a list (`GET /os-hypervisors`): id, hypervisor_hostname, state, status. The host id
 * is also its name (service host, hypervisor_hostname), as in the servers' OS-EXT-SRV-ATTR:host:
 * simulated hosts' hostnames need not be unique, Nova's service host names are.
 */
export function hypervisorSummary(h: compute.Host): Record<string, unknown> {
  return { id: h.id, hypervisor_hostname: h.id, state: hostLiveness(h), status: h.enabled ? 'enabled' : 'disabled' };
}

/**
 * A hypervisor in full (2.1 fields): physical vcpus/memory_mb/local_gb, what is allocated to guests
 * as *_used (vcpus_used, memory_mb_used, local_gb_used), free_* as physical minus allocated, the
 * host's compute service.
 */
export function hypervisorDetail(h: compute.Host): Record<string, unknown> {
  return {
    ...hypervisorSummary(h),
    vcpus: total(h.vcpus),
    vcpus_used: used(h.vcpus),
    memory_mb: total(h.ramMb),
    memory_mb_used: used(h.ramMb),
    free_ram_mb: total(h.ramMb) - used(h.ramMb),
    local_gb: total(h.diskGb),
    local_gb_used: used(h.diskGb),
    free_disk_gb: total(h.diskGb) - used(h.diskGb),
    disk_available_least: total(h.diskGb) - used(h.diskGb),
    running_vms: h.runningVms,
    current_workload: 0,
    hypervisor_type: h.hypervisorType || 'QEMU',
    hypervisor_version: 1,
    host_ip: h.tunnelIp,
    cpu_info: JSON.stringify({ model: h.cpuModel, vendor: '', arch: 'x86_64', features: [], topology: {} }),
    service: { host: h.id, id: Number(h.serviceId), disabled_reason: h.disabledReason || null },
  };
}

/** `GET /os-hypervisors/statistics`: the sums of every hypervisor's detail. */
export function hypervisorStatistics(hosts: readonly compute.Host[]): Record<string, number> {
  const keys = ['vcpus', 'vcpus_used', 'memory_mb', 'memory_mb_used', 'free_ram_mb', 'local_gb', 'local_gb_used', 'free_disk_gb', 'disk_available_least', 'running_vms', 'current_workload'];
  const out: Record<string, number> = Object.fromEntries(keys.map((k) => [k, 0]));
  for (const h of hosts) {
    const d = hypervisorDetail(h);
    for (const k of keys) out[k] += Number(d[k]);
  }
  return { count: hosts.length, ...out };
}

/**
 * A host's compute service as Nova's os-services shows it before 2.53 (integer id, binary
 * nova-compute, zone, status, state).
 */
export function serviceView(h: compute.Host): Record<string, unknown> {
  return {
    id: Number(h.serviceId),
    binary: 'nova-compute',
    host: h.id,
    zone: h.availabilityZone || 'nova',
    status: h.enabled ? 'enabled' : 'disabled',
    state: hostLiveness(h),
    updated_at: novaMicroTime(h.lastHeartbeatAt),
    disabled_reason: h.disabledReason || null,
  };
}

/**
 * An aggregate as Nova shows it before 2.41 (integer id, no uuid): the create answer has no hosts or
 * metadata (`created`), every other answer lists hosts by their service host name (the controller's
 * host id) and the metadata.
 */
export function aggregateView(a: compute.Aggregate, form: 'full' | 'created' = 'full'): Record<string, unknown> {
  const base: Record<string, unknown> = {
    id: Number(a.numericId),
    name: a.name,
    availability_zone: a.availabilityZone || null,
    created_at: novaMicroTime(a.createdAt),
    updated_at: novaMicroTime(a.updatedAt),
    deleted_at: null,
    deleted: false,
  };
  return form === 'created' ? base : { ...base, hosts: a.hostIds, metadata: a.metadata };
}

/** A server group at 2.1: `policies` is a list of one policy; metadata is always empty. */
export function serverGroupView(g: compute.ServerGroup): Record<string, unknown> {
  return { id: g.id, name: g.name, policies: [g.policy], members: g.memberIds, metadata: {} };
}

/** A migration at 2.1 (no migration_type or links before 2.23). */
export function migrationView(m: compute.Migration): Record<string, unknown> {
  return {
    id: m.id,
    instance_uuid: m.instanceId,
    status: m.status,
    source_compute: m.sourceHostId,
    source_node: m.sourceHostId,
    dest_compute: m.destHostId || null,
    dest_node: m.destHostId || null,
    dest_host: null,
    old_instance_type_id: null,
    new_instance_type_id: null,
    created_at: novaMicroTime(m.createdAt),
    updated_at: novaMicroTime(m.updatedAt),
  };
}

/** An instance action (2.1 fields); `events` (admin only in Nova) only in the show form. */
export function instanceActionView(a: compute.InstanceAction, withEvents = false): Record<string, unknown> {
  const body: Record<string, unknown> = {
    action: a.action,
    instance_uuid: a.instanceId,
    request_id: a.requestId,
    user_id: a.userId,
    project_id: a.projectId,
    start_time: novaMicroTime(a.startTime),
    message: a.message || null,
  };
  if (withEvents) {
    body.events = [
      {
        event: `compute_${a.action.replace(/-/g, '_')}`,
        start_time: novaMicroTime(a.startTime),
        finish_time: novaMicroTime(a.finishTime),
        result: a.result || null,
        traceback: null,
      },
    ];
  }
  return body;
}

/** A volume attachment at 2.1: the attachment id is the volume id. */
export function volumeAttachmentView(serverId: string, v: compute.VolumeAttachment): Record<string, unknown> {
  return { id: v.volumeId, serverId, volumeId: v.volumeId, device: v.deviceName || null };
}
