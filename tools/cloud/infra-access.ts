/**
 * Who may do what on the bring-up's own Redis and NATS: one Redis ACL user and one NATS user per
 * service and per compute-agent process, plus an `operator` with full rights (the bring-up's seed,
 * the e2e suites and the CLI's chaos commands, through cloud.json). The rules follow the ownership
 * of ARCHITECTURE.md: each service's Redis keys are `mc:<service>:*` and no service reads another's,
 * except the HA protocol keys (platform-state `HaProtocolKeys`) the controller and the agents share;
 * each service publishes its own domain's events, and an agent publishes only its own hosts' subjects.
 */
import { createHash, randomBytes } from 'node:crypto';
import { EVENTS_STREAM, fdbUpdatedSubject, HEARTBEAT_WILDCARD, heartbeatSubject, inboxPrefixOf, migrationProgressedSubject, powerStateReportedSubject, Subjects } from '@minicloud/platform-bus';
import { HaProtocolKeys } from '@minicloud/platform-state';
import { overlayTraceSubject, vtepSubject } from '@minicloud/domain-network';

/** The stateful services (the OpenStack REST front uses neither Redis nor NATS). */
export const STATEFUL_SERVICES = ['identity', 'image', 'volume', 'network', 'controller', 'elasticity'] as const;
export type StatefulService = (typeof STATEFUL_SERVICES)[number];

/** A principal on Redis and NATS: the operator, a service (all its replicas), or one agent process with its hosts. */
export type InfraPrincipal =
  | { kind: 'operator' }
  | { kind: 'service'; service: StatefulService }
  | { kind: 'agent'; hostIds: string[]; tunnelIps: string[] };

/** One user of Redis and NATS: a name, its generated password, what it is. */
export interface InfraUser {
  name: string;
  password: string;
  principal: InfraPrincipal;
}

/**
 * Commands no service or agent may run: Redis's `@dangerous` category (FLUSHALL, FLUSHDB, CONFIG,
 * ACL, DEBUG, KEYS, MONITOR, SHUTDOWN, ...) is removed; INFO (also in it) is given back because
 * ioredis's ready check sends it at every connect.
 */
const SERVICE_COMMANDS = '+@all -@dangerous +info';

/** The Redis key patterns of a principal (ACL selectors: `~` read-write, `%R~` read-only). */
export function redisKeyPatterns(p: InfraPrincipal): string[] {
  switch (p.kind) {
    case 'operator':
      return ['~*'];
    case 'service':
      // The controller reads (only) the agents' datastore heartbeats and isolation records.
      return p.service === 'controller'
        ? ['~mc:controller:*', `%R~${HaProtocolKeys.lease('*')}`, `%R~${HaProtocolKeys.isolation('*')}`]
        : [`~mc:${p.service}:*`];
    case 'agent':
      return [...p.hostIds.flatMap((h) => [`~${HaProtocolKeys.lease(h)}`, `~${HaProtocolKeys.isolation(h)}`]), `%R~${HaProtocolKeys.clusterView()}`];
  }
}

/** SHA-256 of a password in hex, as a Redis ACL file stores it (`#<hash>`), so the file holds no cleartext. */
export function redisPasswordHash(password: string): string {
  return createHash('sha256').update(password).digest('hex');
}

/**
 * The Redis 7 ACL file (`aclfile` directive): `operator` with every right, and per service or agent
 * its key patterns and {@link SERVICE_COMMANDS}, no Pub/Sub channels. The default user keeps every
 * right but gets `defaultPassword`, a random one that nobody keeps: an unauthenticated client gets
 * NOAUTH, and nobody can log in as it. It is not disabled because Redis 7.0 replays the AOF as the
 * default user, and refuses every MULTI/EXEC of the AOF when that user may not run them (a restart
 * with --keep-state then loses those writes).
 */
export function redisAclFile(users: InfraUser[], defaultPassword: string = randomBytes(24).toString('base64url')): string {
  const lines = [`user default on #${redisPasswordHash(defaultPassword)} resetkeys ~* &* +@all`];
  for (const u of users) {
    const rights = u.principal.kind === 'operator' ? '~* &* +@all' : `resetchannels ${redisKeyPatterns(u.principal).join(' ')} ${SERVICE_COMMANDS}`;
    lines.push(`user ${u.name} on #${redisPasswordHash(u.password)} resetkeys ${rights}`);
  }
  return lines.join('\n') + '\n';
}

/** nats-server 2.9 permissions of one user (`allow_responses`: may answer requests it received). */
export interface NatsPermissions {
  publish: { allow: string[] };
  subscribe: { allow: string[] };
  allow_responses?: boolean;
}

/** JetStream API subjects every service uses: account info, the EVENTS stream (create/update/info) and its durable consumers. */
const SERVICE_JETSTREAM = ['$JS.API.INFO', `$JS.API.STREAM.INFO.${EVENTS_STREAM}`, `$JS.API.STREAM.CREATE.${EVENTS_STREAM}`, `$JS.API.STREAM.UPDATE.${EVENTS_STREAM}`, `$JS.API.CONSUMER.*.${EVENTS_STREAM}.>`, `$JS.API.CONSUMER.DURABLE.CREATE.${EVENTS_STREAM}.>`, `$JS.API.CONSUMER.MSG.NEXT.${EVENTS_STREAM}.>`, `$JS.ACK.${EVENTS_STREAM}.>`];

/** The event domain a service publishes in (`minicloud.evt.<domain>.>`). */
const EVENT_DOMAIN: Record<StatefulService, string> = { identity: 'identity', image: 'image', volume: 'volume', network: 'network', controller: 'compute', elasticity: 'elasticity' };

/**
 * What a principal may publish and subscribe to. Services: their own domain's events, the denied-call
 * audit event, JetStream for EVENTS, every event and their own inbox. Agents: their hosts'
 * heartbeats, power reports and migration progress, audit events, frames to any VTEP (the
 * simulated underlay) and answers to requests; they subscribe to FDB updates, revocations, their
 * hosts' trace requests, their own VTEPs and their own inbox, and may only read the EVENTS stream's
 * info (no consumers, so they read no tenant's events). `undefined` for the operator: everything.
 */
export function natsPermissions(userName: string, p: InfraPrincipal): NatsPermissions | undefined {
  const inbox = `${inboxPrefixOf(userName)}.>`;
  switch (p.kind) {
    case 'operator':
      return undefined;
    case 'service': {
      const publish = [`minicloud.evt.${EVENT_DOMAIN[p.service]}.>`, Subjects.auditRecorded, ...SERVICE_JETSTREAM];
      const subscribe = ['minicloud.evt.>', inbox];
      if (p.service === 'controller') {
        publish.push(Subjects.hostRegistered);
        subscribe.push(HEARTBEAT_WILDCARD);
      }
      if (p.service === 'network') publish.push(overlayTraceSubject('*'));
      return { publish: { allow: publish }, subscribe: { allow: subscribe } };
    }
    case 'agent':
      return {
        publish: {
          allow: [
            ...p.hostIds.flatMap((h) => [heartbeatSubject(h), powerStateReportedSubject(h), migrationProgressedSubject(h)]),
            Subjects.auditRecorded,
            vtepSubject('>'),
            '$JS.API.INFO',
            `$JS.API.STREAM.INFO.${EVENTS_STREAM}`,
          ],
        },
        subscribe: {
          allow: [...p.hostIds.map(fdbUpdatedSubject), Subjects.tokenRevoked, Subjects.signingKeyRotated, ...p.hostIds.map(overlayTraceSubject), ...[...new Set(p.tunnelIps)].map(vtepSubject), inbox],
        },
        allow_responses: true,
      };
  }
}

/**
 * A nats-server 2.9 configuration (JSON, which its config parser reads) holding the users and their
 * permissions; listen address, port, JetStream and its store stay on the command line.
 */
export function natsServerConfig(users: InfraUser[]): string {
  return JSON.stringify(
    {
      authorization: {
        users: users.map((u) => {
          const permissions = natsPermissions(u.name, u.principal);
          return { user: u.name, password: u.password, ...(permissions ? { permissions } : {}) };
        }),
      },
    },
    null,
    2,
  );
}
