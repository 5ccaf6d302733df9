import type { FastifySchemaValidationError } from 'fastify';
import { invalidField, type HttpError } from './errors';

/**
 * Turns a JSON-schema validation failure into the 400 OpenStack APIs give: the message names the
 * field at fault with its dotted path from the body's root (`server.name`, `auth.identity.methods`)
 * and says what is wrong (missing, wrong type, not allowed).
 */
export function validationError(errors: FastifySchemaValidationError[], context: string): HttpError {
  const e = errors[0];
  const path = (e?.instancePath ?? '').split('/').filter(Boolean).map(decodePointer);
  const params = (e?.params ?? {}) as Record<string, unknown>;
  let problem = e?.message ?? 'is invalid';
  if (e?.keyword === 'required') {
    path.push(String(params.missingProperty));
    problem = "is a required property";
  } else if (e?.keyword === 'additionalProperties') {
    path.push(String(params.additionalProperty));
    problem = 'is not allowed (additional properties are not allowed)';
  }
  const field = path.join('.') || (context === 'body' ? 'body' : context);
  return invalidField(field, `'${field}' ${problem}.`);
}

function decodePointer(s: string): string {
  return s.replace(/~1/g, '/').replace(/~0/g, '~');
}
