/**
 * NATS subjects. Events: `minicloud.evt.<domain>.<entity>.<past_tense>`, captured by the JetStream
 * stream EVENTS; heartbeats: core NATS `minicloud.hb.host.<host_id>`.
 */
export const EVENTS_STREAM = 'EVENTS';
export const EVENTS_SUBJECTS = 'minicloud.evt.>';

export const Subjects = {
  instanceStateChanged: 'minicloud.evt.compute.instance.state_changed',
  hostStateChanged: 'minicloud.evt.compute.host.state_changed',
  migrationProgressed: 'minicloud.evt.compute.migration.progressed',
  hostRegistered: 'minicloud.evt.agent.host.registered',
  powerStateReported: 'minicloud.evt.agent.instance.power_state_reported',
  portCreated: 'minicloud.evt.network.port.created',
  portBound: 'minicloud.evt.network.port.bound',
  portUnbound: 'minicloud.evt.network.port.unbound',
  portDeleted: 'minicloud.evt.network.port.deleted',
  networkCreated: 'minicloud.evt.network.network.created',
  networkDeleted: 'minicloud.evt.network.network.deleted',
  fdbUpdated: 'minicloud.evt.network.fdb.updated',
  imageStatusChanged: 'minicloud.evt.image.image.status_changed',
  volumeStatusChanged: 'minicloud.evt.volume.volume.status_changed',
  tokenRevoked: 'minicloud.evt.identity.token.revoked',
  signingKeyRotated: 'minicloud.evt.identity.signing_key.rotated',
  auditRecorded: 'minicloud.evt.identity.audit.recorded',
} as const;

/** Core NATS heartbeat subject of one host. */
export function heartbeatSubject(hostId: string): string {
  return `minicloud.hb.host.${hostId}`;
}

/** Wildcard for every host's heartbeat. */
export const HEARTBEAT_WILDCARD = 'minicloud.hb.host.*';
