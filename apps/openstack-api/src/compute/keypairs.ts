import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { compute } from '@minicloud/proto';
import type { ApiDeps } from '../deps';
import { callContext } from '../http/context';
import { invalidField } from '../http/errors';
import { atLeast } from './microversion';
import { novaTime } from './views';

/**
 * POST /os-keypairs: a name, and a public key to import (absent: generate); `type` (ssh, x509) from
 * 2.2, refused before it as Nova's 2.1 schema does (checked in the route; `user_id` is 2.10's).
 */
export const createKeypairBody = {
  type: 'object',
  required: ['keypair'],
  properties: {
    keypair: {
      type: 'object',
      required: ['name'],
      properties: { name: { type: 'string' }, public_key: { type: 'string' }, type: { type: 'string', enum: ['ssh', 'x509'] } },
      additionalProperties: false,
    },
  },
  additionalProperties: false,
} as const;

/** A key pair in a list and in a create answer: name, public_key, fingerprint, and from 2.2 its type. */
function keypairBrief(k: compute.Keypair, req: FastifyRequest): Record<string, unknown> {
  return { name: k.name, public_key: k.publicKey, fingerprint: k.fingerprint, ...(atLeast(req, 2) ? { type: k.type } : {}) };
}

/** A key pair as GET /os-keypairs/{name} shows it (Nova's database row: id, timestamps, deleted). */
function keypairDetail(k: compute.Keypair, req: FastifyRequest): Record<string, unknown> {
  return {
    ...keypairBrief(k, req),
    user_id: k.userId,
    id: k.id,
    created_at: novaTime(k.createdAt),
    updated_at: null,
    deleted_at: null,
    deleted: false,
  };
}

/**
 * Nova's os-keypairs for the caller's own key pairs (the controller's CreateKeypair, GetKeypair,
 * ListKeypairs, DeleteKeypair): create answers the pair (and `private_key` when generated, the only
 * time it is shown), 200 at 2.1 and 201 from 2.2; delete answers 202 at 2.1 and 204 from 2.2. A name taken is the controller's
 * ALREADY_EXISTS, 409; a bad name or public key its INVALID_ARGUMENT, 400; over the key_pairs quota
 * its RESOURCE_EXHAUSTED, 403.
 */
export async function keypairRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const c = deps.backends.compute;
  app.get('/os-keypairs', async (req) => ({
    keypairs: (await c.listKeypairs({ userId: '' }, callContext(req))).keypairs.map((k) => ({ keypair: keypairBrief(k, req) })),
  }));
  app.post('/os-keypairs', { schema: { body: createKeypairBody } }, async (req, reply) => {
    const { keypair } = req.body as { keypair: { name: string; public_key?: string; type?: string } };
    if (keypair.type !== undefined && !atLeast(req, 2)) throw invalidField('keypair', "Additional properties are not allowed ('type' was unexpected)");
    const res = await c.createKeypair({ name: keypair.name, publicKey: keypair.public_key, userId: '', type: keypair.type ?? '' }, callContext(req));
    const k = res.keypair!;
    return reply.code(atLeast(req, 2) ? 201 : 200).send({ keypair: { ...keypairBrief(k, req), user_id: k.userId, ...(res.privateKey ? { private_key: res.privateKey } : {}) } });
  });
  app.get<{ Params: { name: string } }>('/os-keypairs/:name', async (req) => ({
    keypair: keypairDetail((await c.getKeypair({ name: req.params.name, userId: '' }, callContext(req))).keypair!, req),
  }));
  app.delete<{ Params: { name: string } }>('/os-keypairs/:name', async (req, reply) => {
    await c.deleteKeypair({ name: req.params.name, userId: '' }, callContext(req));
    return reply.code(atLeast(req, 2) ? 204 : 202).send();
  });
}
