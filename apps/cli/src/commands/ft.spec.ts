import { compute } from '@minicloud/proto';
import { PermissionDeniedError } from '@minicloud/domain-errors';
import { loggedInCli } from '../testing/fake-cli';

/** In-process CLI against a fake compute service whose FT pair becomes protected on the second read. */
async function cloud(opts: { refuse?: boolean } = {}) {
  let s = compute.Server.fromPartial({ id: 's1', name: 'web', hostId: 'h1', vmState: compute.VmState.VM_STATE_ACTIVE, status: 'ACTIVE', ftState: 'not_protected' });
  const calls: compute.SetServerFaultToleranceRequest[] = [];
  let reads = 0;
  const fakes = {
    compute: {
      getServer: () => {
        reads++;
        if (s.ftState === 'starting' && reads > 2) s = { ...s, ftState: 'protected' };
        return { server: s };
      },
      listServers: () => ({ servers: [s] }),
      setServerFaultTolerance: (req: compute.SetServerFaultToleranceRequest) => {
        calls.push(req);
        if (opts.refuse) throw new PermissionDeniedError('policy requires admin for SetServerFaultTolerance');
        s = req.enabled ? { ...s, ftState: 'starting', ftSecondaryHostId: 'h2', ftGeneration: s.ftGeneration + 1 } : { ...s, ftState: 'not_protected', ftSecondaryHostId: '', ftGeneration: s.ftGeneration + 1 };
        return { server: s };
      },
    },
  };
  const cli = await loggedInCli({ dirPrefix: 'mc-cli-ft-', services: fakes });
  return { out: cli.out, calls, run: cli.run };
}

describe('minicloud server ft enable|disable', () => {
  it('enable --wait turns FT on and waits until protected, showing the secondary host', async () => {
    const c = await cloud();
    expect(await c.run('server', 'ft', 'enable', 'web', '--wait', '-f', 'json')).toBe(0);
    expect(c.calls).toEqual([expect.objectContaining({ serverId: 's1', enabled: true })]);
    expect(JSON.parse(c.out.stdout)).toMatchObject({ id: 's1', ft_state: 'protected', ft_secondary_host_id: 'h2' });
  });

  it('disable turns FT off', async () => {
    const c = await cloud();
    expect(await c.run('server', 'ft', 'disable', 's1', '-f', 'json')).toBe(0);
    expect(c.calls).toEqual([expect.objectContaining({ serverId: 's1', enabled: false })]);
    expect(JSON.parse(c.out.stdout)).toMatchObject({ ft_state: 'not_protected', ft_secondary_host_id: '' });
  });

  it('prints a refusal as one error line (exit 1)', async () => {
    const c = await cloud({ refuse: true });
    expect(await c.run('server', 'ft', 'enable', 's1')).toBe(1);
    expect(c.out.stderr).toMatch(/requires admin/);
  });
});
