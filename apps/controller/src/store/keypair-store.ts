import { AlreadyExistsError, ResourceExhaustedError } from '@minicloud/domain-errors';
import { defineLuaScript, type LuaScript, type Redis } from '@minicloud/platform-state';
import { Keys } from './keys';

/** One key pair of one user (Nova's KeyPair object): an SSH key, or (Nova 2.2) an X.509 certificate. */
export interface KeypairRecord {
  /** Unique among all key pairs, in creation order (from {@link KeypairStore.nextId}). */
  id: number;
  name: string;
  userId: string;
  type: KeypairType;
  /** OpenSSH one-line public key (ssh), or the PEM certificate (x509). */
  publicKey: string;
  /** ssh: MD5 of the key blob; x509: SHA-1 of the DER certificate; colon-separated lower-case hex. */
  fingerprint: string;
  createdAtMs: number;
}

/** Nova's key pair types (2.2): an SSH public key, or an X.509 certificate. */
export type KeypairType = 'ssh' | 'x509';

// KEYS[1]=the user's key pair hash; ARGV[1]=name, ARGV[2]=record JSON, ARGV[3]=quota.
// Returns 1 when stored, -1 when the name is taken, -2 when the user is at the quota.
const CREATE = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return -1 end
if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then return -2 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
`;

/**
 * Key pairs, per user: `user:<user_id>:keypairs` (hash name -> JSON). The create checks the name
 * and the user's quota and stores in one Lua script, so concurrent replicas never exceed the quota
 * or overwrite a pair.
 */
export class KeypairStore {
  private readonly createScript: LuaScript;

  constructor(private readonly redis: Redis) {
    this.createScript = defineLuaScript(redis, CREATE);
  }

  /**
   * Stores a new pair.
   * @param quota the user's key_pairs limit (Nova's quota, per user)
   * @throws AlreadyExistsError('keypair', name) when the user has a pair of that name
   * @throws ResourceExhaustedError when the user already holds `quota` pairs
   */
  async create(r: KeypairRecord, quota: number): Promise<void> {
    const res = Number(await this.createScript([Keys.userKeypairs(r.userId)], [r.name, JSON.stringify(r), String(quota)]));
    if (res === -1) throw new AlreadyExistsError('keypair', r.name);
    if (res === -2) throw new ResourceExhaustedError(`Quota exceeded, too many key pairs (key_pairs limit ${quota}).`);
  }

  /** A fresh key pair id (a counter; a failed create leaves a gap, as a database sequence does). */
  async nextId(): Promise<number> {
    return this.redis.incr(Keys.keypairSequence());
  }

  /** The user's pair of that name; undefined when there is none. */
  async find(userId: string, name: string): Promise<KeypairRecord | undefined> {
    const raw = userId && name ? await this.redis.hget(Keys.userKeypairs(userId), name) : null;
    return raw ? (JSON.parse(raw) as KeypairRecord) : undefined;
  }

  /** The user's pairs, sorted by name. */
  async list(userId: string): Promise<KeypairRecord[]> {
    const all = await this.redis.hvals(Keys.userKeypairs(userId));
    return all.map((raw) => JSON.parse(raw) as KeypairRecord).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** @returns false when the user has no pair of that name */
  async delete(userId: string, name: string): Promise<boolean> {
    return (await this.redis.hdel(Keys.userKeypairs(userId), name)) === 1;
  }
}
