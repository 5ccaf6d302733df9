import { randomBytes, randomUUID } from 'node:crypto';
import { InvalidArgumentError, NotFoundError } from '@minicloud/domain-errors';
import type { Redis } from '@minicloud/platform-state';
import { checkName } from './directory-store';
import { hashSecret } from './password-hash';

/** An application credential (Keystone): acts as its creator, on one project, with a subset of roles. */
export interface AppCredentialRecord {
  id: string;
  name: string;
  userId: string;
  projectId: string;
  /** Effective role names (implied roles expanded). */
  roles: string[];
  /** 0 = never expires. */
  expiresAtMs: number;
  secretHash: string;
}

/** Application credentials in Redis: `mc:identity:app-credential:<id>` (JSON) and a per-user id set. */
export class AppCredentialStore {
  constructor(private readonly redis: Redis, private readonly key: (...p: string[]) => string, private readonly nowMs: () => number) {}

  /**
   * Creates a credential; the secret (32 random bytes, base64url) is returned once and stored argon2id-hashed.
   * @throws InvalidArgumentError('name'|'expires_at')
   */
  async create(c: Omit<AppCredentialRecord, 'id' | 'secretHash'>): Promise<{ credential: AppCredentialRecord; secret: string }> {
    checkName('name', c.name);
    if (c.expiresAtMs && c.expiresAtMs <= this.nowMs()) throw new InvalidArgumentError('expires_at', 'must be in the future');
    const secret = randomBytes(32).toString('base64url');
    const credential: AppCredentialRecord = { ...c, id: randomUUID(), secretHash: await hashSecret(secret) };
    await this.redis.multi().set(this.key('app-credential', credential.id), JSON.stringify(credential)).sadd(this.key('app-credentials', c.userId), credential.id).exec();
    return { credential, secret };
  }

  async get(id: string): Promise<AppCredentialRecord | undefined> {
    const raw = id ? await this.redis.get(this.key('app-credential', id)) : null;
    return raw ? (JSON.parse(raw) as AppCredentialRecord) : undefined;
  }

  async listForUser(userId: string): Promise<AppCredentialRecord[]> {
    const ids = await this.redis.smembers(this.key('app-credentials', userId));
    return (await Promise.all(ids.map((id) => this.get(id)))).filter((c): c is AppCredentialRecord => !!c);
  }

  /** @throws NotFoundError('application_credential', id) when missing or not the user's */
  async delete(userId: string, id: string): Promise<void> {
    const c = await this.get(id);
    if (!c || c.userId !== userId) throw new NotFoundError('application_credential', id);
    await this.redis.multi().del(this.key('app-credential', id)).srem(this.key('app-credentials', userId), id).exec();
  }

  async deleteAllOf(userId: string): Promise<void> {
    const ids = await this.redis.smembers(this.key('app-credentials', userId));
    if (ids.length) await this.redis.del(...ids.map((id) => this.key('app-credential', id)));
    await this.redis.del(this.key('app-credentials', userId));
  }
}
