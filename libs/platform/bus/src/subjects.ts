/**
 * NATS subjects. Events: `minicloud.evt.<domain>.<entity>.<past_tense>`, captured by the JetStream
 * stream EVENTS; heartbeats: core NATS `minicloud.hb.host.<host_id>`.
 */
export const EVENTS_STREAM = 'EVENTS';
export const EVENTS_SUBJECTS = 'minicloud.evt.>';

export const Subjects = {
  instanceStateChanged: 'minicloud.evt.compute.instance.state_changed',
  hostStateChanged: 'minicloud.evt.compute.host.state_changed',
  /** Prefix only: source agents publish on {@link migrationProgressedSubject}(source host); consumers filter on {@link MIGRATION_PROGRESSED_WILDCARD}. */
  migrationProgressed: 'minicloud.evt.compute.migration.progressed',
  hostRegistered: 'minicloud.evt.agent.host.registered',
  /** Prefix only: agents publish on {@link powerStateReportedSubject}(host_id); consumers filter on {@link POWER_STATE_REPORTED_WILDCARD}. */
  powerStateReported: 'minicloud.evt.agent.instance.power_state_reported',
  portCreated: 'minicloud.evt.network.port.created',
  portBound: 'minicloud.evt.network.port.bound',
  portUnbound: 'minicloud.evt.network.port.unbound',
  portDeleted: 'minicloud.evt.network.port.deleted',
  networkCreated: 'minicloud.evt.network.network.created',
  networkDeleted: 'minicloud.evt.network.network.deleted',
  /** Prefix only: the network service publishes on {@link fdbUpdatedSubject}(host_id); each host's agent subscribes to its own. */
  fdbUpdated: 'minicloud.evt.network.fdb.updated',
  imageStatusChanged: 'minicloud.evt.image.image.status_changed',
  volumeStatusChanged: 'minicloud.evt.volume.volume.status_changed',
  tokenRevoked: 'minicloud.evt.identity.token.revoked',
  signingKeyRotated: 'minicloud.evt.identity.signing_key.rotated',
  auditRecorded: 'minicloud.evt.identity.audit.recorded',
} as const;

/**
 * Subject of an elasticity resource event: `minicloud.evt.elasticity.<entity>.<action>`, e.g.
 * `minicloud.evt.elasticity.scaling_group.scaled`. Entities and actions are the fixed words of
 * ElasticityResourceChanged (never caller input).
 */
export function elasticitySubject(entity: ElasticityEntity, action: 'created' | 'updated' | 'deleted' | 'scaled'): string {
  return `minicloud.evt.elasticity.${entity}.${action}`;
}

/** The resources of the elasticity service, as they appear in its event subjects. */
export type ElasticityEntity = 'load_balancer' | 'listener' | 'pool' | 'member' | 'health_monitor' | 'scaling_group' | 'scaling_policy';

/** Filter subject for every elasticity event. */
export const ELASTICITY_EVENTS_WILDCARD = 'minicloud.evt.elasticity.>';

/** Core NATS heartbeat subject of one host. */
export function heartbeatSubject(hostId: string): string {
  return `minicloud.hb.host.${hostId}`;
}

/** Wildcard for every host's heartbeat. */
export const HEARTBEAT_WILDCARD = 'minicloud.hb.host.*';

/**
 * JetStream subject of one host's InstancePowerStateReported events:
 * `minicloud.evt.agent.instance.power_state_reported.<host_id>`. The host id is in the subject (not
 * only in the payload) so that the NATS server can let each agent publish its own hosts' reports
 * only, and the controller drops a report whose payload names another host than its subject.
 */
export function powerStateReportedSubject(hostId: string): string {
  return `${Subjects.powerStateReported}.${hostId}`;
}

/**
 * JetStream subject of the MigrationProgressed events of live migrations out of one host:
 * `minicloud.evt.compute.migration.progressed.<source_host_id>`. As for power reports, the host id
 * is in the subject so that the NATS server lets an agent report only its own hosts' migrations,
 * and the controller drops an event whose payload names another source host than its subject.
 */
export function migrationProgressedSubject(sourceHostId: string): string {
  return `${Subjects.migrationProgressed}.${sourceHostId}`;
}

/** Filter subject for every host's migration progress (see {@link migrationProgressedSubject}). */
export const MIGRATION_PROGRESSED_WILDCARD = `${Subjects.migrationProgressed}.>`;

/** Filter subject for every host's power-state reports (see {@link powerStateReportedSubject}). */
export const POWER_STATE_REPORTED_WILDCARD = `${Subjects.powerStateReported}.>`;

/**
 * JetStream subject of one host's FdbUpdated events: `minicloud.evt.network.fdb.updated.<host_id>`,
 * as Neutron's l2pop casts to a per-host topic. NATS hands a message to every subscription whose
 * subject matches, so with one subject for all hosts each update reached every host's subscription
 * (hosts x hosts deliveries per binding, the NATS server's read loop took seconds at 100 hosts);
 * with the host in the subject each update reaches its host only, and the server lets an agent
 * subscribe to its own hosts' updates only.
 */
export function fdbUpdatedSubject(hostId: string): string {
  return `${Subjects.fdbUpdated}.${hostId}`;
}

/** Filter subject for every host's FDB updates (see {@link fdbUpdatedSubject}). */
export const FDB_UPDATED_WILDCARD = `${Subjects.fdbUpdated}.>`;
