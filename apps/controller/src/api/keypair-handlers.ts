import { InvalidArgumentError, NotFoundError, PermissionDeniedError } from '@minicloud/domain-errors';
import type { compute } from '@minicloud/proto';
import { isCloudAdmin } from '@minicloud/platform-auth';
import type { CallContext, DeepPartial, ServiceHandlers } from '@minicloud/platform-grpc';
import type { KeypairRecord, KeypairStore, KeypairType } from '../store/keypair-store';
import type { ApiDeps } from './api-deps';
import { auth } from './scoping';
import { generateKeyPair, generateX509KeyPair, parsePublicKey, parseX509Certificate } from './ssh-keys';

type Handlers = ServiceHandlers<typeof compute.ComputeServiceService>;

/** Nova 2.1's key pair name characters (nova/api/validation/validators.py `keypair_name_20`). */
const KEYPAIR_NAME = /^[A-Za-z0-9 _-]{1,255}$/;

/**
 * Checks a key pair name by Nova 2.1's rules: 1..255 of letters, digits, space, '-' and '_', and
 * not only spaces.
 * @throws InvalidArgumentError('name')
 */
export function checkKeypairName(name: string): void {
  if (!name) throw new InvalidArgumentError('name', 'Keypair name must be string and between 1 and 255 characters long');
  if (!KEYPAIR_NAME.test(name)) {
    if (name.length > 255) throw new InvalidArgumentError('name', 'Keypair name must be string and between 1 and 255 characters long');
    throw new InvalidArgumentError('name', "Keypair name contains unsafe characters (only letters, digits, ' ', '-' and '_')");
  }
  if (!name.trim()) throw new InvalidArgumentError('name', 'Keypair name must not be only spaces');
}

/**
 * The user whose key pairs a call is about: the caller, or (admins only, as Nova's policy
 * `os_compute_api:os-keypairs:*` with user_id) the given user.
 * @throws PermissionDeniedError when a non-admin names another user
 */
function ownerOf(userId: string, ctx: CallContext): string {
  const caller = auth(ctx);
  if (!userId || userId === caller.userId) return caller.userId;
  if (!isCloudAdmin(caller)) throw new PermissionDeniedError(`only an administrator may manage the key pairs of user ${userId}`);
  return userId;
}

/**
 * The key pair type a create asks for: empty means ssh (Nova before 2.2, and 2.2's default).
 * @throws InvalidArgumentError('type') for anything but ssh or x509
 */
export function keypairType(type: string): KeypairType {
  if (!type || type === 'ssh') return 'ssh';
  if (type === 'x509') return 'x509';
  throw new InvalidArgumentError('type', `Invalid input for field/attribute type. Value: ${type}. '${type}' is not one of ['ssh', 'x509']`);
}

/** A key pair as the API shows it. */
export function keypairToProto(r: KeypairRecord): DeepPartial<compute.Keypair> {
  return { id: r.id, name: r.name, userId: r.userId, type: r.type, publicKey: r.publicKey, fingerprint: r.fingerprint, createdAt: new Date(r.createdAtMs) };
}

/**
 * The caller's key pair named `name` (server create's key_name, which Nova looks up among the
 * caller's own pairs).
 * @throws InvalidArgumentError('key_name') when the caller has no pair of that name (Nova: 400 "Invalid key_name provided.")
 */
export async function keypairForServer(keypairs: Pick<KeypairStore, 'find'>, userId: string, name: string): Promise<KeypairRecord> {
  const k = await keypairs.find(userId, name);
  if (!k) throw new InvalidArgumentError('key_name', `Invalid key_name provided: the caller has no key pair named '${name}'`);
  return k;
}

/**
 * Key pair handlers (Nova's os-keypairs 2.1): per user; create generates an RSA pair when no public
 * key is given (the private key is answered once and never kept) or imports the given one; the
 * user's `key_pairs` quota (Nova's default 100) is checked atomically with the store.
 */
export function keypairHandlers(d: Pick<ApiDeps, 'keypairs' | 'keyPairsQuota' | 'nowMs'>): Pick<Handlers, 'createKeypair' | 'getKeypair' | 'listKeypairs' | 'deleteKeypair'> {
  return {
    async createKeypair(req, ctx) {
      const userId = ownerOf(req.userId, ctx);
      checkKeypairName(req.name);
      const type = keypairType(req.type);
      const material =
        type === 'x509'
          ? req.publicKey === undefined
            ? generateX509KeyPair({ userId, projectId: auth(ctx).projectId }, d.nowMs())
            : { ...parseX509Certificate(req.publicKey), privateKey: '' }
          : req.publicKey === undefined
            ? generateKeyPair(req.name)
            : { ...parsePublicKey(req.publicKey), privateKey: '' };
      const record: KeypairRecord = { id: await d.keypairs.nextId(), name: req.name, userId, type, publicKey: material.publicKey, fingerprint: material.fingerprint, createdAtMs: d.nowMs() };
      await d.keypairs.create(record, d.keyPairsQuota);
      return { keypair: keypairToProto(record), privateKey: material.privateKey };
    },
    async getKeypair(req, ctx) {
      const userId = ownerOf(req.userId, ctx);
      const k = await d.keypairs.find(userId, req.name);
      if (!k) throw new NotFoundError('keypair', req.name);
      return { keypair: keypairToProto(k) };
    },
    async listKeypairs(req, ctx) {
      const userId = ownerOf(req.userId, ctx);
      return { keypairs: (await d.keypairs.list(userId)).map(keypairToProto) };
    },
    async deleteKeypair(req, ctx) {
      const userId = ownerOf(req.userId, ctx);
      if (!(await d.keypairs.delete(userId, req.name))) throw new NotFoundError('keypair', req.name);
      return {};
    },
  };
}
