import { FailedPreconditionError } from '@minicloud/domain-errors';
import { externalServerHandle } from './server-handle';

describe('externalServerHandle', () => {
  it('reports the URL and its port, or the default port', () => {
    expect(externalServerHandle('redis://10.0.0.5:6390', 6379)).toMatchObject({ url: 'redis://10.0.0.5:6390', port: 6390 });
    expect(externalServerHandle('redis://cache', 6379).port).toBe(6379);
    expect(externalServerHandle('nats://a:4333,nats://b:4334', 4222).port).toBe(4333);
    expect(externalServerHandle('127.0.0.1:4444', 4222).port).toBe(4444);
    expect(externalServerHandle('redis://cache', 6379).pid).toBeUndefined();
  });

  it('stop is a no-op; kill, restart, pause and resume refuse with a clear error', async () => {
    const handle = externalServerHandle('redis://cache:6379', 6379);
    await expect(handle.stop()).resolves.toBeUndefined();
    await expect(handle.kill('SIGKILL')).rejects.toThrow(/^external server: cannot kill/);
    await expect(handle.kill()).rejects.toBeInstanceOf(FailedPreconditionError);
    await expect(handle.restart()).rejects.toThrow(/^external server: cannot restart/);
    expect(() => handle.pause()).toThrow(/^external server: cannot pause/);
    expect(() => handle.resume()).toThrow(/^external server: cannot resume/);
  });
});
