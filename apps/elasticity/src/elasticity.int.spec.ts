import { AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, NotFoundError, PermissionDeniedError, UnauthenticatedError } from '@minicloud/domain-errors';
import { createTokenVerifier, generateSigningKey, RevocationList, signToken } from '@minicloud/platform-auth';
import { connectBus, ELASTICITY_EVENTS_WILDCARD, type Bus } from '@minicloud/platform-bus';
import { loadConfig } from '@minicloud/platform-config';
import { createServiceClient, startGrpcServer, type RunningGrpcServer, type ServiceClient } from '@minicloud/platform-grpc';
import { silentLogger } from '@minicloud/platform-logging';
import { createProcessMetrics } from '@minicloud/platform-metrics';
import { connectRedis, type Redis } from '@minicloud/platform-state';
import { elasticity, events } from '@minicloud/proto';
import { FakeClock, startNatsServer, startRedisServer, waitFor } from '@minicloud/testing';
import { elasticityConfigSchema } from './config';
import { FakeCloud } from './testing/fake-cloud';
import { wireElasticity, type ElasticityModules } from './wire';

jest.setTimeout(60_000);

type Client = ServiceClient<typeof elasticity.ElasticityServiceService>;

describe('elasticity service (real Redis and NATS)', () => {
  let stop: (() => Promise<void>)[] = [];
  let redis: Redis;
  let bus: Bus;
  let grpc: RunningGrpcServer;
  let modules: ElasticityModules;
  const clock = new FakeClock();
  const clients: Client[] = [];
  let alice: Client; // member of p1
  let aliceReader: Client; // reader of p1
  let bob: Client; // member of p2
  let anonymous: Client;
  const tokenProjects = new Map<string, string>();
  const cloud = new FakeCloud((t) => tokenProjects.get(t ?? '') ?? '');
  const seen: { subject: string; ev: events.ElasticityResourceChanged }[] = [];

  beforeAll(async () => {
    const [rs, ns] = await Promise.all([startRedisServer(), startNatsServer()]);
    const logger = silentLogger();
    redis = await connectRedis({ url: rs.url, name: 'elasticity-test', logger });
    bus = await connectBus({ url: ns.url, name: 'elasticity-test', logger });
    const key = await generateSigningKey(Date.now());
    const verifier = createTokenVerifier({ keys: async () => [{ kid: key.kid, jwk: key.publicJwk }], revocations: new RevocationList(), nowMs: () => Date.now() });
    const config = loadConfig(elasticityConfigSchema, { EVALUATION_PERIOD_MS: '60000' });
    const wiring = await wireElasticity(config, { clock, verifier, cloud })({ config, logger, metrics: createProcessMetrics({ service: 'elasticity' }), redis, bus, revocations: new RevocationList() });
    modules = wiring.modules;
    grpc = await startGrpcServer({ port: 0, services: wiring.services, logger, verifier: wiring.verifier });
    const clientFor = async (projectId: string, roles: string[]) => {
      const token = (await signToken(key, { userId: `u-${projectId}-${roles[0]}`, userName: 'u', projectId, projectName: projectId, domainId: 'default', roles }, { nowMs: Date.now(), ttlSeconds: 3600 })).token;
      tokenProjects.set(token, projectId);
      const c = createServiceClient(elasticity.ElasticityServiceService, grpc.address, { token: () => token });
      clients.push(c);
      return c;
    };
    alice = await clientFor('p1', ['member', 'reader']);
    aliceReader = await clientFor('p1', ['reader']);
    bob = await clientFor('p2', ['member', 'reader']);
    anonymous = createServiceClient(elasticity.ElasticityServiceService, grpc.address);
    clients.push(anonymous);
    bus.subscribe(`${ELASTICITY_EVENTS_WILDCARD}`, events.ElasticityResourceChanged, (ev, env) => void seen.push({ subject: env.subject, ev }));
    cloud.subnets.set('sub-p1', { id: 'sub-p1', projectId: 'p1', cidr: '10.0.0.0/24' });
    cloud.subnets.set('sub-p2', { id: 'sub-p2', projectId: 'p2', cidr: '10.1.0.0/24' });
    cloud.flavors.set('m1.small', { id: 'f-small', vcpus: 1 });
    stop = [async () => { await bus.close(); await redis.quit(); await Promise.all([rs.stop(), ns.stop()]); }];
  });

  afterAll(async () => {
    clients.forEach((c) => c.close());
    await grpc?.shutdown(1000);
    for (const s of stop) await s();
  });

  /** A load balancer, an HTTP listener on 80 and a round-robin pool with a 5 s monitor, for `c`. */
  const stack = async (c: Client, subnet = 'sub-p1') => {
    const { loadBalancer: lb } = await c.createLoadBalancer({ name: 'web', vipSubnetId: subnet });
    const { listener } = await c.createListener({ loadBalancerId: lb!.id, name: 'http', protocol: 'HTTP', protocolPort: 80 });
    const { pool } = await c.createPool({ listenerId: listener!.id, name: 'web-pool', lbAlgorithm: 'ROUND_ROBIN', cpuMsPerRequest: 4 });
    await c.createHealthMonitor({ poolId: pool!.id, type: 'HTTP', delaySeconds: 5, timeoutSeconds: 3, maxRetries: 2, maxRetriesDown: 3 });
    return { lb: lb!, listener: listener!, pool: pool! };
  };
  const template = { flavorId: 'm1.small', imageId: 'img-1', networkIds: ['net-1'], securityGroupIds: [], userData: '', keyName: '' };

  it('refuses an unauthenticated caller, a reader writing, and another project', async () => {
    const { lb, pool } = await stack(alice);
    await expect(anonymous.listLoadBalancers({})).rejects.toBeInstanceOf(UnauthenticatedError);
    await expect(anonymous.createLoadBalancer({ name: 'x', vipSubnetId: 'sub-p1' })).rejects.toBeInstanceOf(UnauthenticatedError);
    await expect(aliceReader.createLoadBalancer({ name: 'x', vipSubnetId: 'sub-p1' })).rejects.toBeInstanceOf(PermissionDeniedError);
    expect((await aliceReader.getLoadBalancer({ loadBalancerId: lb.id })).loadBalancer!.id).toBe(lb.id);
    await expect(bob.getLoadBalancer({ loadBalancerId: lb.id })).rejects.toMatchObject({ constructor: NotFoundError, resourceType: 'load_balancer' });
    await expect(bob.deleteLoadBalancer({ loadBalancerId: lb.id, cascade: true })).rejects.toMatchObject({ constructor: NotFoundError });
    await expect(bob.createMember({ poolId: pool.id, address: '10.0.0.9', protocolPort: 80 })).rejects.toMatchObject({ constructor: NotFoundError, resourceType: 'pool' });
    await expect(bob.createScalingGroup({ name: 'g', launchTemplate: template, minSize: 1, maxSize: 2, poolId: pool.id, memberProtocolPort: 80, terminationPolicies: [] })).rejects.toMatchObject({ constructor: NotFoundError, resourceType: 'pool' });
    expect((await bob.listLoadBalancers({})).loadBalancers).toEqual([]);
  });

  it('refuses malformed requests naming the field', async () => {
    const { lb, listener, pool } = await stack(alice);
    await expect(alice.createListener({ loadBalancerId: lb.id, name: 'l', protocol: 'HTTP', protocolPort: 70000 })).rejects.toMatchObject({ constructor: InvalidArgumentError, field: 'protocol_port' });
    await expect(alice.createListener({ loadBalancerId: lb.id, name: 'l', protocol: 'SCTP', protocolPort: 81 })).rejects.toMatchObject({ constructor: InvalidArgumentError, field: 'protocol' });
    await expect(alice.createListener({ loadBalancerId: lb.id, name: 'l', protocol: 'HTTP', protocolPort: 80 })).rejects.toBeInstanceOf(FailedPreconditionError);
    await expect(alice.createLoadBalancer({ name: 'x'.repeat(300), vipSubnetId: 'sub-p1' })).rejects.toMatchObject({ constructor: InvalidArgumentError, field: 'name' });
    await expect(alice.createMember({ poolId: pool.id, address: '10.0.0.300', protocolPort: 80 })).rejects.toMatchObject({ constructor: InvalidArgumentError, field: 'address' });
    await expect(alice.createMember({ poolId: pool.id, address: '10.0.0.3', protocolPort: 80, weight: 300 })).rejects.toMatchObject({ constructor: InvalidArgumentError, field: 'weight' });
    await expect(alice.createHealthMonitor({ poolId: pool.id, type: 'HTTP', delaySeconds: 5, timeoutSeconds: 3, maxRetries: 2 })).rejects.toBeInstanceOf(AlreadyExistsError);
    await expect(alice.setTrafficSource({ listenerId: listener.id, trafficSource: { kind: 'tsunami' } as never })).rejects.toMatchObject({ constructor: InvalidArgumentError, field: 'traffic_source.kind' });
    await expect(alice.setTrafficSource({ listenerId: listener.id, trafficSource: { kind: 'constant', rps: -5 } as never })).rejects.toMatchObject({ constructor: InvalidArgumentError, field: 'rps' });
    await expect(alice.createPool({ listenerId: listener.id, name: 'p', lbAlgorithm: 'RANDOM', cpuMsPerRequest: 1 })).rejects.toMatchObject({ constructor: InvalidArgumentError, field: 'lb_algorithm' });
  });

  it('refuses bad input and makes nothing: a pool on another tenant\'s subnet, min > max, an unknown flavor', async () => {
    const before = (await bob.listLoadBalancers({})).loadBalancers.length;
    await expect(bob.createLoadBalancer({ name: 'steal', vipSubnetId: 'sub-p1' })).rejects.toMatchObject({ constructor: NotFoundError, resourceType: 'subnet' });
    expect((await bob.listLoadBalancers({})).loadBalancers.length).toBe(before);
    const { pool } = await stack(alice);
    const groupsBefore = (await alice.listScalingGroups({})).scalingGroups.length;
    const base = { name: 'g', launchTemplate: template, poolId: pool.id, memberProtocolPort: 80, terminationPolicies: [] };
    await expect(alice.createScalingGroup({ ...base, minSize: 5, maxSize: 2 })).rejects.toMatchObject({ constructor: InvalidArgumentError, field: 'min_size' });
    await expect(alice.createScalingGroup({ ...base, minSize: 1, maxSize: 3, desiredCapacity: 4 })).rejects.toMatchObject({ constructor: InvalidArgumentError, field: 'desired_capacity' });
    await expect(alice.createScalingGroup({ ...base, minSize: 1, maxSize: 3, launchTemplate: { ...template, flavorId: 'm1.huge' } })).rejects.toMatchObject({ constructor: NotFoundError, resourceType: 'flavor' });
    await expect(alice.createScalingGroup({ ...base, minSize: 1, maxSize: 3, terminationPolicies: ['Random'] })).rejects.toMatchObject({ constructor: InvalidArgumentError, field: 'termination_policies' });
    expect((await alice.listScalingGroups({})).scalingGroups.length).toBe(groupsBefore);
    expect(cloud.servers.size).toBe(0);
  });

  it('reconciles a group: launches to min, brings members ONLINE, scales out on load, drains before removal', async () => {
    const { listener, pool } = await stack(alice);
    const { scalingGroup: g } = await alice.createScalingGroup({ name: 'web', launchTemplate: template, minSize: 2, maxSize: 10, poolId: pool.id, memberProtocolPort: 8080, cooldownSeconds: 300, warmupSeconds: 0, terminationPolicies: [] });
    await alice.createScalingPolicy({ scalingGroupId: g!.id, policy: { name: 'cpu-50', kind: 'target_tracking', metric: 'average_cpu_percent', targetValue: 50 } as never });
    await alice.setTrafficSource({ listenerId: listener.id, trafficSource: { kind: 'constant', rps: 1000 } as never });
    const log = silentLogger();
    const run = async (ms: number) => {
      await clock.advanceAsync(ms);
      await modules.reconciler.reconcile(g!.id, log);
    };
    await run(60_000);
    let group = (await alice.getScalingGroup({ scalingGroupId: g!.id })).scalingGroup!;
    expect(group.instances).toHaveLength(2);
    expect(cloud.servers.size).toBe(2);
    expect([...cloud.servers.values()].every((s) => s.metadata['minicloud:scaling_group'] === g!.id)).toBe(true);
    // Two probes 5 s apart bring the members ONLINE; then they take the traffic.
    await run(5_000);
    await run(5_000);
    const members = (await alice.listMembers({ poolId: pool.id })).members;
    expect(members.map((m) => m.operatingStatus)).toEqual(['ONLINE', 'ONLINE']);
    expect(members.every((m) => m.protocolPort === 8080)).toBe(true);
    // 1,000 req/s x 4 ms on 2 x 1 vCPU saturates them: the workload set on each server says so.
    expect([...cloud.servers.values()].every((s) => s.metadata['minicloud:workload'] === 'constant:1.000')).toBe(true);
    // Three one-minute datapoints above 50 % -> scale out.
    for (let i = 0; i < 3; i++) await run(60_000);
    group = (await alice.getScalingGroup({ scalingGroupId: g!.id })).scalingGroup!;
    expect(group.desiredCapacity).toBeGreaterThan(2);
    expect(group.instances.length).toBe(group.desiredCapacity);
    await waitFor(async () => seen.some((s) => s.subject === 'minicloud.evt.elasticity.scaling_group.scaled' && s.ev.resourceId === g!.id && s.ev.toCapacity === group.desiredCapacity));

    // While the policy sees the load it keeps the size: a lower desired by hand is outvoted.
    const desiredBefore = group.desiredCapacity;
    await alice.updateScalingGroup({ scalingGroupId: g!.id, desiredCapacity: 2, protectServerIds: [], unprotectServerIds: [] });
    await run(60_000);
    expect((await alice.getScalingGroup({ scalingGroupId: g!.id })).scalingGroup!.desiredCapacity).toBeGreaterThanOrEqual(desiredBefore);
    // Without the policy, lowering the size drains the extra instances (no new traffic) before their servers go.
    for (const p of (await alice.listScalingPolicies({ scalingGroupId: g!.id })).policies) await alice.deleteScalingPolicy({ policyId: p.id });
    group = (await alice.getScalingGroup({ scalingGroupId: g!.id })).scalingGroup!;
    const sizeBefore = group.instances.length;
    await alice.updateScalingGroup({ scalingGroupId: g!.id, desiredCapacity: 2, protectServerIds: [], unprotectServerIds: [] });
    await run(60_000);
    group = (await alice.getScalingGroup({ scalingGroupId: g!.id })).scalingGroup!;
    const draining = group.instances.filter((i) => i.lifecycle === 'draining');
    expect(draining).toHaveLength(sizeBefore - 2);
    const drainingMembers = (await alice.listMembers({ poolId: pool.id })).members.filter((m) => draining.some((d) => d.memberId === m.id));
    expect(drainingMembers.every((m) => m.operatingStatus === 'DRAINING')).toBe(true);
    expect(draining.every((d) => cloud.servers.has(d.serverId))).toBe(true);
    // After the drain timeout (30 s default) the next evaluation deletes them.
    await run(60_000);
    group = (await alice.getScalingGroup({ scalingGroupId: g!.id })).scalingGroup!;
    expect(group.instances).toHaveLength(2);
    expect(draining.every((d) => !cloud.servers.has(d.serverId))).toBe(true);
    expect((await alice.listMembers({ poolId: pool.id })).members).toHaveLength(2);
  });

  it('replaces an instance whose server went to error', async () => {
    const { pool } = await stack(alice);
    const { scalingGroup: g } = await alice.createScalingGroup({ name: 'hc', launchTemplate: template, minSize: 2, maxSize: 4, poolId: pool.id, memberProtocolPort: 80, healthCheckGracePeriodSeconds: 0, terminationPolicies: [] });
    const log = silentLogger();
    await clock.advanceAsync(60_000);
    await modules.reconciler.reconcile(g!.id, log);
    const first = (await alice.getScalingGroup({ scalingGroupId: g!.id })).scalingGroup!.instances.map((i) => i.serverId);
    const victim = cloud.servers.get(first[0])!;
    cloud.servers.set(victim.id, { ...victim, vmState: 'error' });
    await clock.advanceAsync(60_000);
    await modules.reconciler.reconcile(g!.id, log);
    const after = (await alice.getScalingGroup({ scalingGroupId: g!.id })).scalingGroup!.instances.map((i) => i.serverId);
    expect(after).toHaveLength(2);
    expect(after).not.toContain(victim.id);
    expect(cloud.servers.has(victim.id)).toBe(false);
  });

  it('deleting a group removes its servers, then the group', async () => {
    const { pool } = await stack(alice);
    const { scalingGroup: g } = await alice.createScalingGroup({ name: 'del', launchTemplate: template, minSize: 1, maxSize: 2, poolId: pool.id, memberProtocolPort: 80, drainTimeoutSeconds: 0, terminationPolicies: [] });
    const log = silentLogger();
    await clock.advanceAsync(60_000);
    await modules.reconciler.reconcile(g!.id, log);
    const servers = (await alice.getScalingGroup({ scalingGroupId: g!.id })).scalingGroup!.instances.map((i) => i.serverId);
    expect(servers).toHaveLength(1);
    await alice.deleteScalingGroup({ scalingGroupId: g!.id });
    for (let i = 0; i < 3; i++) await modules.reconciler.reconcile(g!.id, log);
    await expect(alice.getScalingGroup({ scalingGroupId: g!.id })).rejects.toBeInstanceOf(NotFoundError);
    expect(cloud.servers.has(servers[0])).toBe(false);
    expect((await alice.listMembers({ poolId: pool.id })).members).toEqual([]);
  });
});
