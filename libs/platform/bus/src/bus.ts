import { randomUUID } from 'node:crypto';
import {
  AckPolicy,
  DeliverPolicy,
  RetentionPolicy,
  StorageType,
  connect,
  headers as natsHeaders,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type MsgHdrs,
  type NatsConnection,
  type Subscription,
} from 'nats';
import type { MessageType } from '@minicloud/proto';
import { currentRequestId, REQUEST_ID_HEADER, runWithRequestId, type Logger } from '@minicloud/platform-logging';
import { EVENTS_STREAM, EVENTS_SUBJECTS } from './subjects';

/** Metadata delivered with an event. */
export interface EventEnvelope {
  subject: string;
  /** From the message's `x-request-id` header; the handler also runs as part of this request. */
  requestId?: string;
  /** JetStream stream sequence, when the message came from the stream. */
  streamSequence?: number;
  redelivered: boolean;
}

export type EventHandler<T> = (event: T, envelope: EventEnvelope) => void | Promise<void>;

/** A running durable consumer; `stop()` ends it (its position is kept by the server). */
export interface EventConsumer {
  stop(): Promise<void>;
  /** Resolves when the consume loop ends. */
  done: Promise<void>;
}

/**
 * minicloud's NATS adapter: protobuf-encoded events published to JetStream (acknowledged, durable),
 * core NATS for heartbeats, and durable pull consumers for services that must miss nothing.
 */
export interface Bus {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  /**
   * Publishes an event to JetStream and waits for the stream's ack. The `x-request-id` header is
   * `opts.requestId`, else the request being handled, else a new id.
   */
  publishEvent<T>(subject: string, type: MessageType<T>, event: unknown, opts?: { requestId?: string }): Promise<void>;
  /** Fire-and-forget core NATS publish (heartbeats); carries `x-request-id` when a request is being handled. */
  publishCore<T>(subject: string, type: MessageType<T>, message: unknown): void;
  /** Core NATS subscription (at-most-once); the handler runs as part of the message's request id. */
  subscribe<T>(subject: string, type: MessageType<T>, handler: EventHandler<T>): Subscription;
  /**
   * A durable JetStream consumer named `durable` over `filterSubject`; each message is acked after
   * the handler resolves and redelivered (after `ackWaitMs`) when it throws. A consumer that restarts
   * resumes where it left off. `deliverNew` starts new consumers at the stream's end. The handler
   * runs as part of the message's request id (its log lines and outgoing calls carry it).
   */
  consumeEvents<T>(opts: {
    durable: string;
    filterSubject: string;
    type: MessageType<T>;
    handler: EventHandler<T>;
    ackWaitMs?: number;
    deliverNew?: boolean;
    /**
     * Handlers running at once (default 1: one message at a time). Above 1, messages with the same
     * `keyOf` still run one after another, in stream order; others overlap (as they would on two
     * replicas sharing the durable).
     */
    concurrency?: number;
    /** The ordering key of an event (e.g. its instance id); without it every message is its own key. */
    keyOf?: (event: T) => string;
  }): Promise<EventConsumer>;
  /** True while connected to the server (readiness). */
  isConnected(): boolean;
  /**
   * Calls `listener` after each reconnection to the server (not the first connection): whatever
   * core NATS carried while disconnected is lost, so state kept from core subscriptions is re-read
   * here. A listener that throws is logged and does not stop the others.
   * @returns a function that removes the listener
   */
  onReconnect(listener: () => void): () => void;
  /** Drains subscriptions and closes. */
  close(): Promise<void>;
}

function requestHeaders(requestId: string): MsgHdrs {
  const h = natsHeaders();
  h.set(REQUEST_ID_HEADER, requestId);
  return h;
}

/** The request id a message carries, if any. */
function requestIdOf(h: MsgHdrs | undefined): string | undefined {
  return h?.get(REQUEST_ID_HEADER) || undefined;
}

/**
 * Creates the EVENTS stream capturing `minicloud.evt.>`, or updates it when its subjects or max age
 * differ. Idempotent. A stream that already has this configuration is left alone, so a NATS user
 * allowed only to read stream info (a compute agent) connects once a service has created it.
 */
export async function ensureEventsStream(jsm: JetStreamManager, opts: { maxAgeMs?: number } = {}): Promise<void> {
  const config = {
    name: EVENTS_STREAM,
    subjects: [EVENTS_SUBJECTS],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    max_age: (opts.maxAgeMs ?? 24 * 3600 * 1000) * 1_000_000,
  };
  let current: Awaited<ReturnType<JetStreamManager['streams']['info']>> | undefined;
  try {
    current = await jsm.streams.info(EVENTS_STREAM);
  } catch {
    await jsm.streams.add(config);
    return;
  }
  const same = current.config.max_age === config.max_age && current.config.subjects?.length === 1 && current.config.subjects[0] === EVENTS_SUBJECTS;
  if (!same) await jsm.streams.update(EVENTS_STREAM, config);
}

/**
 * Splits `nats://user:password@host:port` into the server URL and the credentials, which the nats
 * client takes as options (it does not read them from the URL). Several comma-separated servers
 * share the credentials of the first one that carries any.
 */
export function natsConnectionOptions(url: string): { servers: string[]; user?: string; pass?: string } {
  let user: string | undefined;
  let pass: string | undefined;
  const servers = url.split(',').map((raw) => {
    const s = raw.trim();
    const m = /^([a-z]+:\/\/)([^@/]*)@(.*)$/i.exec(s);
    if (!m) return s;
    const [name, ...rest] = m[2].split(':');
    if (user === undefined && name) {
      user = decodeURIComponent(name);
      pass = rest.length ? decodeURIComponent(rest.join(':')) : undefined;
    }
    return m[1] + m[3];
  });
  return { servers, ...(user !== undefined ? { user } : {}), ...(pass !== undefined ? { pass } : {}) };
}

/**
 * The inbox prefix of a NATS user: `_INBOX_<user>` (or the client's default `_INBOX` without a user),
 * so that the server's permissions can let each user subscribe to its own replies only.
 */
export function inboxPrefixOf(user: string | undefined): string {
  return user ? `_INBOX_${user.replace(/[^A-Za-z0-9_-]/g, '_')}` : '_INBOX';
}

/**
 * Connects to NATS (reconnecting forever with a 250 ms wait) and makes sure the EVENTS stream exists.
 * @param url e.g. nats://127.0.0.1:4222, or nats://user:password@127.0.0.1:4222 for a server that
 *   requires authentication (replies then come on the user's own inbox prefix, {@link inboxPrefixOf})
 */
export async function connectBus(opts: { url: string; name: string; logger: Logger }): Promise<Bus> {
  const { servers, user, pass } = natsConnectionOptions(opts.url);
  const nc = await connect({
    servers,
    ...(user !== undefined ? { user, pass, inboxPrefix: inboxPrefixOf(user) } : {}),
    name: opts.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    waitOnFirstConnect: true,
  });
  let connected = true;
  const reconnectListeners = new Set<() => void>();
  (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') connected = false;
      if (s.type === 'reconnect') connected = true;
      opts.logger.info({ nats_status: s.type }, 'nats connection status');
      if (s.type === 'reconnect') {
        for (const listener of [...reconnectListeners]) {
          try {
            listener();
          } catch (e) {
            opts.logger.error({ err: e }, 'nats reconnect listener failed');
          }
        }
      }
    }
  })().catch(() => undefined);
  const jsm = await nc.jetstreamManager();
  await ensureEventsStream(jsm);
  const js = nc.jetstream();

  const consumers: EventConsumer[] = [];
  const bus: Bus = {
    nc,
    js,
    async publishEvent(subject, type, event, o = {}) {
      await js.publish(subject, type.encode(type.fromPartial(event)).finish(), { headers: requestHeaders(o.requestId || currentRequestId() || randomUUID()) });
    },
    publishCore(subject, type, message) {
      const requestId = currentRequestId();
      nc.publish(subject, type.encode(type.fromPartial(message)).finish(), requestId ? { headers: requestHeaders(requestId) } : undefined);
    },
    subscribe(subject, type, handler) {
      return nc.subscribe(subject, {
        callback: (err, msg) => {
          if (err) return;
          try {
            const ev = type.decode(msg.data);
            const requestId = requestIdOf(msg.headers);
            runWithRequestId(requestId, () =>
              Promise.resolve()
                .then(() => handler(ev, { subject: msg.subject, requestId, redelivered: false }))
                .catch((e) => opts.logger.error({ err: e, subject: msg.subject }, 'event handler failed')),
            );
          } catch (e) {
            opts.logger.warn({ err: e, subject: msg.subject }, 'undecodable message dropped');
          }
        },
      });
    },
    async consumeEvents({ durable, filterSubject, type, handler, ackWaitMs, deliverNew, concurrency = 1, keyOf }) {
      try {
        await jsm.consumers.info(EVENTS_STREAM, durable);
      } catch {
        await jsm.consumers.add(EVENTS_STREAM, {
          durable_name: durable,
          ack_policy: AckPolicy.Explicit,
          filter_subject: filterSubject,
          deliver_policy: deliverNew ? DeliverPolicy.New : DeliverPolicy.All,
          ack_wait: (ackWaitMs ?? 30_000) * 1_000_000,
          max_deliver: -1,
        });
      }
      const consumer = await js.consumers.get(EVENTS_STREAM, durable);
      let messages: ConsumerMessages | undefined;
      let stopped = false;
      const inFlight = new Set<Promise<void>>();
      const tails = new Map<string, Promise<void>>();
      const done = (async () => {
        while (!stopped) {
          try {
            messages = await consumer.consume({ max_messages: 256 });
            for await (const m of messages) {
              let ev: unknown;
              try {
                ev = type.decode(m.data);
              } catch (e) {
                opts.logger.warn({ err: e, subject: m.subject }, 'undecodable event terminated');
                m.term();
                continue;
              }
              const requestId = requestIdOf(m.headers);
              // Never rejects: a failed handler naks its message.
              const run = () =>
                runWithRequestId(requestId, async () => {
                  try {
                    await handler(ev as never, { subject: m.subject, requestId, streamSequence: m.seq, redelivered: m.redelivered });
                    m.ack();
                  } catch (e) {
                    opts.logger.error({ err: e, subject: m.subject, durable }, 'event handler failed; will be redelivered');
                    m.nak(500);
                  }
                });
              if (concurrency <= 1) {
                await run();
                continue;
              }
              while (inFlight.size >= concurrency) await Promise.race(inFlight);
              const key = keyOf ? keyOf(ev as never) : `seq:${m.seq}`;
              const p: Promise<void> = (tails.get(key) ?? Promise.resolve()).then(run);
              tails.set(key, p);
              inFlight.add(p);
              void p.then(() => {
                inFlight.delete(p);
                if (tails.get(key) === p) tails.delete(key);
              });
            }
          } catch (e) {
            if (stopped) break;
            opts.logger.warn({ err: e, durable }, 'consumer interrupted; resuming');
            await new Promise((r) => setTimeout(r, 250));
          }
        }
        await Promise.all(inFlight);
      })();
      const c: EventConsumer = {
        done,
        async stop() {
          stopped = true;
          messages?.stop();
          await done;
        },
      };
      consumers.push(c);
      return c;
    },
    isConnected: () => connected && !nc.isClosed(),
    onReconnect(listener) {
      reconnectListeners.add(listener);
      return () => reconnectListeners.delete(listener);
    },
    async close() {
      await Promise.all(consumers.map((c) => c.stop()));
      if (!nc.isClosed()) await nc.drain().catch(() => nc.close());
    },
  };
  return bus;
}
