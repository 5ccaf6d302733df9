import type { Command } from 'commander';
import { NotFoundError, InvalidArgumentError } from '@minicloud/domain-errors';
import type { elasticity } from '@minicloud/proto';
import { collect, parseInteger } from '../args';
import { withOutputOptions, type CommandContext } from '../context';
import type { Column, OutputOptions } from '../output';
import { plainView } from '../views';
import { registerListShowDelete } from './resource-commands';

function parseNumber(flag: string, v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new InvalidArgumentError(flag, `must be a number, got "${v}"`);
  return n;
}

/** The first of `items` whose id or name is `ref`. @throws NotFoundError(kind, ref) */
function pick<T extends { id: string; name?: string }>(kind: string, items: T[], ref: string): T {
  const hit = items.find((x) => x.id === ref) ?? items.find((x) => x.name === ref);
  if (!hit) throw new NotFoundError(kind, ref);
  return hit;
}

const LB_COLUMNS: readonly Column[] = [
  { header: 'ID', key: 'id' },
  { header: 'Name', key: 'name' },
  { header: 'VIP Address', key: 'vip_address' },
  { header: 'Provisioning Status', key: 'provisioning_status' },
];
const GROUP_COLUMNS: readonly Column[] = [
  { header: 'ID', key: 'id' },
  { header: 'Name', key: 'name' },
  { header: 'Min', key: 'min_size' },
  { header: 'Max', key: 'max_size' },
  { header: 'Desired', key: 'desired_capacity' },
  { header: 'Instances', key: 'instances', get: (v) => (Array.isArray(v.instances) ? v.instances.length : 0) },
];

/**
 * Parses `--traffic` of `loadbalancer traffic set`: `constant:<rps>`, `step:<initial_rps>;<t_s>=<rps>;...`,
 * `sine:<mean>,<amplitude>,<period_s>`, `trace:<interval_s>:<rps>,<rps>,...[:<scale>]`.
 * @throws InvalidArgumentError('--traffic') for anything else
 */
export function parseTrafficSource(text: string): elasticity.TrafficSource {
  const base: elasticity.TrafficSource = { kind: '', rps: 0, initialRps: 0, steps: [], meanRps: 0, amplitudeRps: 0, periodSeconds: 0, phaseSeconds: 0, harmonics: [], intervalSeconds: 0, traceRps: [], scale: 0 };
  const [kind, ...rest] = text.split(':');
  const body = rest.join(':');
  const num = (v: string) => parseNumber('--traffic', v);
  switch (kind) {
    case 'constant':
      return { ...base, kind, rps: num(body) };
    case 'step': {
      const [initial, ...steps] = body.split(';');
      return { ...base, kind, initialRps: num(initial), steps: steps.map((s) => { const [t, r] = s.split('='); return { atSeconds: num(t), rps: num(r) }; }) };
    }
    case 'sine': {
      const [mean, amp, period] = body.split(',').map(num);
      return { ...base, kind, meanRps: mean, amplitudeRps: amp, periodSeconds: period };
    }
    case 'trace': {
      const [interval, samples, scale] = body.split(':');
      return { ...base, kind, intervalSeconds: num(interval), traceRps: samples.split(',').map(num), scale: scale ? num(scale) : 1 };
    }
    default:
      throw new InvalidArgumentError('--traffic', 'expected constant:<rps>, step:<rps>;<t>=<rps>..., sine:<mean>,<amp>,<period_s> or trace:<interval_s>:<rps>,...[:<scale>]');
  }
}

/**
 * `loadbalancer create|list|show|delete`, `loadbalancer listener|pool|member|healthmonitor ...` and
 * `loadbalancer traffic set` (the listener's simulated offered load), over the elasticity service
 * (catalog type `load-balancer`), in the words of the openstack CLI's Octavia plugin.
 */
export function registerLoadBalancerCommands(program: Command, ctx: CommandContext): void {
  const cmd = program.command('loadbalancer').description('load balancers, listeners, pools, members, health monitors (ElasticityService)');
  const c = () => ctx.session.client('load-balancer');
  withOutputOptions(cmd.command('create <name>').description('create a load balancer').requiredOption('--vip-subnet-id <subnet>', 'subnet of the VIP')).action(async (name: string, o: OutputOptions & { vipSubnetId: string }) => {
    ctx.printShow(plainView((await c().createLoadBalancer({ name, vipSubnetId: o.vipSubnetId })).loadBalancer ?? {}), o);
  });
  registerListShowDelete(cmd, ctx, {
    noun: 'loadbalancer',
    list: async () => (await c().listLoadBalancers({})).loadBalancers,
    columns: LB_COLUMNS,
    view: plainView,
    resolve: async (ref) => pick('load_balancer', (await c().listLoadBalancers({})).loadBalancers, ref),
    remove: (id) => c().deleteLoadBalancer({ loadBalancerId: id, cascade: true }),
  });

  const listener = cmd.command('listener').description('listeners');
  withOutputOptions(
    listener.command('create <loadbalancer>').description('create a listener').requiredOption('--protocol <p>', 'HTTP, HTTPS, TCP, UDP').requiredOption('--protocol-port <port>', 'port', (v) => parseInteger('--protocol-port', v)).option('--name <name>', 'name', ''),
  ).action(async (lb: string, o: OutputOptions & { protocol: string; protocolPort: number; name: string }) => {
    const target = pick('load_balancer', (await c().listLoadBalancers({})).loadBalancers, lb);
    ctx.printShow(plainView((await c().createListener({ loadBalancerId: target.id, name: o.name, protocol: o.protocol, protocolPort: o.protocolPort })).listener ?? {}), o);
  });
  withOutputOptions(listener.command('list').description('list listeners').option('--loadbalancer <id>', 'of one load balancer', '')).action(async (o: OutputOptions & { loadbalancer: string }) => {
    ctx.printList((await c().listListeners({ loadBalancerId: o.loadbalancer })).listeners.map(plainView), [{ header: 'ID', key: 'id' }, { header: 'Name', key: 'name' }, { header: 'Protocol', key: 'protocol' }, { header: 'Port', key: 'protocol_port' }, { header: 'Pool', key: 'default_pool_id' }], o);
  });
  listener.command('delete <listener>').description('delete a listener').action(async (id: string) => void (await c().deleteListener({ listenerId: id })));

  withOutputOptions(cmd.command('traffic').command('set <listener>').description("set a listener's simulated offered load").requiredOption('--traffic <spec>', 'constant:<rps> | step:<rps>;<t>=<rps>... | sine:<mean>,<amp>,<period_s> | trace:<interval_s>:<rps>,...[:<scale>]')).action(
    async (id: string, o: OutputOptions & { traffic: string }) => {
      ctx.printShow(plainView((await c().setTrafficSource({ listenerId: id, trafficSource: parseTrafficSource(o.traffic) })).listener ?? {}), o);
    },
  );

  const pool = cmd.command('pool').description('pools');
  withOutputOptions(
    pool.command('create').description('create the default pool of a listener').requiredOption('--listener <id>', 'listener').requiredOption('--lb-algorithm <a>', 'ROUND_ROBIN, LEAST_CONNECTIONS, SOURCE_IP').option('--name <name>', 'name', '').option('--cpu-ms-per-request <ms>', 'CPU one request costs a member', (v) => parseNumber('--cpu-ms-per-request', v)),
  ).action(async (o: OutputOptions & { listener: string; lbAlgorithm: string; name: string; cpuMsPerRequest?: number }) => {
    ctx.printShow(plainView((await c().createPool({ listenerId: o.listener, name: o.name, lbAlgorithm: o.lbAlgorithm, protocol: '', cpuMsPerRequest: o.cpuMsPerRequest ?? 0 })).pool ?? {}), o);
  });
  withOutputOptions(pool.command('list').description('list pools').option('--loadbalancer <id>', 'of one load balancer', '')).action(async (o: OutputOptions & { loadbalancer: string }) => {
    ctx.printList((await c().listPools({ loadBalancerId: o.loadbalancer })).pools.map(plainView), [{ header: 'ID', key: 'id' }, { header: 'Name', key: 'name' }, { header: 'Algorithm', key: 'lb_algorithm' }, { header: 'Listener', key: 'listener_id' }], o);
  });
  pool.command('delete <pool>').description('delete a pool').action(async (id: string) => void (await c().deletePool({ poolId: id })));

  const member = cmd.command('member').description('pool members');
  withOutputOptions(
    member.command('create <pool>').description('add a member').requiredOption('--address <ip>', 'IPv4 address').requiredOption('--protocol-port <port>', 'port', (v) => parseInteger('--protocol-port', v)).option('--weight <w>', '0..256', (v) => parseInteger('--weight', v)),
  ).action(async (poolId: string, o: OutputOptions & { address: string; protocolPort: number; weight?: number }) => {
    ctx.printShow(plainView((await c().createMember({ poolId, address: o.address, protocolPort: o.protocolPort, weight: o.weight, serverId: '' })).member ?? {}), o);
  });
  withOutputOptions(member.command('list <pool>').description('list members')).action(async (poolId: string, o: OutputOptions) => {
    ctx.printList((await c().listMembers({ poolId })).members.map(plainView), [{ header: 'ID', key: 'id' }, { header: 'Address', key: 'address' }, { header: 'Port', key: 'protocol_port' }, { header: 'Weight', key: 'weight' }, { header: 'Operating Status', key: 'operating_status' }], o);
  });
  member.command('delete <pool> <member>').description('remove a member').action(async (poolId: string, memberId: string) => void (await c().deleteMember({ poolId, memberId })));

  const hm = cmd.command('healthmonitor').description('health monitors');
  withOutputOptions(
    hm.command('create <pool>').description("create a pool's health monitor").requiredOption('--type <t>', 'HTTP, HTTPS, TCP, PING').requiredOption('--delay <s>', 'seconds between probes', (v) => parseInteger('--delay', v)).requiredOption('--timeout <s>', 'probe timeout', (v) => parseInteger('--timeout', v)).requiredOption('--max-retries <n>', 'successes to ONLINE', (v) => parseInteger('--max-retries', v)).option('--max-retries-down <n>', 'failures to ERROR (default 3)', (v) => parseInteger('--max-retries-down', v)),
  ).action(async (poolId: string, o: OutputOptions & { type: string; delay: number; timeout: number; maxRetries: number; maxRetriesDown?: number }) => {
    ctx.printShow(plainView((await c().createHealthMonitor({ poolId, type: o.type, delaySeconds: o.delay, timeoutSeconds: o.timeout, maxRetries: o.maxRetries, maxRetriesDown: o.maxRetriesDown })).healthMonitor ?? {}), o);
  });
  hm.command('delete <pool>').description("delete a pool's health monitor").action(async (poolId: string) => void (await c().deleteHealthMonitor({ poolId })));
}

/**
 * `scaling-group create|list|show|delete|set` and `scaling-group policy create|list|delete`, over the
 * elasticity service (AWS Auto Scaling's and Senlin's vocabulary).
 */
export function registerScalingGroupCommands(program: Command, ctx: CommandContext): void {
  const cmd = program.command('scaling-group').description('scaling groups and their policies (ElasticityService)');
  const c = () => ctx.session.client('load-balancer');
  withOutputOptions(
    cmd
      .command('create <name>')
      .description('create a scaling group')
      .requiredOption('--flavor <flavor>', 'flavor id or name')
      .requiredOption('--image <image>', 'image id')
      .requiredOption('--network <network>', 'network id (repeatable)', collect)
      .option('--security-group <sg>', 'security group (repeatable)', collect)
      .option('--user-data <text>', 'user data', '')
      .option('--key-name <key>', 'key pair', '')
      .requiredOption('--min <n>', 'min size', (v) => parseInteger('--min', v))
      .requiredOption('--max <n>', 'max size', (v) => parseInteger('--max', v))
      .option('--desired <n>', 'desired capacity (default min)', (v) => parseInteger('--desired', v))
      .requiredOption('--pool <pool>', 'pool the servers join')
      .requiredOption('--member-port <port>', 'port of the members', (v) => parseInteger('--member-port', v))
      .option('--cooldown <s>', 'cooldown seconds', (v) => parseInteger('--cooldown', v))
      .option('--warmup <s>', 'instance warm-up seconds', (v) => parseInteger('--warmup', v))
      .option('--termination-policy <p>', 'BalancedAZ, OldestInstance, NewestInstance (repeatable, in order)', collect),
  ).action(async (name: string, o: OutputOptions & { flavor: string; image: string; network: string[]; securityGroup?: string[]; userData: string; keyName: string; min: number; max: number; desired?: number; pool: string; memberPort: number; cooldown?: number; warmup?: number; terminationPolicy?: string[] }) => {
    const res = await c().createScalingGroup({
      name,
      launchTemplate: { flavorId: o.flavor, imageId: o.image, networkIds: o.network, securityGroupIds: o.securityGroup ?? [], userData: o.userData, keyName: o.keyName },
      minSize: o.min,
      maxSize: o.max,
      desiredCapacity: o.desired,
      poolId: o.pool,
      memberProtocolPort: o.memberPort,
      cooldownSeconds: o.cooldown,
      warmupSeconds: o.warmup,
      terminationPolicies: o.terminationPolicy ?? [],
    });
    ctx.printShow(plainView(res.scalingGroup ?? {}), o);
  });
  registerListShowDelete(cmd, ctx, {
    noun: 'scaling group',
    arg: 'group',
    list: async () => (await c().listScalingGroups({})).scalingGroups,
    columns: GROUP_COLUMNS,
    view: plainView,
    resolve: async (ref) => pick('scaling_group', (await c().listScalingGroups({})).scalingGroups, ref),
    remove: (id) => c().deleteScalingGroup({ scalingGroupId: id }),
  });
  withOutputOptions(
    cmd
      .command('set <group>')
      .description('change the size or scale-in protection')
      .option('--min <n>', 'min size', (v) => parseInteger('--min', v))
      .option('--max <n>', 'max size', (v) => parseInteger('--max', v))
      .option('--desired <n>', 'desired capacity', (v) => parseInteger('--desired', v))
      .option('--protect <server>', 'protect from scale-in (repeatable)', collect)
      .option('--unprotect <server>', 'release the protection (repeatable)', collect),
  ).action(async (ref: string, o: OutputOptions & { min?: number; max?: number; desired?: number; protect?: string[]; unprotect?: string[] }) => {
    const g = pick('scaling_group', (await c().listScalingGroups({})).scalingGroups, ref);
    const res = await c().updateScalingGroup({ scalingGroupId: g.id, minSize: o.min, maxSize: o.max, desiredCapacity: o.desired, protectServerIds: o.protect ?? [], unprotectServerIds: o.unprotect ?? [] });
    ctx.printShow(plainView(res.scalingGroup ?? {}), o);
  });

  const policy = cmd.command('policy').description('scaling policies');
  withOutputOptions(
    policy
      .command('create <group> <name>')
      .description('create a target tracking policy (--target-cpu or --target-requests) or a step policy (--step-threshold with --step)')
      .option('--target-cpu <percent>', 'keep average CPU at this percentage', (v) => parseNumber('--target-cpu', v))
      .option('--target-requests <rps>', 'keep requests/s per member at this value', (v) => parseNumber('--target-requests', v))
      .option('--no-scale-in', 'target tracking never scales in')
      .option('--metric <m>', 'step policies: average_cpu_percent or requests_per_member', 'average_cpu_percent')
      .option('--step-threshold <op:value>', 'step policies: the alarm, e.g. gt:70', '')
      .option('--evaluation-periods <n>', 'step policies: datapoints that must breach', (v) => parseInteger('--evaluation-periods', v), 3)
      .option('--step <lower:upper:adjustment>', 'step policies: a ChangeInCapacity step; empty bound = infinite (repeatable)', collect),
  ).action(async (ref: string, name: string, o: OutputOptions & { targetCpu?: number; targetRequests?: number; scaleIn: boolean; metric: string; stepThreshold: string; evaluationPeriods: number; step?: string[] }) => {
    const g = pick('scaling_group', (await c().listScalingGroups({})).scalingGroups, ref);
    const blank: elasticity.ScalingPolicy = { id: '', projectId: '', scalingGroupId: g.id, name, kind: '', metric: '', targetValue: 0, disableScaleIn: false, comparisonOperator: '', threshold: 0, evaluationPeriods: 0, adjustmentType: '', steps: [], minAdjustmentMagnitude: 0 };
    let p: elasticity.ScalingPolicy;
    if (o.targetCpu !== undefined || o.targetRequests !== undefined) {
      p = { ...blank, kind: 'target_tracking', metric: o.targetCpu !== undefined ? 'average_cpu_percent' : 'requests_per_member', targetValue: o.targetCpu ?? o.targetRequests!, disableScaleIn: !o.scaleIn };
    } else if (o.stepThreshold) {
      const [op, value] = o.stepThreshold.split(':');
      const steps = (o.step ?? []).map((s) => {
        const [lo, hi, adj] = s.split(':');
        return { lowerBound: lo === '' ? undefined : parseNumber('--step', lo), upperBound: hi === '' ? undefined : parseNumber('--step', hi), adjustment: parseNumber('--step', adj) };
      });
      p = { ...blank, kind: 'step', metric: o.metric, comparisonOperator: op, threshold: parseNumber('--step-threshold', value), evaluationPeriods: o.evaluationPeriods, adjustmentType: 'ChangeInCapacity', steps };
    } else {
      throw new InvalidArgumentError('--target-cpu', 'give --target-cpu, --target-requests or --step-threshold');
    }
    ctx.printShow(plainView((await c().createScalingPolicy({ scalingGroupId: g.id, policy: p })).policy ?? {}), o);
  });
  withOutputOptions(policy.command('list <group>').description("list a group's policies")).action(async (ref: string, o: OutputOptions) => {
    const g = pick('scaling_group', (await c().listScalingGroups({})).scalingGroups, ref);
    ctx.printList((await c().listScalingPolicies({ scalingGroupId: g.id })).policies.map(plainView), [{ header: 'ID', key: 'id' }, { header: 'Name', key: 'name' }, { header: 'Kind', key: 'kind' }, { header: 'Metric', key: 'metric' }, { header: 'Target', key: 'target_value' }], o);
  });
  policy.command('delete <policy>').description('delete a policy').action(async (id: string) => void (await c().deleteScalingPolicy({ policyId: id })));
}
