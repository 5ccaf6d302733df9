import { FailedPreconditionError, InvalidArgumentError, NotFoundError, UnauthenticatedError } from '@minicloud/domain-errors';
import type { AuthContext } from '@minicloud/platform-auth';
import type { CallContext } from '@minicloud/platform-grpc';
import type { compute } from '@minicloud/proto';
import { makeInstance, memoryInstances } from '../testing/unit-fakes';
import { serverHandlers } from './server-handlers';

const who = (projectId: string, roles = ['member']): CallContext =>
  ({ requestId: 'req-cp', auth: { tokenId: 't', userId: 'u', userName: 'u', projectId, projectName: projectId, domainId: 'default', roles, issuedAtMs: 0, expiresAtMs: 1 } satisfies AuthContext }) as unknown as CallContext;

const action = (adminPass: string, serverId = 'i-1') => ({ serverId, changePassword: { adminPass } }) as unknown as compute.ServerActionRequest;

function setup(over: Parameters<typeof makeInstance>[0] = {}, refuse?: Error) {
  const instances = memoryInstances([makeInstance({ id: 'i-1', projectId: 'p', hostId: 'h1', vmState: 'active', taskState: null, powerState: 'running', ...over })]);
  const sent: { hostId: string; instanceId: string; adminPass: string; requestId?: string }[] = [];
  const agents = {
    setAdminPassword: async (hostId: string, instanceId: string, adminPass: string, scope: { requestId?: string }) => {
      if (refuse) throw refuse;
      sent.push({ hostId, instanceId, adminPass, requestId: scope.requestId });
      return { instance: undefined };
    },
  };
  const h = serverHandlers({ instances, agents, nowMs: () => 1000 } as never);
  return { h, sent, instances };
}

describe('ServerAction change_password (Nova set_admin_password)', () => {
  it('sets the password through the agent of the server\'s host, logs changePassword, stores nothing', async () => {
    const { h, sent, instances } = setup();
    await h.serverAction(action('n3w-Secret'), who('p'));
    expect(sent).toEqual([{ hostId: 'h1', instanceId: 'i-1', adminPass: 'n3w-Secret', requestId: 'req-cp' }]);
    expect(instances.actions.get('req-cp')).toMatchObject({ action: 'changePassword', result: 'Success' });
    expect(JSON.stringify(instances.byId.get('i-1'))).not.toContain('n3w-Secret');
  });

  it('is FAILED_PRECONDITION unless ACTIVE with no task, or when locked for a member', async () => {
    for (const over of [{ vmState: 'stopped' as const }, { taskState: 'rebooting' as const }, { locked: true }]) {
      const { h, sent } = setup(over);
      await expect(h.serverAction(action('x'), who('p'))).rejects.toBeInstanceOf(FailedPreconditionError);
      expect(sent).toEqual([]);
    }
    const { h } = setup({ vmState: 'stopped' });
    await expect(h.serverAction(action('x'), who('p'))).rejects.toThrow("Cannot 'changePassword' instance i-1 while it is in vm_state stopped");
  });

  it('refuses another project (NOT_FOUND), a caller without credentials and an empty password; an agent error fails the action', async () => {
    const { h, sent } = setup();
    await expect(h.serverAction(action('x'), who('other'))).rejects.toBeInstanceOf(NotFoundError);
    await expect(h.serverAction(action('x'), {} as CallContext)).rejects.toBeInstanceOf(UnauthenticatedError);
    await expect(h.serverAction(action(''), who('p'))).rejects.toMatchObject({ field: 'change_password.admin_pass' });
    await expect(h.serverAction(action(''), who('p'))).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(sent).toEqual([]);
    const failing = setup({}, new FailedPreconditionError('instance i-1 is shutdown: its guest agent cannot set a password', 'instance_not_running'));
    await expect(failing.h.serverAction(action('x'), who('p'))).rejects.toBeInstanceOf(FailedPreconditionError);
    expect(failing.instances.actions.get('req-cp')).toMatchObject({ action: 'changePassword', result: 'Error' });
  });
});
