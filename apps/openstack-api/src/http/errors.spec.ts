import { AlreadyExistsError, ConflictError, FailedPreconditionError, InternalError, InvalidArgumentError, NotFoundError, PermissionDeniedError, ResourceExhaustedError, UnauthenticatedError, UnavailableError } from '@minicloud/domain-errors';
import { errorBody, httpStatusOf, HttpError, publicMessage } from './errors';

describe('httpStatusOf (the one gRPC -> HTTP mapping)', () => {
  it.each([
    [new InvalidArgumentError('server.name', 'is required'), 400],
    [new UnauthenticatedError('expired'), 401],
    [new PermissionDeniedError('needs admin'), 403],
    [new NotFoundError('server', 'x'), 404],
    [new FailedPreconditionError('server is locked'), 409],
    [new ConflictError('lost a race'), 409],
    [new UnavailableError('redis down'), 503],
    [new InternalError('bug'), 500],
    [new Error('not typed'), 500],
    [new HttpError(406, 'bad version'), 406],
  ])('%p -> %i', (err, status) => expect(httpStatusOf(err, 'compute')).toBe(status));

  it('quota or capacity exhausted answers as each API does', () => {
    const e = new ResourceExhaustedError('Quota exceeded for instances', 'quota');
    expect(httpStatusOf(e, 'compute')).toBe(403);
    expect(httpStatusOf(e, 'network')).toBe(409);
    expect(httpStatusOf(e, 'volume')).toBe(413);
  });
});

describe('errorBody (each API its own form)', () => {
  it('Nova and Cinder: fault name by status', () => {
    expect(errorBody('compute', 404, 'Instance x could not be found.')).toEqual({ itemNotFound: { code: 404, message: 'Instance x could not be found.' } });
    expect(errorBody('compute', 400, 'bad')).toEqual({ badRequest: { code: 400, message: 'bad' } });
    expect(errorBody('compute', 409, 'locked')).toEqual({ conflictingRequest: { code: 409, message: 'locked' } });
    expect(errorBody('compute', 403, 'no')).toEqual({ forbidden: { code: 403, message: 'no' } });
    expect(errorBody('compute', 500, 'oops')).toEqual({ computeFault: { code: 500, message: 'oops' } });
    expect(errorBody('volume', 404, 'gone')).toEqual({ itemNotFound: { code: 404, message: 'gone' } });
  });

  it('Keystone, and a 401 from any API: {"error": {code, title, message}}', () => {
    expect(errorBody('identity', 404, 'Could not find project: x.')).toEqual({ error: { code: 404, title: 'Not Found', message: 'Could not find project: x.' } });
    expect(errorBody('compute', 401, 'auth')).toEqual({ error: { code: 401, title: 'Unauthorized', message: 'auth' } });
  });

  it('Neutron: NeutronError with a type named after the resource', () => {
    expect(errorBody('network', 404, 'gone', new NotFoundError('network', 'n1'))).toEqual({ NeutronError: { type: 'NetworkNotFound', message: 'gone', detail: '' } });
    expect(errorBody('network', 404, 'gone', new NotFoundError('security_group', 's1')).NeutronError).toMatchObject({ type: 'SecurityGroupNotFound' });
    expect(errorBody('network', 400, 'bad', new HttpError(400, 'bad', 'HTTPBadRequest')).NeutronError).toMatchObject({ type: 'HTTPBadRequest' });
    expect(errorBody('network', 409, 'quota', new ResourceExhaustedError('quota')).NeutronError).toMatchObject({ type: 'OverQuota' });
    expect(errorBody('network', 409, 'in use', new FailedPreconditionError('in use', 'security_group_in_use')).NeutronError).toMatchObject({ type: 'SecurityGroupInUse' });
    expect(errorBody('network', 409, 'no', new FailedPreconditionError('no', 'default_security_group')).NeutronError).toMatchObject({ type: 'SecurityGroupCannotRemoveDefault' });
    expect(errorBody('network', 409, 'dup', new AlreadyExistsError('security_group_rule', 'r1')).NeutronError).toMatchObject({ type: 'SecurityGroupRuleExists' });
    expect(errorBody('network', 400, 'bad', new InvalidArgumentError('protocol', 'bad')).NeutronError).toMatchObject({ type: 'InvalidInput' });
    expect(errorBody('network', 409, 'other', new FailedPreconditionError('other')).NeutronError).toMatchObject({ type: 'Conflict' });
  });

  it("Glance: webob's JSON error", () => {
    expect(errorBody('image', 404, 'No image found with ID x')).toEqual({ code: '404 Not Found', title: 'Not Found', message: 'No image found with ID x' });
  });
});

describe('publicMessage', () => {
  it('keeps a typed error message, hides an untyped 500, and says what keystonemiddleware says on 401', () => {
    expect(publicMessage(new NotFoundError('server', 'x'), 404)).toBe('server x not found');
    expect(publicMessage(new TypeError('cannot read x of undefined'), 500)).not.toMatch(/undefined/);
    expect(publicMessage(new UnauthenticatedError('token expired'), 401)).toBe('The request you have made requires authentication.');
  });
});
