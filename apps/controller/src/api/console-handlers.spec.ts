import { FailedPreconditionError, InvalidArgumentError, NotFoundError, UnauthenticatedError } from '@minicloud/domain-errors';
import type { AuthContext } from '@minicloud/platform-auth';
import type { CallContext } from '@minicloud/platform-grpc';
import { makeInstance, memoryInstances } from '../testing/unit-fakes';
import { consoleHandlers } from './console-handlers';

const who = (projectId: string, roles = ['member'], extra: Partial<AuthContext> = {}): CallContext =>
  ({ auth: { tokenId: 't', userId: 'u', userName: 'u', projectId, projectName: projectId, domainId: 'default', roles, issuedAtMs: 0, expiresAtMs: 1, ...extra } satisfies AuthContext }) as unknown as CallContext;

function setup(over: Parameters<typeof makeInstance>[0] = {}) {
  const instances = memoryInstances([makeInstance({ id: 'i-1', projectId: 'p', hostId: 'h1', vmState: 'active', taskState: null, powerState: 'running', ...over })]);
  const reads: { hostId: string; instanceId: string; length?: number }[] = [];
  const agents = {
    getConsoleOutput: async (hostId: string, instanceId: string, length?: number) => {
      reads.push({ hostId, instanceId, length });
      if (hostId !== 'h1') throw new NotFoundError('instance', instanceId);
      return 'line 1\nline 2\n';
    },
  };
  return { h: consoleHandlers({ instances: instances as never, agents }), reads };
}

describe('GetConsoleOutput', () => {
  it("reads the console of the server's host for its project and for an admin, passing the length", async () => {
    const { h, reads } = setup();
    expect(await h.getConsoleOutput({ serverId: 'i-1', length: 5 }, who('p'))).toEqual({ output: 'line 1\nline 2\n' });
    expect(await h.getConsoleOutput({ serverId: 'i-1' }, who('', ['admin'], { systemScope: 'all' }))).toEqual({ output: 'line 1\nline 2\n' });
    expect(reads).toEqual([{ hostId: 'h1', instanceId: 'i-1', length: 5 }, { hostId: 'h1', instanceId: 'i-1', length: undefined }]);
  });

  it('refuses another project (NOT_FOUND), a caller without credentials and a malformed request', async () => {
    const { h, reads } = setup();
    await expect(h.getConsoleOutput({ serverId: 'i-1' }, who('other'))).rejects.toBeInstanceOf(NotFoundError);
    // role admin on another (non-admin) project is that project's admin only
    await expect(h.getConsoleOutput({ serverId: 'i-1' }, who('other', ['admin', 'member', 'reader']))).rejects.toBeInstanceOf(NotFoundError);
    await expect(h.getConsoleOutput({ serverId: 'i-1' }, {} as CallContext)).rejects.toBeInstanceOf(UnauthenticatedError);
    await expect(h.getConsoleOutput({ serverId: '' }, who('p'))).rejects.toMatchObject({ field: 'server_id' });
    await expect(h.getConsoleOutput({ serverId: 'i-1', length: -2 }, who('p'))).rejects.toEqual(expect.any(InvalidArgumentError));
    await expect(h.getConsoleOutput({ serverId: 'i-1', length: -2 }, who('p'))).rejects.toMatchObject({ field: 'length' });
    await expect(h.getConsoleOutput({ serverId: 'nope' }, who('p'))).rejects.toBeInstanceOf(NotFoundError);
    expect(reads).toEqual([]);
  });

  it.each([
    [{ hostId: '' }, 'instance_not_ready'],
    [{ taskState: 'deleting' as const }, 'instance_invalid_state'],
    [{ taskState: 'migrating' as const }, 'instance_invalid_state'],
    [{ hostId: 'h2' }, 'instance_not_ready'],
  ])('answers FAILED_PRECONDITION for a server with %j (%s)', async (over, reason) => {
    const { h } = setup(over);
    const e = await h.getConsoleOutput({ serverId: 'i-1' }, who('p')).catch((x) => x);
    expect(e).toBeInstanceOf(FailedPreconditionError);
    expect(e.reason).toBe(reason);
  });
});
