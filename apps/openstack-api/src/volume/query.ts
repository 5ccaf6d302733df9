import type { FastifyRequest } from 'fastify';
import { queryValue } from '../http/context';

/** A query parameter as Cinder reads a boolean flag (`all_tenants=1`, `True`, `true`). */
export function flag(req: FastifyRequest, name: string): boolean {
  const v = queryValue(req, name);
  return v !== undefined && ['1', 'true', 'yes', 'on'].includes(v.toLowerCase());
}
