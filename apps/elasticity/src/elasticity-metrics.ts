import { Gauge, type Registry } from '@minicloud/platform-metrics';
import type { GroupFigures } from './reconcile/group-reconciler';

/**
 * The service's gauges, set by each reconcile (labels are ids the service made, never caller text):
 * minicloud_elasticity_offered_requests_per_second{scaling_group_id},
 * minicloud_elasticity_pool_response_seconds{scaling_group_id,quantile} (0.5, 0.99),
 * minicloud_elasticity_group_desired_capacity / _group_in_service_instances{scaling_group_id},
 * minicloud_elasticity_member_cpu_utilization_ratio{scaling_group_id,server_id}.
 * @returns the callback the reconciler reports its figures to
 */
export function registerElasticityMetrics(registry: Registry): (f: GroupFigures) => void {
  const registers = [registry];
  const offered = new Gauge({ name: 'minicloud_elasticity_offered_requests_per_second', help: 'Requests/s the listener of a scaling group pool offers (modelled).', labelNames: ['scaling_group_id'], registers });
  const response = new Gauge({ name: 'minicloud_elasticity_pool_response_seconds', help: 'Modelled response time quantiles of the pool (M/M/c per member).', labelNames: ['scaling_group_id', 'quantile'], registers });
  const desired = new Gauge({ name: 'minicloud_elasticity_group_desired_capacity', help: 'Desired capacity of a scaling group.', labelNames: ['scaling_group_id'], registers });
  const inService = new Gauge({ name: 'minicloud_elasticity_group_in_service_instances', help: 'Instances in service in a scaling group.', labelNames: ['scaling_group_id'], registers });
  const cpu = new Gauge({ name: 'minicloud_elasticity_member_cpu_utilization_ratio', help: 'CPU demand of a member server from its traffic, 0..1 of its vCPUs.', labelNames: ['scaling_group_id', 'server_id'], registers });
  return (f) => {
    offered.set({ scaling_group_id: f.groupId }, f.offeredRps);
    response.set({ scaling_group_id: f.groupId, quantile: '0.5' }, f.p50Seconds);
    response.set({ scaling_group_id: f.groupId, quantile: '0.99' }, f.p99Seconds);
    desired.set({ scaling_group_id: f.groupId }, f.desiredCapacity);
    inService.set({ scaling_group_id: f.groupId }, f.inService);
    for (const [serverId, pct] of f.memberCpuPercent) cpu.set({ scaling_group_id: f.groupId, server_id: serverId }, pct / 100);
  };
}
