import { InvalidArgumentError, NotFoundError, isMinicloudError, ResourceExhaustedError } from './errors';

describe('typed errors', () => {
  it('name the field, the resource and the code', () => {
    const e = new InvalidArgumentError('flavor.vcpus', 'must be positive');
    expect(e.message).toBe('invalid flavor.vcpus: must be positive');
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.field).toBe('flavor.vcpus');
    expect(e.name).toBe('InvalidArgumentError');
    const n = new NotFoundError('flavor', 'm1.huge');
    expect(n.message).toBe('flavor m1.huge not found');
    expect(isMinicloudError(n)).toBe(true);
    expect(isMinicloudError(new Error('x'))).toBe(false);
    expect(new ResourceExhaustedError('No valid host', 'no_valid_host').reason).toBe('no_valid_host');
  });
});
