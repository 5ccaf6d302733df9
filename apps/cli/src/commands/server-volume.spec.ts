import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { compute, volume } from '@minicloud/proto';
import { NotFoundError } from '@minicloud/domain-errors';
import type { CliIo, ConnectFn } from '../io';
import { main } from '../main';

/** In-process CLI run against fake compute/volume clients (logged in first). */
async function loggedIn() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-cli-srvvol-'));
  const out = { stdout: '', stderr: '' };
  const actions: compute.ServerActionRequest[] = [];
  const creates: compute.CreateServerRequest[] = [];
  const srv = compute.Server.fromPartial({ id: 's1', name: 'web', volumesAttached: [{ volumeId: 'v-old', deviceName: '/dev/vdc', attachmentId: 'a0' }] });
  const fakes: Record<string, Record<string, (req: never) => unknown>> = {
    identity: {
      authenticate: () => ({
        token: 'tok',
        info: { userId: 'u1', userName: 'admin', projectId: 'p1', projectName: 'admin', roles: ['member'], expiresAt: new Date('2030-01-01T01:00:00Z') },
        catalog: [
          { serviceType: 'compute', url: '10.0.0.1:5004', interface: 'public', region: 'r1' },
          { serviceType: 'volume', url: '10.0.0.1:5002', interface: 'public', region: 'r1' },
          { serviceType: 'image', url: '10.0.0.1:5001', interface: 'public', region: 'r1' },
          { serviceType: 'network', url: '10.0.0.1:5003', interface: 'public', region: 'r1' },
        ],
      }),
    },
    compute: {
      getServer: (req: compute.GetServerRequest) => {
        if (req.serverId !== 's1') throw new NotFoundError('server', req.serverId);
        return { server: srv };
      },
      listServers: (req: compute.ListServersRequest) => ({ servers: req.name === 'web' ? [srv] : [] }),
      getFlavor: () => ({ flavor: compute.Flavor.fromPartial({ id: 'f1', name: 'm1.small' }) }),
      createServer: (req: compute.CreateServerRequest) => {
        creates.push(req);
        return { servers: [compute.Server.fromPartial({ id: 's9', name: req.name })] };
      },
      serverAction: (req: compute.ServerActionRequest) => {
        actions.push(req);
        return { server: compute.Server.fromPartial({ id: 's1', volumesAttached: req.attachVolume ? [{ volumeId: req.attachVolume.volumeId, deviceName: req.attachVolume.deviceName || '/dev/vdb', attachmentId: 'att-9' }] : [] }) };
      },
    },
    image: {
      getImage: () => ({ image: { id: 'img-1', name: 'cirros' } }),
    },
    volume: {
      getVolume: (req: volume.GetVolumeRequest) => {
        if (req.volumeId !== 'v1') throw new NotFoundError('volume', req.volumeId);
        return { volume: volume.Volume.fromPartial({ id: 'v1', name: 'data' }) };
      },
      listVolumes: () => ({ volumes: [volume.Volume.fromPartial({ id: 'v1', name: 'data' })] }),
    },
  };
  const connect = ((type: string) => {
    const client: Record<string, unknown> = { close: () => undefined };
    for (const [name, fn] of Object.entries(fakes[type] ?? {})) client[name] = async (req: never) => fn(req);
    return client;
  }) as unknown as ConnectFn;
  const io: CliIo = {
    stdout: { write: (s: string) => (out.stdout += s) },
    stderr: { write: (s: string) => (out.stderr += s) },
    env: { MINICLOUD_CONFIG_DIR: dir, MINICLOUD_URL: '10.0.0.1:5000', MINICLOUD_USER: 'admin', MINICLOUD_PASSWORD: 'admin', MINICLOUD_PROJECT: 'admin' },
    connect,
    now: () => Date.parse('2030-01-01T00:00:00Z'),
    sleep: async () => undefined,
  };
  expect(await main(['login'], io)).toBe(0);
  out.stdout = '';
  return { out, actions, creates, run: (...argv: string[]) => main(argv, io) };
}

describe('minicloud server add/remove volume', () => {
  it('add resolves server and volume by name, sends attach_volume with --device and prints the attachment', async () => {
    const h = await loggedIn();
    expect(await h.run('server', 'add', 'volume', 'web', 'data', '--device', '/dev/vdd', '-f', 'json')).toBe(0);
    expect(h.actions[0]).toMatchObject({ serverId: 's1', attachVolume: { volumeId: 'v1', deviceName: '/dev/vdd' } });
    expect(JSON.parse(h.out.stdout)).toEqual({ id: 'att-9', server_id: 's1', volume_id: 'v1', device: '/dev/vdd' });
  });

  it('remove sends detach_volume (an attached id works even when the volume is not visible)', async () => {
    const h = await loggedIn();
    expect(await h.run('server', 'remove', 'volume', 's1', 'data')).toBe(0);
    expect(await h.run('server', 'remove', 'volume', 's1', 'v-old')).toBe(0);
    expect(h.actions.map((a) => a.detachVolume?.volumeId)).toEqual(['v1', 'v-old']);
  });

  it('an unknown volume fails with one error line and no action', async () => {
    const h = await loggedIn();
    expect(await h.run('server', 'add', 'volume', 'web', 'nope')).toBe(1);
    expect(h.out.stderr).toMatch(/nope/);
    expect(h.actions).toEqual([]);
  });
});

describe('minicloud server create --boot-from-volume / --volume', () => {
  it('--boot-from-volume SIZE maps the image to a new root volume (no image_ref); --volume boots an existing one', async () => {
    const h = await loggedIn();
    expect(await h.run('server', 'create', 'bfv', '--image', 'img-1', '--boot-from-volume', '10', '--flavor', 'f1')).toBe(0);
    expect(h.creates[0]).toMatchObject({ imageRef: '', blockDeviceMappings: [{ sourceType: 'image', destinationType: 'volume', uuid: 'img-1', volumeSizeGb: 10, bootIndex: 0 }] });
    expect(h.out.stdout).toContain('N/A (booted from volume)');
    expect(await h.run('server', 'create', 'bfv2', '--volume', 'data', '--flavor', 'f1')).toBe(0);
    expect(h.creates[1]).toMatchObject({ imageRef: '', blockDeviceMappings: [{ sourceType: 'volume', uuid: 'v1', bootIndex: 0 }] });
  });

  it('refuses contradictory or missing sources locally', async () => {
    const h = await loggedIn();
    expect(await h.run('server', 'create', 'x', '--flavor', 'f1')).toBe(1);
    expect(h.out.stderr).toBe('Error: one of --image or --volume is required (INVALID_ARGUMENT)\n');
    expect(await h.run('server', 'create', 'x', '--volume', 'data', '--boot-from-volume', '5', '--flavor', 'f1')).toBe(1);
    expect(await h.run('server', 'create', 'x', '--volume', 'data', '--image', 'img-1', '--flavor', 'f1')).toBe(1);
    expect(h.creates).toEqual([]);
  });
});
