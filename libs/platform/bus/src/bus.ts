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
  }): Promise<EventConsumer>;
  /** True while connected to the server (readiness). */
  isConnected(): boolean;
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

/** Creates (or updates) the EVENTS stream capturing `minicloud.evt.>`. Idempotent. */
export async function ensureEventsStream(jsm: JetStreamManager, opts: { maxAgeMs?: number } = {}): Promise<void> {
  const config = {
    name: EVENTS_STREAM,
    subjects: [EVENTS_SUBJECTS],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    max_age: (opts.maxAgeMs ?? 24 * 3600 * 1000) * 1_000_000,
  };
  try {
    await jsm.streams.info(EVENTS_STREAM);
    await jsm.streams.update(EVENTS_STREAM, config);
  } catch {
    await jsm.streams.add(config);
  }
}

/**
 * Connects to NATS (reconnecting forever with a 250 ms wait) and makes sure the EVENTS stream exists.
 * @param url e.g. nats://127.0.0.1:4222
 */
export async function connectBus(opts: { url: string; name: string; logger: Logger }): Promise<Bus> {
  const nc = await connect({
    servers: opts.url,
    name: opts.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    waitOnFirstConnect: true,
  });
  let connected = true;
  (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') connected = false;
      if (s.type === 'reconnect') connected = true;
      opts.logger.info({ nats_status: s.type }, 'nats connection status');
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
    async consumeEvents({ durable, filterSubject, type, handler, ackWaitMs, deliverNew }) {
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
              await runWithRequestId(requestId, async () => {
                try {
                  await handler(ev as never, { subject: m.subject, requestId, streamSequence: m.seq, redelivered: m.redelivered });
                  m.ack();
                } catch (e) {
                  opts.logger.error({ err: e, subject: m.subject, durable }, 'event handler failed; will be redelivered');
                  m.nak(500);
                }
              });
            }
          } catch (e) {
            if (stopped) break;
            opts.logger.warn({ err: e, durable }, 'consumer interrupted; resuming');
            await new Promise((r) => setTimeout(r, 250));
          }
        }
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
    async close() {
      await Promise.all(consumers.map((c) => c.stop()));
      if (!nc.isClosed()) await nc.drain().catch(() => nc.close());
    },
  };
  return bus;
}
