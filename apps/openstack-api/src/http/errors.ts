import { MinicloudError, type ErrorCode } from '@minicloud/domain-errors';

/** The OpenStack APIs this front serves; each writes its error bodies its own way. */
export type ApiName = 'identity' | 'compute' | 'image' | 'network' | 'volume';

/**
 * An error the REST layer itself raises (a malformed body, an unknown route, an unsupported
 * microversion), with its HTTP status; errors from the gRPC services stay typed minicloud errors and
 * get their status from {@link httpStatusOf}.
 */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    message: string,
    /** Neutron's error `type` (e.g. "HTTPBadRequest"); other APIs ignore it. */
    readonly type?: string,
  ) {
    super(message);
  }
}

/** A request body or query field that is missing or has the wrong type or value: 400 naming the field. */
export function invalidField(field: string, problem: string): HttpError {
  return new HttpError(400, `Invalid input for field/attribute ${field}. ${problem}`, 'HTTPBadRequest');
}

/**
 * THE mapping of gRPC status (as the typed minicloud error it arrives as) to HTTP status, as each
 * OpenStack API answers: another project's resource is NOT_FOUND -> 404 (Nova, Neutron, Glance and
 * Cinder all hide it); a state conflict is 409; quota or capacity exhausted is 403 in Nova
 * ("Quota exceeded"), 409 in Neutron (OverQuota), 413 in Glance and Cinder (over limit).
 */
export function httpStatusOf(err: unknown, api: ApiName): number {
  if (err instanceof HttpError) return err.status;
  if (!(err instanceof MinicloudError)) return 500;
  if (err.code === 'RESOURCE_EXHAUSTED') return api === 'compute' ? 403 : api === 'network' ? 409 : 413;
  return STATUS_BY_CODE[err.code];
}

const STATUS_BY_CODE: Record<ErrorCode, number> = {
  INVALID_ARGUMENT: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  FAILED_PRECONDITION: 409,
  ABORTED: 409,
  RESOURCE_EXHAUSTED: 413,
  INTERNAL: 500,
  UNAVAILABLE: 503,
  DEADLINE_EXCEEDED: 504,
};

/** HTTP reason phrases (Keystone's `title`, Glance's `code`). */
const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  413: 'Request Entity Too Large',
  415: 'Unsupported Media Type',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** Nova's (and Cinder's) fault names by status (nova/api/openstack/wsgi.py `Fault._fault_names`). */
const NOVA_FAULTS: Record<number, string> = {
  400: 'badRequest',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'itemNotFound',
  405: 'badMethod',
  406: 'notAcceptable',
  409: 'conflictingRequest',
  413: 'overLimit',
  415: 'badMediaType',
  429: 'overLimit',
  501: 'notImplemented',
  503: 'serviceUnavailable',
};

/**
 * neutron-lib's exception names for the network service's error reasons (and for not-found resource
 * types whose Neutron name is not their CamelCase), where they differ from the generic ones.
 */
const NEUTRON_TYPES: Record<string, string> = {
  router_in_use: 'RouterInUse',
  router_interface_in_use: 'RouterInterfaceInUseByFloatingIP',
  router_interface_in_use_by_route: 'RouterInterfaceInUseByRoute',
  gateway_in_use: 'RouterExternalGatewayInUseByFloatingIp',
  port_in_use: 'PortInUse',
  port_has_floating_ip: 'FloatingIPPortAlreadyAssociated',
  floating_ip: 'FloatingIPNotFound',
  external_gateway_for_floating_ip: 'ExternalGatewayForFloatingIPNotFound',
  security_group_in_use: 'SecurityGroupInUse',
  default_security_group: 'SecurityGroupCannotRemoveDefault',
  default_security_group_update: 'SecurityGroupCannotUpdateDefault',
  network_in_use: 'NetworkInUse',
  subnet_in_use: 'SubnetInUse',
};

/** Neutron's exception type for an error without one of its own (neutron-lib's exception names). */
function neutronType(status: number, err: unknown): string {
  if (err instanceof HttpError && err.type) return err.type;
  const known = err instanceof MinicloudError ? NEUTRON_TYPES[(err.code === 'NOT_FOUND' ? err.resourceType : err.reason) ?? ''] : undefined;
  if (known) return known;
  if (err instanceof MinicloudError && err.code === 'NOT_FOUND') {
    const kind = (err.resourceType ?? 'resource').replace(/(^|[_\s-])(\w)/g, (_, __, c: string) => c.toUpperCase());
    return `${kind}NotFound`;
  }
  if (err instanceof MinicloudError && err.code === 'RESOURCE_EXHAUSTED') return 'OverQuota';
  if (err instanceof MinicloudError && err.code === 'ALREADY_EXISTS' && err.resourceType === 'security_group_rule') return 'SecurityGroupRuleExists';
  if (err instanceof MinicloudError && err.code === 'INVALID_ARGUMENT') return 'InvalidInput';
  return { 400: 'HTTPBadRequest', 401: 'HTTPUnauthorized', 403: 'HTTPForbidden', 404: 'HTTPNotFound', 409: 'Conflict', 503: 'ServiceUnavailable' }[status] ?? 'HTTPInternalServerError';
}

/**
 * The error body each API defines, for `status` and the message people read:
 * - a 401 from any API is keystonemiddleware's, Keystone's shape `{"error": {code, title, message}}`;
 * - identity: `{"error": {"code", "title", "message"}}`;
 * - compute and volume: `{"<faultName>": {"code", "message"}}` (itemNotFound, badRequest, ...; 500: computeFault);
 * - network: `{"NeutronError": {"type", "message", "detail"}}`;
 * - image: webob's JSON error `{"code": "404 Not Found", "title", "message"}`, as Glance answers.
 */
export function errorBody(api: ApiName, status: number, message: string, err?: unknown): Record<string, unknown> {
  const title = TITLES[status] ?? 'Error';
  if (api === 'identity' || status === 401) return { error: { code: status, title, message } };
  if (api === 'compute' || api === 'volume') {
    const fault = NOVA_FAULTS[status] ?? (api === 'compute' ? 'computeFault' : 'volumeFault');
    return { [fault]: { code: status, message } };
  }
  if (api === 'network') return { NeutronError: { type: neutronType(status, err), message, detail: '' } };
  return { code: `${status} ${title}`, title, message };
}

/** The message sent for an error: the typed error's own (it names the field or resource), never a stack. */
export function publicMessage(err: unknown, status: number): string {
  // keystonemiddleware's words for every refused token; why it was refused stays in the logs
  if (status === 401) return 'The request you have made requires authentication.';
  if (status >= 500 && !(err instanceof HttpError) && !(err instanceof MinicloudError && err.code !== 'INTERNAL')) {
    return 'The server has either erred or is incapable of performing the requested operation.';
  }
  return err instanceof Error ? err.message : String(err);
}
