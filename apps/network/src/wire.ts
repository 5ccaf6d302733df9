import { randomUUID } from 'node:crypto';
import type { Rng } from '@minicloud/domain-clock';
import { overlayTraceSubject, parseVniRange, tenantMtu, type OverlayTraceReply } from '@minicloud/domain-network';
import { FailedPreconditionError } from '@minicloud/domain-errors';
import type { TokenVerifier } from '@minicloud/platform-auth';
import type { ServiceDeps, ServiceWiring } from '@minicloud/platform-service';
import { networkServiceRegistration, type NetworkLogic } from './api/handlers';
import type { NetworkConfig } from './config';
import { busEventPublisher } from './events';
import { L2pop } from './l2pop';
import { registerNetworkMetrics } from './metrics';
import { Networks } from './networks';
import { Ports } from './ports';
import { SecurityGroups } from './security-groups';
import { createClaim, createTransact } from './store/transact';
import type { StoreDeps } from './store/deps';
import { SubnetPools } from './subnet-pools';
import { Subnets } from './subnets';
import { FloatingIps } from './floating-ips';
import { NetworkQuotas, type LimitsOf } from './quotas';
import { identityFloatingIpQuota, type FloatingIpQuota } from './floating-ip-quota';
import { Routers } from './routers';
import { Tracer, type OverlayTransport } from './tracer';

/** Overrides for tests: a token verifier signed by a test key, a seeded RNG, a clock. */
export interface NetworkWireOptions {
  verifier?: TokenVerifier;
  rng?: Rng;
  nowMs?: () => number;
  /** How traces reach the agents' overlay modules; default: NATS request/reply on the bus. */
  overlayTransport?: OverlayTransport;
  /** Deadline of one trace request to an agent (ms), default 5000. */
  traceTimeoutMs?: number;
  /** A project's quota limits (identity's); without it nothing is limited. */
  limitsOf?: LimitsOf;
  /** The floating_ips quota; default: identity's, through the service's credentials when it has them. */
  floatingIpQuota?: FloatingIpQuota;
}

/**
 * Quota limits read from identity with the service's own credentials (identity owns quotas).
 * Identity answers defaults for a project it stores nothing for.
 */
export function identityLimits(credentials: NonNullable<ServiceDeps['credentials']>): LimitsOf {
  return async (projectId) => {
    const q = (await credentials.identity.getQuota({ projectId }, { token: await credentials.getToken() })).quota;
    return Object.fromEntries(Object.entries(q?.limits ?? {}).map(([k, v]) => [k, Number(v)]));
  };
}

/**
 * The production trace transport: a core-NATS request to `minicloud.overlay.trace.<host_id>` (JSON;
 * docs/agent-protocol.md). No responder / timeout -> FailedPreconditionError('agent_unreachable').
 */
export function natsOverlayTransport(bus: ServiceDeps['bus'], timeoutMs: number): OverlayTransport {
  return async (hostId, req) => {
    try {
      const msg = await bus.nc.request(overlayTraceSubject(hostId), new TextEncoder().encode(JSON.stringify(req)), { timeout: timeoutMs });
      return JSON.parse(new TextDecoder().decode(msg.data)) as OverlayTraceReply;
    } catch (e) {
      throw new FailedPreconditionError(`the overlay of host ${hostId} did not answer the trace: ${(e as Error).message}`, 'agent_unreachable');
    }
  };
}

/**
 * Builds the network service's logic from its adapters (composition without the process: main.ts
 * and integration tests both use it).
 * @throws InvalidArgumentError('vni_ranges' | 'underlay_mtu') on bad configuration
 */
export function buildNetworkLogic(deps: Pick<ServiceDeps, 'redis' | 'bus' | 'logger' | 'metrics'> & Partial<Pick<ServiceDeps, 'credentials'>>, config: Pick<NetworkConfig, 'VNI_RANGES' | 'UNDERLAY_MTU' | 'BASE_MAC'>, opts: NetworkWireOptions = {}): NetworkLogic {
  const vniRanges = config.VNI_RANGES.split(',').map((r) => parseVniRange(r));
  tenantMtu(config.UNDERLAY_MTU);
  const nowMs = opts.nowMs ?? (() => Date.now());
  const d: StoreDeps = {
    redis: deps.redis,
    transact: createTransact(deps.redis),
    claim: createClaim(deps.redis),
    rng: opts.rng ?? Math.random,
    nowMs,
    newId: randomUUID,
    events: busEventPublisher(deps.bus, deps.logger, randomUUID, nowMs),
  };
  const observeFdb = registerNetworkMetrics(deps.metrics.registry, deps.redis);
  const quotas = new NetworkQuotas(d, opts.limitsOf);
  const networks = new Networks(d, { vniRanges, underlayMtu: config.UNDERLAY_MTU }, quotas);
  const subnetPools = new SubnetPools(d);
  const subnets = new Subnets(d, networks, quotas, subnetPools);
  const securityGroups = new SecurityGroups(d, quotas);
  const l2pop = new L2pop(d, observeFdb);
  const ports = new Ports(d, { baseMac: config.BASE_MAC }, networks, subnets, securityGroups, l2pop, quotas);
  const routers = new Routers(d, networks, subnets, ports, l2pop);
  const quota = opts.floatingIpQuota ?? (deps.credentials ? identityFloatingIpQuota(deps.credentials) : undefined);
  const floatingIps = new FloatingIps(d, networks, subnets, ports, routers, quota, l2pop);
  const tracer = new Tracer(d, ports, routers, floatingIps, opts.overlayTransport ?? natsOverlayTransport(deps.bus, opts.traceTimeoutMs ?? 5000));
  return { networks, subnets, subnetPools, ports, securityGroups, l2pop, routers, floatingIps, tracer, quotas };
}

/** The `wire` function for runService: gRPC service, and catalog registration once listening. */
export async function wireNetwork(deps: ServiceDeps, config: NetworkConfig, opts: NetworkWireOptions = {}): Promise<ServiceWiring> {
  const logic = buildNetworkLogic(deps, config, { limitsOf: deps.credentials ? identityLimits(deps.credentials) : undefined, ...opts });
  return {
    services: [networkServiceRegistration(logic)],
    verifier: opts.verifier,
    onListening: async (server) => {
      const creds = deps.credentials;
      if (!creds) return;
      await creds.identity.registerEndpoint(
        { endpoint: { serviceType: 'network', url: server.address, region: config.REGION, interface: 'public' } },
        { token: await creds.getToken() },
      );
    },
  };
}
