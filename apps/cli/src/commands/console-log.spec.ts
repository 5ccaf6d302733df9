import { compute } from '@minicloud/proto';
import { FailedPreconditionError } from '@minicloud/domain-errors';
import { loggedInCli } from '../testing/fake-cli';

async function cloud() {
  const calls: compute.GetConsoleOutputRequest[] = [];
  const fakes = {
    compute: {
      getServer: (req: compute.GetServerRequest) => ({ server: compute.Server.fromPartial({ id: req.serverId, name: 'web' }) }),
      listServers: () => ({ servers: [compute.Server.fromPartial({ id: 's1', name: 'web' })] }),
      getConsoleOutput: (req: compute.GetConsoleOutputRequest) => {
        calls.push(req);
        if (req.serverId === 's-shelved') throw new FailedPreconditionError('Instance s-shelved is not ready', 'instance_not_ready');
        return { output: '[    0.000000] Linux version 5.15.0\ncloud-init[744]: hello\n' };
      },
    },
  };
  const cli = await loggedInCli({ dirPrefix: 'mc-cli-console-', services: fakes });
  return { ...cli, calls };
}

describe('minicloud server console-log', () => {
  it('prints the console as is, with --lines as the length', async () => {
    const c = await cloud();
    expect(await c.run('server', 'console-log', 's1', '--lines', '20')).toBe(0);
    expect(c.out.stdout).toBe('[    0.000000] Linux version 5.15.0\ncloud-init[744]: hello\n');
    expect(c.calls).toEqual([expect.objectContaining({ serverId: 's1', length: 20 })]);
    expect(await c.run('server', 'console-log', 's1')).toBe(0);
    expect(c.calls[1].length).toBeUndefined();
  });

  it('refuses a bad --lines and prints the controller refusal (exit 1)', async () => {
    const c = await cloud();
    expect(await c.run('server', 'console-log', 's1', '--lines', '-3')).toBe(1);
    expect(c.out.stderr).toMatch(/--lines must be a whole number/);
    expect(await c.run('server', 'console-log', 's-shelved')).toBe(1);
    expect(c.out.stderr).toMatch(/Instance s-shelved is not ready/);
  });
});
