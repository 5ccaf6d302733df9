import { agent } from '@minicloud/proto';
import { guestOf, toVmSpec } from './mapping';

const spec = (over: Partial<agent.InstanceSpec> = {}) =>
  agent.InstanceSpec.fromPartial({
    instanceId: 'i-1', name: 'Web Server_1', projectId: 'p1', flavor: { vcpus: 2, ramMb: 2048, diskGb: 20 }, image: { imageId: 'img-1' },
    ports: [{ portId: 'port-1', macAddress: 'fa:16:3e:00:00:01', ipAddresses: ['fd00::5', '10.0.0.5'] }],
    volumes: [{ volumeId: 'v1', deviceName: '/dev/vdb', sizeGb: 5 }],
    userData: '#!/bin/sh\necho hi\n', keyName: 'alice', publicKey: 'ssh-ed25519 AAAA alice', adminPass: 'Zq7vX2mPk9Ta',
    ...over,
  });

describe('guestOf', () => {
  it("maps the spawn spec to the guest's config drive and hardware", () => {
    expect(guestOf('i-1', spec())).toEqual({
      instanceId: 'i-1', name: 'Web Server_1', hostname: 'web-server-1', projectId: 'p1', userData: '#!/bin/sh\necho hi\n', keyName: 'alice', publicKey: 'ssh-ed25519 AAAA alice', adminPass: 'Zq7vX2mPk9Ta',
      vcpus: 2, ramMb: 2048, disks: [{ device: 'vda', sizeGb: 20 }, { device: 'vdb', sizeGb: 5 }],
      nics: [{ macAddress: 'fa:16:3e:00:00:01', ipv4: '10.0.0.5', prefixLength: 24 }],
    });
  });

  it('takes the hostname the controller gives, and no root disk for a volume-backed VM', () => {
    expect(guestOf('i-1', spec({ hostname: 'given', image: undefined }))).toMatchObject({ hostname: 'given', disks: [{ device: 'vdb', sizeGb: 5 }] });
  });

  it('is part of the VmSpec a spawn builds', () => {
    expect(toVmSpec('i-1', spec()).guest).toMatchObject({ instanceId: 'i-1', keyName: 'alice' });
  });
});
