import { PermissionDeniedError } from '@minicloud/domain-errors';
import { checkReservedMetadata } from './reserved-metadata';

describe('checkReservedMetadata', () => {
  it.each(['minicloud:workload', 'Minicloud:Workload', ' minicloud:workload', 'minicloud:anything'])('refuses a member setting %j, naming the key', (key) => {
    const call = () => checkReservedMetadata({ role: 'web', [key]: 'trace:/etc/shadow' }, false);
    expect(call).toThrow(PermissionDeniedError);
    expect(call).toThrow(key);
  });

  it('refuses a member removing a reserved key', () => {
    expect(() => checkReservedMetadata({}, false, ['role', 'minicloud:workload'])).toThrow(/"minicloud:workload" is reserved/);
    expect(() => checkReservedMetadata({}, true, ['minicloud:workload'])).not.toThrow();
  });

  it('lets an admin set reserved keys', () => {
    expect(() => checkReservedMetadata({ 'minicloud:workload': 'trace:20110303/x' }, true)).not.toThrow();
  });

  it('lets a member set ordinary keys, or none', () => {
    expect(() => checkReservedMetadata({ role: 'web', 'minicloud-like': 'x', 'os:minicloud:workload': 'x' }, false)).not.toThrow();
    expect(() => checkReservedMetadata(undefined, false)).not.toThrow();
    expect(() => checkReservedMetadata({}, false)).not.toThrow();
  });
});
