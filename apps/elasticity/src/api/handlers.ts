import { InvalidArgumentError } from '@minicloud/domain-errors';
import type { HealthMonitorType } from '@minicloud/domain-elasticity';
import { isCloudAdmin } from '@minicloud/platform-auth';
import { service, type CallContext, type ServiceRegistration, withInputLimits } from '@minicloud/platform-grpc';
import { elasticity } from '@minicloud/proto';
import type { LoadBalancers } from '../load-balancers';
import type { Pools } from '../pools';
import type { ScalingGroups } from '../scaling-groups';
import type { Caller } from '../store/record-store';
import { listenerToProto, loadBalancerToProto, memberToProto, poolToProto, scalingGroupToProto, scalingPolicyToProto, trafficSourceFromProto } from './mapping';

function callerOf(ctx: CallContext): Caller {
  return { projectId: ctx.auth?.projectId ?? '', admin: isCloudAdmin(ctx.auth), token: ctx.token };
}

/** The resource modules the handlers call (built by wire.ts). */
export interface ElasticityLogic {
  loadBalancers: LoadBalancers;
  pools: Pools;
  groups: ScalingGroups;
}

/**
 * minicloud.elasticity.v1.ElasticityService over the resource modules. Roles come from the central
 * policy table (reads reader, writes member); project scoping is the modules' (another project's
 * resource is NOT_FOUND).
 */
export function elasticityService(l: ElasticityLogic): ServiceRegistration {
  return service({
    definition: elasticity.ElasticityServiceService,
    handlers: withInputLimits(elasticity.ElasticityServiceService, {
      async createLoadBalancer(req, ctx) {
        return { loadBalancer: loadBalancerToProto(await l.loadBalancers.create(callerOf(ctx), { name: req.name, vipSubnetId: req.vipSubnetId })) };
      },
      async getLoadBalancer(req, ctx) {
        return { loadBalancer: loadBalancerToProto(await l.loadBalancers.get(callerOf(ctx), req.loadBalancerId)) };
      },
      async listLoadBalancers(_req, ctx) {
        return { loadBalancers: (await l.loadBalancers.list(callerOf(ctx))).map(loadBalancerToProto) };
      },
      async deleteLoadBalancer(req, ctx) {
        await l.loadBalancers.delete(callerOf(ctx), req.loadBalancerId, req.cascade);
        return {};
      },
      async createListener(req, ctx) {
        return { listener: listenerToProto(await l.loadBalancers.createListener(callerOf(ctx), { loadBalancerId: req.loadBalancerId, name: req.name, protocol: req.protocol, protocolPort: req.protocolPort })) };
      },
      async listListeners(req, ctx) {
        return { listeners: (await l.loadBalancers.listListeners(callerOf(ctx), req.loadBalancerId)).map(listenerToProto) };
      },
      async deleteListener(req, ctx) {
        await l.loadBalancers.deleteListener(callerOf(ctx), req.listenerId);
        return {};
      },
      async setTrafficSource(req, ctx) {
        return { listener: listenerToProto(await l.loadBalancers.setTrafficSource(callerOf(ctx), req.listenerId, trafficSourceFromProto(req.trafficSource))) };
      },
      async createPool(req, ctx) {
        return { pool: poolToProto(await l.pools.create(callerOf(ctx), { listenerId: req.listenerId, name: req.name, lbAlgorithm: req.lbAlgorithm, protocol: req.protocol, cpuMsPerRequest: req.cpuMsPerRequest })) };
      },
      async getPool(req, ctx) {
        return { pool: poolToProto(await l.pools.get(callerOf(ctx), req.poolId)) };
      },
      async listPools(req, ctx) {
        return { pools: (await l.pools.list(callerOf(ctx), req.loadBalancerId)).map(poolToProto) };
      },
      async deletePool(req, ctx) {
        await l.pools.delete(callerOf(ctx), req.poolId);
        return {};
      },
      async createMember(req, ctx) {
        return { member: memberToProto(await l.pools.addMember(callerOf(ctx), { poolId: req.poolId, address: req.address, protocolPort: req.protocolPort, weight: req.weight, serverId: req.serverId })) };
      },
      async listMembers(req, ctx) {
        return { members: (await l.pools.listMembers(callerOf(ctx), req.poolId)).map(memberToProto) };
      },
      async deleteMember(req, ctx) {
        await l.pools.deleteMember(callerOf(ctx), req.poolId, req.memberId);
        return {};
      },
      async createHealthMonitor(req, ctx) {
        const pool = await l.pools.createHealthMonitor(callerOf(ctx), req.poolId, {
          type: req.type as HealthMonitorType,
          delaySeconds: req.delaySeconds,
          timeoutSeconds: req.timeoutSeconds,
          maxRetries: req.maxRetries,
          maxRetriesDown: req.maxRetriesDown ?? 3,
        });
        return { healthMonitor: poolToProto(pool).healthMonitor };
      },
      async deleteHealthMonitor(req, ctx) {
        await l.pools.deleteHealthMonitor(callerOf(ctx), req.poolId);
        return {};
      },
      async createScalingGroup(req, ctx) {
        const t = req.launchTemplate;
        if (!t) throw new InvalidArgumentError('launch_template', 'is required');
        const g = await l.groups.create(callerOf(ctx), {
          name: req.name,
          launchTemplate: { flavorId: t.flavorId, imageId: t.imageId, networkIds: t.networkIds, securityGroupIds: t.securityGroupIds, userData: t.userData, keyName: t.keyName },
          minSize: req.minSize,
          maxSize: req.maxSize,
          desiredCapacity: req.desiredCapacity,
          poolId: req.poolId,
          memberProtocolPort: req.memberProtocolPort,
          cooldownSeconds: req.cooldownSeconds,
          warmupSeconds: req.warmupSeconds,
          healthCheckGracePeriodSeconds: req.healthCheckGracePeriodSeconds,
          drainTimeoutSeconds: req.drainTimeoutSeconds,
          terminationPolicies: req.terminationPolicies,
        });
        return { scalingGroup: scalingGroupToProto(g) };
      },
      async getScalingGroup(req, ctx) {
        return { scalingGroup: scalingGroupToProto(await l.groups.get(callerOf(ctx), req.scalingGroupId)) };
      },
      async listScalingGroups(_req, ctx) {
        return { scalingGroups: (await l.groups.list(callerOf(ctx))).map(scalingGroupToProto) };
      },
      async updateScalingGroup(req, ctx) {
        const g = await l.groups.update(callerOf(ctx), req.scalingGroupId, { minSize: req.minSize, maxSize: req.maxSize, desiredCapacity: req.desiredCapacity, protect: req.protectServerIds, unprotect: req.unprotectServerIds });
        return { scalingGroup: scalingGroupToProto(g) };
      },
      async deleteScalingGroup(req, ctx) {
        await l.groups.delete(callerOf(ctx), req.scalingGroupId);
        return {};
      },
      async createScalingPolicy(req, ctx) {
        const p = req.policy;
        if (!p) throw new InvalidArgumentError('policy', 'is required');
        const rec = await l.groups.createPolicy(callerOf(ctx), req.scalingGroupId, {
          name: p.name, kind: p.kind, metric: p.metric, targetValue: p.targetValue, disableScaleIn: p.disableScaleIn, comparisonOperator: p.comparisonOperator, threshold: p.threshold,
          evaluationPeriods: p.evaluationPeriods, adjustmentType: p.adjustmentType, steps: p.steps.map((s) => ({ lowerBound: s.lowerBound, upperBound: s.upperBound, adjustment: s.adjustment })), minAdjustmentMagnitude: p.minAdjustmentMagnitude,
        });
        return { policy: scalingPolicyToProto(rec) };
      },
      async listScalingPolicies(req, ctx) {
        return { policies: (await l.groups.listPolicies(callerOf(ctx), req.scalingGroupId)).map(scalingPolicyToProto) };
      },
      async deleteScalingPolicy(req, ctx) {
        await l.groups.deletePolicy(callerOf(ctx), req.policyId);
        return {};
      },
    }),
  });
}
