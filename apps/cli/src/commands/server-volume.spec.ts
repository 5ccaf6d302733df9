import { compute, volume } from '@minicloud/proto';
import { NotFoundError } from '@minicloud/domain-errors';
import { catalogEntry, fakeServerLookup, loggedInCli } from '../testing/fake-cli';

/** In-process CLI run against fake compute/volume clients (logged in first). */
async function loggedIn() {
  const actions: compute.ServerActionRequest[] = [];
  const creates: compute.CreateServerRequest[] = [];
  const srv = compute.Server.fromPartial({ id: 's1', name: 'web', volumesAttached: [{ volumeId: 'v-old', deviceName: '/dev/vdc', attachmentId: 'a0' }] });
  const fakes = {
    compute: {
      ...fakeServerLookup(srv),
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
  const cli = await loggedInCli({
    dirPrefix: 'mc-cli-srvvol-',
    services: fakes,
    roles: ['member'],
    catalog: [catalogEntry('compute', '10.0.0.1:5004'), catalogEntry('volume', '10.0.0.1:5002'), catalogEntry('image', '10.0.0.1:5001'), catalogEntry('network', '10.0.0.1:5003')],
  });
  return { out: cli.out, actions, creates, run: cli.run };
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
