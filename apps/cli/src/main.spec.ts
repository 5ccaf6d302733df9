import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { InvalidArgumentError, UnavailableError, UnauthenticatedError } from '@minicloud/domain-errors';
import { compute } from '@minicloud/proto';
import type { CliIo, ConnectFn } from './io';
import { main } from './main';

const CATALOG = [
  { serviceType: 'identity', url: '10.0.0.1:5000', interface: 'public', region: 'r1' },
  { serviceType: 'compute', url: '10.0.0.1:5004', interface: 'public', region: 'r1' },
  { serviceType: 'image', url: '10.0.0.1:5001', interface: 'public', region: 'r1' },
  { serviceType: 'network', url: '10.0.0.1:5003', interface: 'public', region: 'r1' },
];

const server = (id: string, name: string, vmState: compute.VmState, extra: Partial<compute.Server> = {}) =>
  compute.Server.fromPartial({ id, name, vmState, flavor: { id: 'f1', name: 'm1.small' }, imageId: 'i1', ...extra });

/** An in-process harness: a temp config dir, string stdout/stderr, fake clients recording calls. */
function harness(fakes: Record<string, Record<string, (req: never) => unknown>>, env: Record<string, string> = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-cli-'));
  const out = { stdout: '', stderr: '' };
  const calls: string[] = [];
  let nowMs = Date.parse('2030-01-01T00:00:00Z');
  const connect = ((type: string, address: string, token: () => string | undefined) => {
    const methods = fakes[type] ?? {};
    const client: Record<string, unknown> = { close: () => undefined };
    for (const [name, fn] of Object.entries(methods)) {
      client[name] = async (req: never) => {
        calls.push(`${type}@${address}.${name} token=${token() ?? '-'}`);
        return fn(req);
      };
    }
    return client;
  }) as unknown as ConnectFn;
  const io: CliIo = {
    stdout: { write: (s: string) => (out.stdout += s) },
    stderr: { write: (s: string) => (out.stderr += s) },
    env: { MINICLOUD_CONFIG_DIR: dir, ...env },
    connect,
    now: () => nowMs,
    sleep: async (ms) => void (nowMs += ms),
  };
  return {
    dir,
    out,
    calls,
    run: (...argv: string[]) => main(argv, io),
    advance: (ms: number) => (nowMs += ms),
  };
}

const identityFake = {
  authenticate: (req: never) => {
    const r = req as { password?: { userName: string; password: string } };
    if (r.password?.password !== 'admin') throw new UnauthenticatedError('invalid user name or password');
    return {
      token: 'tok-1',
      info: { userId: 'u1', userName: 'admin', projectId: 'p1', projectName: 'admin', roles: ['admin', 'member', 'reader'], expiresAt: new Date('2030-01-01T01:00:00Z') },
      catalog: CATALOG,
    };
  },
  revokeToken: () => ({}),
};

describe('minicloud main(argv, io)', () => {
  it('says to log in when there is no token', async () => {
    const h = harness({});
    expect(await h.run('server', 'list')).toBe(1);
    expect(h.out.stderr).toBe("Error: not logged in: run 'minicloud login'\n");
  });

  it('logs in, stores token and catalog with mode 0600, then calls the catalog endpoint with the token', async () => {
    const h = harness({
      identity: identityFake,
      compute: { listServers: () => ({ servers: [server('s1', 'web', compute.VmState.VM_STATE_ACTIVE)], page: { nextPageToken: '' } }) },
      image: { listImages: () => ({ images: [{ id: 'i1', name: 'cirros' }], page: { nextPageToken: '' } }) },
    });
    expect(await h.run('login', '--url', '10.0.0.1:5000', '--user', 'admin', '--password', 'admin', '--project', 'admin')).toBe(0);
    const file = path.join(h.dir, 'credentials.json');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const stored = JSON.parse(fs.readFileSync(file, 'utf8'));
    expect(stored).toMatchObject({ token: 'tok-1', project_name: 'admin', expires_at: '2030-01-01T01:00:00.000Z' });
    expect(stored.catalog).toContainEqual({ service_type: 'compute', url: '10.0.0.1:5004', interface: 'public', region: 'r1' });

    h.out.stdout = '';
    expect(await h.run('server', 'list', '-f', 'value', '-c', 'ID', '-c', 'Status', '-c', 'Image')).toBe(0);
    expect(h.out.stdout).toBe('s1 ACTIVE cirros\n');
    expect(h.calls).toContain('compute@10.0.0.1:5004.listServers token=tok-1');

    h.out.stdout = '';
    expect(await h.run('server', 'list', '-f', 'json')).toBe(0);
    const [json] = JSON.parse(h.out.stdout);
    expect(json).toMatchObject({ id: 's1', status: 'ACTIVE', vm_state: 'active', task_state: null, image_id: 'i1', flavor: { name: 'm1.small' } });
  });

  it('reports a bad password as one UNAUTHENTICATED line and stores nothing', async () => {
    const h = harness({ identity: identityFake });
    expect(await h.run('login', '--user', 'admin', '--password', 'wrong')).toBe(1);
    expect(h.out.stderr).toBe('Error: invalid user name or password (UNAUTHENTICATED)\n');
    expect(fs.existsSync(path.join(h.dir, 'credentials.json'))).toBe(false);
  });

  it('logs in implicitly from env when the stored token has expired', async () => {
    const h = harness(
      { identity: identityFake, compute: { listFlavors: () => ({ flavors: [{ id: 'f1', name: 'm1.small', vcpus: 1, ramMb: 512, diskGb: 1 }] }) } },
      { MINICLOUD_USER: 'admin', MINICLOUD_PASSWORD: 'admin', MINICLOUD_URL: '10.0.0.1:5000' },
    );
    expect(await h.run('flavor', 'list', '-f', 'value', '-c', 'Name')).toBe(0);
    expect(h.out.stdout).toBe('m1.small\n');
    const authCalls = () => h.calls.filter((c) => c.includes('authenticate')).length;
    expect(authCalls()).toBe(1);
    await h.run('flavor', 'list');
    expect(authCalls()).toBe(1); // token still valid: reused from the file
    h.advance(2 * 3600_000);
    await h.run('flavor', 'list');
    expect(authCalls()).toBe(2);
  });

  it('says the token expired when it cannot log in again', async () => {
    const h = harness({ identity: identityFake });
    await h.run('login', '--user', 'admin', '--password', 'admin');
    h.advance(2 * 3600_000);
    expect(await h.run('host', 'list')).toBe(1);
    expect(h.out.stderr).toBe("Error: token expired: run 'minicloud login'\n");
  });

  describe('logged in', () => {
    async function loggedIn(fakes: Record<string, Record<string, (req: never) => unknown>>) {
      const h = harness({ identity: identityFake, ...fakes });
      await h.run('login', '--user', 'admin', '--password', 'admin');
      h.out.stdout = '';
      h.calls.length = 0;
      return h;
    }
    const bootFakes = (created: compute.Server[], states: compute.Server[][], createServer?: (req: never) => unknown) => ({
      image: { getImage: () => ({ image: { id: 'i1', name: 'cirros' } }) },
      network: { getNetwork: () => ({ network: { id: 'n1', name: 'net1' } }) },
      compute: {
        getFlavor: () => ({ flavor: { id: 'f1', name: 'm1.small' } }),
        listFlavors: () => ({ flavors: [{ id: 'f1', name: 'm1.small' }] }),
        createServer: createServer ?? (() => ({ servers: created })),
        getServer: (req: never) => {
          const id = (req as { serverId: string }).serverId;
          const s = states[0].find((x) => x.id === id)!;
          // After the last server of a round is read, the next poll sees the next round.
          if (id === created[created.length - 1].id && states.length > 1) states.shift();
          return { server: s };
        },
      },
    });

    it('validates --count locally, before any call', async () => {
      const h = await loggedIn(bootFakes([], [[]]));
      expect(await h.run('server', 'create', 'vm', '--image', 'cirros', '--flavor', 'm1.small', '--count', '-1')).toBe(1);
      expect(h.out.stderr).toBe('Error: invalid --count: must be a positive integer, got -1 (INVALID_ARGUMENT)\n');
      expect(h.calls).toEqual([]);
    });

    it('passes server errors through as one line', async () => {
      const h = await loggedIn(
        bootFakes([], [[]], () => {
          throw new InvalidArgumentError('min_count', 'must be positive');
        }),
      );
      expect(await h.run('server', 'create', 'vm', '--image', 'i1', '--flavor', 'f1')).toBe(1);
      expect(h.out.stderr).toBe('Error: invalid min_count: must be positive (INVALID_ARGUMENT)\n');
    });

    it('create --wait polls until ACTIVE or ERROR and exits 1 with the fault', async () => {
      const building = [server('s1', 'vm-1', compute.VmState.VM_STATE_BUILDING), server('s2', 'vm-2', compute.VmState.VM_STATE_BUILDING)];
      const done = [
        server('s1', 'vm-1', compute.VmState.VM_STATE_ACTIVE),
        server('s2', 'vm-2', compute.VmState.VM_STATE_ERROR, { fault: { code: 'RESOURCE_EXHAUSTED', message: 'No valid host was found', details: '' } }),
      ];
      const h = await loggedIn(bootFakes(building, [building, done]));
      const rc = await h.run('server', 'create', 'vm', '--image', 'cirros', '--flavor', 'm1.small', '--network', 'net1', '--count', '2', '--wait', '--property', 'role=web');
      expect(rc).toBe(1);
      const lines = h.out.stderr.trim().split('\n');
      expect(lines).toContain('s1: BUILD');
      expect(lines).toContain('s2: ERROR');
      expect(lines[lines.length - 1]).toBe('Error: server vm-2 (s2) went to ERROR: No valid host was found (RESOURCE_EXHAUSTED)');
      expect(h.out.stdout).toContain('ACTIVE');
      const create = h.calls.find((c) => c.includes('createServer'));
      expect(create).toBeDefined();
    });

    it('resize revert --wait (and confirm --wait) poll until the task has ended', async () => {
      const reverting = server('s1', 'vm', compute.VmState.VM_STATE_RESIZED, { taskState: compute.TaskState.TASK_STATE_RESIZE_REVERTING });
      const active = server('s1', 'vm', compute.VmState.VM_STATE_ACTIVE);
      for (const sub of ['revert', 'confirm']) {
        const polls = [reverting, reverting, active];
        const actions: unknown[] = [];
        const h = await loggedIn({
          compute: {
            listServers: () => ({ servers: [active] }),
            serverAction: (req: never) => (actions.push(req), { server: reverting }),
            getServer: () => ({ server: polls.length > 1 ? polls.shift() : polls[0] }),
          },
        });
        expect(await h.run('server', 'resize', sub, 'vm', '--wait')).toBe(0);
        expect(actions).toHaveLength(1);
        expect(polls).toEqual([active]);
      }
    });

    it('names the unreachable service', async () => {
      const h = await loggedIn({
        compute: {
          listHosts: () => {
            throw new UnavailableError('No connection established. Last error: Error: connect ECONNREFUSED 10.0.0.1:5004');
          },
        },
      });
      expect(await h.run('host', 'list')).toBe(1);
      expect(h.out.stderr).toBe('Error: cannot reach compute service at 10.0.0.1:5004: connection refused (UNAVAILABLE)\n');
    });

    it('network create --subnet-range removes the network when the subnet fails', async () => {
      const h = await loggedIn({
        network: {
          createNetwork: () => ({ network: { id: 'n9', name: 'blue' } }),
          createSubnet: () => {
            throw new InvalidArgumentError('cidr', 'not a CIDR');
          },
          deleteNetwork: () => ({}),
        },
      });
      expect(await h.run('network', 'create', 'blue', '--subnet-range', '10.0.0/33')).toBe(1);
      expect(h.out.stderr).toBe('Error: invalid cidr: not a CIDR (INVALID_ARGUMENT)\n');
      expect(h.calls.map((c) => c.split('.').pop()?.split(' ')[0])).toEqual(['createNetwork', 'createSubnet', 'deleteNetwork']);
    });

    it('logout revokes the token and deletes the file', async () => {
      const h = await loggedIn({});
      expect(await h.run('logout')).toBe(0);
      expect(h.calls).toEqual(['identity@10.0.0.1:5000.revokeToken token=tok-1']);
      expect(fs.existsSync(path.join(h.dir, 'credentials.json'))).toBe(false);
    });

    it('flavor create --private --project grants access; set/unset --project and --property', async () => {
      const sentReqs: [string, unknown][] = [];
      const rec = (name: string, answer: unknown) => (req: never) => (sentReqs.push([name, req]), answer);
      const flavor = { id: 'f9', name: 'm1.secret', vcpus: 1, ramMb: 512, diskGb: 1, isPublic: false };
      const h = await loggedIn({
        compute: {
          createFlavor: rec('createFlavor', { flavor }),
          getFlavor: rec('getFlavor', { flavor }),
          addFlavorAccess: rec('addFlavorAccess', { projectIds: ['p1'] }),
          removeFlavorAccess: rec('removeFlavorAccess', { projectIds: [] }),
          setFlavorExtraSpecs: rec('setFlavorExtraSpecs', { flavor }),
        },
      });
      expect(await h.run('flavor', 'create', 'm1.secret', '--vcpus', '1', '--ram', '512', '--disk', '1', '--private', '--project', 'p1', '-f', 'value', '-c', 'id')).toBe(0);
      expect(sentReqs.map(([m]) => m)).toEqual(['createFlavor', 'addFlavorAccess']);
      expect(sentReqs[1][1]).toEqual({ flavorId: 'f9', projectId: 'p1' });
      sentReqs.length = 0;
      expect(await h.run('flavor', 'set', 'f9', '--project', 'p2', '--property', 'hw:cpu_policy=dedicated')).toBe(0);
      expect(sentReqs.slice(1)).toEqual([
        ['setFlavorExtraSpecs', { flavorId: 'f9', extraSpecs: { 'hw:cpu_policy': 'dedicated' }, unset: [] }],
        ['addFlavorAccess', { flavorId: 'f9', projectId: 'p2' }],
      ]);
      sentReqs.length = 0;
      expect(await h.run('flavor', 'unset', 'f9', '--project', 'p2', '--property', 'hw:cpu_policy')).toBe(0);
      expect(sentReqs.slice(1)).toEqual([
        ['setFlavorExtraSpecs', { flavorId: 'f9', extraSpecs: {}, unset: ['hw:cpu_policy'] }],
        ['removeFlavorAccess', { flavorId: 'f9', projectId: 'p2' }],
      ]);
      sentReqs.length = 0;
      expect(await h.run('flavor', 'create', 'pub', '--vcpus', '1', '--ram', '512', '--disk', '1', '--project', 'p1')).toBe(1);
      expect(h.out.stderr).toMatch(/--project: only a --private flavor has an access list/);
      expect(sentReqs).toEqual([]);
    });

    it('host list shows used/total and epoch', async () => {
      const h = await loggedIn({
        compute: {
          listHosts: () => ({
            hosts: [compute.Host.fromPartial({ id: 'h1', state: compute.HostState.HOST_STATE_UP, enabled: true, epoch: 3, runningVms: 2, vcpus: { total: 16, allocated: 4 }, ramMb: { total: 65536, allocated: 4096 } })],
          }),
        },
      });
      expect(await h.run('host', 'list', '-f', 'value')).toBe(0);
      expect(h.out.stdout).toBe('h1 up True 4/16 4096/65536 2 3\n');
    });
  });

  it('rejects an unknown command in one line', async () => {
    const h = harness({});
    expect(await h.run('server', 'frobnicate')).toBe(1);
    expect(h.out.stderr).toBe("Error: unknown command 'frobnicate'\n");
  });
});
