/**
 * The Grafana dashboards of minicloud, as data: each panel is a title, a unit and PromQL queries.
 * `build-dashboards.ts` renders them to Grafana JSON in deploy/grafana/dashboards/ (committed; a spec
 * checks they are fresh), the observability e2e test evaluates every query against a real run, and
 * `render-png.ts` draws the same queries to PNG for the README.
 *
 * Only metrics that exist today are charted. The controller's gauges come from both replicas with
 * the same values: queries aggregate them with max (or use the recording rules, which do).
 * `$host_id` is the host dashboard's template variable (a regex; the e2e test substitutes `.+`).
 */

/** One query of a panel: PromQL and Grafana's legend template (`{{label}}`). */
export interface PanelQuery {
  expr: string;
  legend: string;
}

/** A panel: `unit` is a Grafana unit id (short, percentunit, s, watt, decmbytes, bytes, reqps, ...). */
export interface PanelDef {
  title: string;
  description: string;
  unit: string;
  kind: 'timeseries' | 'stat';
  queries: PanelQuery[];
}

export interface DashboardDef {
  /** Grafana uid and the JSON file name (`<uid>.json`). */
  uid: string;
  title: string;
  description: string;
  /** Template variables: name -> label_values() query (multi-select, "All" = `.+`). */
  variables?: { name: string; label: string; query: string }[];
  panels: PanelDef[];
}

const q = (expr: string, legend = ''): PanelQuery => ({ expr, legend });
const ts = (title: string, unit: string, description: string, ...queries: PanelQuery[]): PanelDef => ({ title, description, unit, kind: 'timeseries', queries });
const stat = (title: string, unit: string, description: string, ...queries: PanelQuery[]): PanelDef => ({ title, description, unit, kind: 'stat', queries });

const capacity = (resource: 'vcpus' | 'ram_mb' | 'disk_gb', unit: string) =>
  ts(
    `${resource}: capacity vs allocated`,
    unit,
    `Sum over hosts of (total - reserved) * allocation ratio (capacity) and of the claims (allocated), from the controller.`,
    q(`minicloud:compute_${resource}:sum_by_kind`, '{{kind}}'),
  );

export const DASHBOARDS: DashboardDef[] = [
  {
    uid: 'minicloud-overview',
    title: 'minicloud / Cloud overview',
    description: 'Hosts, VMs, capacity, boots and errors of the whole cloud.',
    panels: [
      stat('Hosts by state', 'short', 'Registered compute hosts by liveness state (controller).', q('minicloud:hosts:by_state', '{{state}}')),
      stat('VMs by vm_state', 'short', 'Instances by vm_state (controller).', q('minicloud:instances:by_vm_state', '{{vm_state}}')),
      ts('Processes up', 'short', 'Scrape targets answering, by job.', q('sum by (job) (up)', '{{job}}')),
      capacity('vcpus', 'short'),
      capacity('ram_mb', 'decmbytes'),
      capacity('disk_gb', 'decgbytes'),
      ts('Allocated ratio', 'percentunit', 'Allocated / capacity, cloud-wide.', q('minicloud:compute_vcpus:allocated_ratio', 'vcpus'), q('minicloud:compute_ram_mb:allocated_ratio', 'ram_mb')),
      ts('Boots per second', 'ops', 'Servers reaching ACTIVE per second (create -> ACTIVE).', q('sum(rate(minicloud_compute_boot_seconds_count[1m]))', 'boots/s')),
      ts('Boot time p50 / p95', 's', 'Create -> ACTIVE.', q('histogram_quantile(0.5, sum by (le) (rate(minicloud_compute_boot_seconds_bucket[5m])))', 'p50'), q('minicloud:compute_boot_seconds:p95_5m', 'p95')),
      ts('gRPC calls per second by service', 'reqps', 'Calls handled by every gRPC server.', q('sum by (job) (minicloud:grpc_requests:rate1m)', '{{job}}')),
      ts('gRPC error ratio by service', 'percentunit', 'Share of calls that ended with a status other than OK.', q('minicloud:grpc_error_ratio:rate1m', '{{job}}')),
      ts('gRPC errors per second by code', 'reqps', 'Non-OK calls by status code (absent while there are none).', q('sum by (grpc_code) (minicloud:grpc_requests:rate1m{grpc_code!="OK"}) or label_replace(sum(minicloud:grpc_requests:rate1m) * 0, "grpc_code", "none", "", "")', '{{grpc_code}}')),
    ],
  },
  {
    uid: 'minicloud-host',
    title: 'minicloud / Host detail',
    description: 'One simulated hypervisor host (compute agent): load, resources, power, cache, overlay.',
    variables: [{ name: 'host_id', label: 'Host', query: 'label_values(minicloud_host_power_watts, host_id)' }],
    panels: [
      ts('CPU utilisation', 'percentunit', "Host CPU utilisation from the VMs' workload models.", q('minicloud_host_cpu_utilization_ratio{host_id=~"$host_id"}', '{{host_id}}')),
      ts('vCPUs: logical CPUs vs allocated', 'short', "Agent's view: logical CPUs of the profile and vCPUs of its VMs.", q('minicloud_host_vcpus{host_id=~"$host_id"}', '{{host_id}} {{kind}}')),
      ts('RAM: capacity vs allocated', 'decmbytes', 'MiB of the host profile and of its VMs.', q('minicloud_host_ram_mb{host_id=~"$host_id"}', '{{host_id}} {{kind}}')),
      ts('Disk: capacity vs allocated', 'decgbytes', 'GiB of local disk and of its VMs (virtual sizes).', q('minicloud_host_disk_gb{host_id=~"$host_id"}', '{{host_id}} {{kind}}')),
      ts('Running VMs', 'short', 'VMs in power state running.', q('minicloud_host_running_vms{host_id=~"$host_id"}', '{{host_id}}')),
      ts('Power', 'watt', 'Wall power from the SPECpower model of the profile.', q('minicloud_host_power_watts{host_id=~"$host_id"}', '{{host_id}}')),
      ts('Image cache', 'bytes', 'Bytes of base images cached on the host.', q('minicloud_host_image_cache_bytes{host_id=~"$host_id"}', '{{host_id}}')),
      ts('VM CPU utilisation', 'percentunit', 'Per VM (capped at AGENT_METRICS_MAX_INSTANCES per host).', q('minicloud_instance_cpu_utilization_ratio{host_id=~"$host_id"}', '{{instance_id}}')),
      ts('Spawn time p95', 's', 'Image fetch + overlay + guest boot, simulated seconds.', q('histogram_quantile(0.95, sum by (le, host_id) (rate(minicloud_agent_spawn_seconds_bucket{host_id=~"$host_id"}[5m])))', '{{host_id}}')),
      ts('VTEP FDB entries', 'short', 'FDB entries (l2pop) programmed on the host.', q('minicloud_host_fdb_entries{host_id=~"$host_id"}', '{{host_id}}')),
    ],
  },
  {
    uid: 'minicloud-ha',
    title: 'minicloud / HA',
    description: 'Host liveness, failures detected, fencing and restarts (HA), admission-control reserve.',
    panels: [
      ts('Hosts by state', 'short', 'up, suspect (heartbeats late), failed (heartbeats and lease silent), fenced (epoch bumped, VMs restarted elsewhere), isolated, maintenance.', q('minicloud:hosts:by_state', '{{state}}')),
      ts('HA restarts by result', 'short', 'Restart attempts of the VMs of failed hosts over 10 minutes: placed, active (running again), no_capacity.', q('sum by (result) (increase(minicloud_ha_restarts_total[10m]))', '{{result}}')),
      ts('Failure detection time', 's', 'Last heartbeat -> host failed (p50 / max over 10 minutes).', q('histogram_quantile(0.5, sum by (le) (rate(minicloud_ha_detection_seconds_bucket[10m])))', 'p50'), q('histogram_quantile(1, sum by (le) (rate(minicloud_ha_detection_seconds_bucket[10m])))', 'max')),
      ts('Restart time (fence -> ACTIVE)', 's', 'Fencing to the instance ACTIVE on its new host (p50 / p95 over 10 minutes).', q('histogram_quantile(0.5, sum by (le) (rate(minicloud_ha_restart_seconds_bucket[10m])))', 'p50'), q('histogram_quantile(0.95, sum by (le) (rate(minicloud_ha_restart_seconds_bucket[10m])))', 'p95')),
      ts('Fencings and pending restarts', 'short', 'Hosts fenced in the last 10 minutes; evacuations not finished.', q('sum(increase(minicloud_ha_fencings_total[10m]))', 'fencings (10m)'), q('max(minicloud_ha_pending_restarts)', 'pending restarts')),
      stat('Partition suspected', 'short', '1 while the leader sees every host down at once and restarts nothing.', q('max(minicloud_ha_partition_suspected)', 'partition')),
      ts('Compute agents scraped', 'short', 'Agent processes Prometheus reaches (a killed agent drops to 0).', q('up{job="compute-agent"}', '{{process}}')),
      ts('Headroom after the largest host fails', 'short', 'Admission control (1 host failure tolerated): capacity left once the largest host is gone, minus what is allocated. Below 0, HA restarts cannot all fit.', q('minicloud:compute_vcpus:headroom_after_largest_host_failure', 'vcpus'), q('minicloud:compute_ram_mb:headroom_after_largest_host_failure / 1024', 'ram_gb')),
      ts('VMs by vm_state', 'short', 'Instances by vm_state.', q('minicloud:instances:by_vm_state', '{{vm_state}}')),
      ts('FT servers by ft_state', 'short', 'Fault-tolerant servers: protected (secondary in step), starting, need_secondary (running unprotected), failing_over (docs/fault-tolerance.md).', q('max by (ft_state) (minicloud_ft_servers)', '{{ft_state}}')),
      ts('FT failovers', 'short', 'Over 10 minutes: promoted (the secondary went live) and to_ha (no synchronised secondary: HA restarted it).', q('sum by (result) (increase(minicloud_ft_failovers_total[10m]))', '{{result}}')),
      ts('FT lag and output-commit delay', 's', 'Checkpoint backlog per FT primary (0 when none is protected), and the latency output commit adds to its packets (p50 / p95 over 5 minutes).', q('max by (instance_id) (minicloud_ft_lag_seconds) or on() vector(0)', 'lag {{instance_id}}'), q('histogram_quantile(0.5, sum by (le) (rate(minicloud_ft_output_commit_delay_seconds_bucket[5m])))', 'output commit p50'), q('histogram_quantile(0.95, sum by (le) (rate(minicloud_ft_output_commit_delay_seconds_bucket[5m])))', 'output commit p95')),
    ],
  },
  {
    uid: 'minicloud-scheduler',
    title: 'minicloud / Scheduler',
    description: 'Placement latency, decisions and NoValidHost.',
    panels: [
      ts('Placement latency', 's', 'Schedule + claim of one create request.', ...[0.5, 0.95, 0.99].map((p) => q(`histogram_quantile(${p}, sum by (le) (rate(minicloud_scheduler_placement_seconds_bucket[5m])))`, `p${p * 100}`))),
      ts('Placements per second', 'ops', 'Create requests scheduled (each may place several servers).', q('sum(rate(minicloud_scheduler_placement_seconds_count[1m]))', 'placements/s')),
      ts('NoValidHost per second', 'ops', 'Create requests refused for lack of a host passing the filters.', q('minicloud:scheduler_no_valid_host:rate5m', 'NoValidHost/s')),
      ts('Create calls by status', 'reqps', 'ComputeService CreateServer calls by gRPC status.', q('sum by (grpc_code) (rate(minicloud_grpc_server_handled_total{job="controller",grpc_method=~"(?i)createserver"}[5m]))', '{{grpc_code}}')),
      ts('Allocated ratio per host (vCPUs)', 'percentunit', 'What the weighers spread or pack.', q('max by (host_id) (minicloud_compute_host_vcpus{kind="allocated"}) / max by (host_id) (minicloud_compute_host_vcpus{kind="capacity"})', '{{host_id}}')),
    ],
  },
  {
    uid: 'minicloud-energy',
    title: 'minicloud / Migration & energy',
    description: 'Power, energy and load balance of the hosts (migrations: see the list of panels to add).',
    panels: [
      ts('Cloud power', 'watt', 'Sum of the hosts\' SPECpower-model power.', q('minicloud:host_power_watts:sum', 'watts')),
      ts('Power per host', 'watt', 'Per host.', q('minicloud_host_power_watts', '{{host_id}}')),
      stat('Energy, last hour', 'kwatth', 'Mean power over the last hour / 1000 = kWh used in that hour (less while the cloud has run for less).', q('sum(avg_over_time(minicloud_host_power_watts[1h])) / 1000', 'kWh')),
      stat('Energy since start', 'kwatth', 'Integrated by the agents\' models: sum of minicloud_host_energy_joules_total / 3.6e6.', q('sum(minicloud_host_energy_joules_total) / 3.6e6', 'kWh')),
      ts('Energy per host', 'kwatth', 'Cumulative kWh per host (joules / 3.6e6).', q('minicloud_host_energy_joules_total / 3.6e6', '{{host_id}}')),
      stat('Hosts powered on', 'short', 'Hosts that draw power.', q('count(minicloud_host_power_watts > 0)', 'hosts')),
      ts('CPU utilisation: mean and spread', 'percentunit', 'Mean, min and max host CPU utilisation (what consolidation evens out or packs).', q('minicloud:host_cpu_utilization_ratio:avg', 'mean'), q('min(minicloud_host_cpu_utilization_ratio)', 'min'), q('max(minicloud_host_cpu_utilization_ratio)', 'max')),
    ],
  },
  {
    uid: 'minicloud-overlay',
    title: 'minicloud / Overlay',
    description: 'VXLAN overlay: networks, ports and l2pop FDB state.',
    panels: [
      stat('Networks', 'short', 'Networks (one VNI each).', q('max(minicloud_network_networks)', 'networks')),
      ts('Ports by status', 'short', 'Neutron-style ports by status.', q('max by (status) (minicloud_network_ports)', '{{status}}')),
      ts('FDB entries per host (network service)', 'short', 'l2pop FDB entries the network service computed for each VTEP.', q('max by (host_id) (minicloud_network_fdb_entries)', '{{host_id}}')),
      ts('FDB entries per host (agents)', 'short', 'FDB entries the agents have programmed; should match the line above.', q('minicloud_host_fdb_entries', '{{host_id}}')),
      ts('Network API calls per second', 'reqps', 'NetworkService calls by method.', q('sum by (grpc_method) (rate(minicloud_grpc_server_handled_total{job="network"}[1m])) > 0 or label_replace(sum(rate(minicloud_grpc_server_handled_total{job="network"}[1m])) * 0, "grpc_method", "none", "", "")', '{{grpc_method}}')),
    ],
  },
];

/** Every PromQL query of every dashboard, with `$var` replaced by `.+` (All), labelled for error messages. */
export function allQueries(dashboards: DashboardDef[] = DASHBOARDS): { where: string; expr: string }[] {
  return dashboards.flatMap((d) =>
    d.panels.flatMap((p) =>
      p.queries.map((qq, i) => ({ where: `${d.title} › ${p.title} [${String.fromCharCode(65 + i)}]`, expr: substituteVariables(qq.expr) })),
    ),
  );
}

/** Replaces Grafana template variables (`$name`, `${name}`) by `.+`, the "All" value of a regex matcher. */
export function substituteVariables(expr: string): string {
  return expr.replace(/\$\{?(\w+)\}?/g, '.+');
}
