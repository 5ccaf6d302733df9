import { generateSigningKey, type SigningKeyPair } from '@minicloud/platform-auth';
import type { Redis } from '@minicloud/platform-state';
import { plainSealer, type KeySealer } from './key-sealing';

/** A stored key: the pair, and when it stopped signing (undefined while active). */
export interface StoredSigningKey extends SigningKeyPair {
  retiredAtMs?: number;
}

type Key = (...parts: (string | number)[]) => string;

/**
 * Ed25519 signing keys in Redis (`mc:identity:signing-keys` hash kid -> JSON,
 * `mc:identity:signing-key:active` -> kid), shared by every identity replica and kept across restarts.
 * A retired key is still published until `retiredAtMs + maxTokenTtlSeconds`, so tokens it signed keep
 * verifying until they expire; after that it is pruned. Each stored value goes through `sealer`
 * (AES-GCM with a key from identity's environment when configured), so that Redis, its AOF and its
 * backups hold no usable private key; Redis ACLs also keep every other service's user out of
 * `mc:identity:*`.
 */
export class SigningKeyStore {
  constructor(
    private readonly redis: Redis,
    private readonly key: Key,
    private readonly opts: { maxTokenTtlSeconds: number; nowMs: () => number },
    private readonly sealer: KeySealer = plainSealer,
  ) {}

  private encode(k: StoredSigningKey): string {
    return this.sealer.seal(JSON.stringify(k));
  }

  private decode(stored: string): StoredSigningKey {
    return JSON.parse(this.sealer.open(stored)) as StoredSigningKey;
  }

  private async read(): Promise<StoredSigningKey[]> {
    const raw = await this.redis.hgetall(this.key('signing-keys'));
    return Object.values(raw).map((v) => this.decode(v));
  }

  /** Makes sure an active key exists (first replica to start wins; losers discard theirs). */
  async ensureActive(): Promise<StoredSigningKey> {
    const current = await this.active();
    if (current) return current;
    const k = await generateSigningKey(this.opts.nowMs());
    await this.redis.hset(this.key('signing-keys'), k.kid, this.encode(k));
    const won = await this.redis.set(this.key('signing-key:active'), k.kid, 'NX');
    if (won !== 'OK') await this.redis.hdel(this.key('signing-keys'), k.kid);
    return (await this.active()) as StoredSigningKey;
  }

  /** The key that signs new tokens, if any. */
  async active(): Promise<StoredSigningKey | undefined> {
    const kid = await this.redis.get(this.key('signing-key:active'));
    if (!kid) return undefined;
    const raw = await this.redis.hget(this.key('signing-keys'), kid);
    return raw ? this.decode(raw) : undefined;
  }

  /**
   * Keys that may still verify a live token, with the time after which none of their tokens can be
   * valid (`notAfterMs`, undefined for the active key). Prunes keys past that time.
   */
  async verifyingKeys(): Promise<(StoredSigningKey & { notAfterMs?: number })[]> {
    const now = this.opts.nowMs();
    const ttlMs = this.opts.maxTokenTtlSeconds * 1000;
    const out: (StoredSigningKey & { notAfterMs?: number })[] = [];
    for (const k of await this.read()) {
      const notAfterMs = k.retiredAtMs !== undefined ? k.retiredAtMs + ttlMs : undefined;
      if (notAfterMs !== undefined && notAfterMs < now) await this.redis.hdel(this.key('signing-keys'), k.kid);
      else out.push({ ...k, notAfterMs });
    }
    return out.sort((a, b) => a.createdAtMs - b.createdAtMs);
  }

  /** Adds a new active key and retires the previous one (kept until its tokens have expired). */
  async rotate(): Promise<StoredSigningKey> {
    const k = await generateSigningKey(this.opts.nowMs());
    const old = await this.active();
    const tx = this.redis.multi().hset(this.key('signing-keys'), k.kid, this.encode(k)).set(this.key('signing-key:active'), k.kid);
    if (old) tx.hset(this.key('signing-keys'), old.kid, this.encode({ ...old, retiredAtMs: this.opts.nowMs() }));
    await tx.exec();
    return k;
  }
}
