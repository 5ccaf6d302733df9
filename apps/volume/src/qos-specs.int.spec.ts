import { volume } from '@minicloud/proto';
import { AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, NotFoundError, PermissionDeniedError, UnauthenticatedError } from '@minicloud/domain-errors';
import { RevocationList } from '@minicloud/platform-auth';
import { loadConfig } from '@minicloud/platform-config';
import { createServiceClient, startGrpcServer, type RunningGrpcServer, type ServiceClient } from '@minicloud/platform-grpc';
import { createProcessMetrics } from '@minicloud/platform-metrics';
import { FakeClock, waitFor } from '@minicloud/testing';
import { volumeConfigSchema } from './config';
import { startVolumeTestBed, type VolumeTestBed } from './testing/test-bed';
import { wireVolume, type VolumeModules } from './wire';

jest.setTimeout(60_000);

type Client = ServiceClient<typeof volume.VolumeServiceService>;

describe('volume types and QoS specs (real Redis and NATS, the policy table)', () => {
  let bed: VolumeTestBed;
  let grpc: RunningGrpcServer;
  let modules: VolumeModules;
  const clock = new FakeClock();
  const clients: Client[] = [];
  let alice: Client; // member of project p1
  let admin: Client;
  let anonymous: Client;

  beforeAll(async () => {
    bed = await startVolumeTestBed('volume-qos-test');
    const config = loadConfig(volumeConfigSchema, {
      POOLS: JSON.stringify([{ name: 'lvm@a', total_capacity_gb: 1000, volume_types: ['ssd'], storage_node: 'storage-1' }]),
      DEFAULT_VOLUME_TYPE: 'ssd',
      VOLUME_CREATE_DELAY_MS: '10',
    });
    const wiring = await wireVolume(config, { clock, verifier: bed.verifier })({ config, logger: bed.logger, metrics: createProcessMetrics({ service: 'volume' }), redis: bed.redis, bus: bed.bus, revocations: new RevocationList() });
    modules = wiring.modules;
    grpc = await startGrpcServer({ port: 0, services: wiring.services, logger: bed.logger, verifier: wiring.verifier });
    alice = await bed.volumeClient(grpc.address, 'p1', ['member', 'reader'], clients);
    admin = await bed.volumeClient(grpc.address, 'p-admin', ['admin', 'member', 'reader'], clients);
    anonymous = createServiceClient(volume.VolumeServiceService, grpc.address);
    clients.push(anonymous);
  });

  afterAll(async () => {
    modules?.creation.stop();
    clients.forEach((c) => c.close());
    await grpc?.shutdown(1000);
    await bed?.stop();
  });

  const typeNamed = async (c: Client, name: string) => (await c.listVolumeTypes({})).volumeTypes.find((t) => t.name === name);

  it('a type keeps its description; the QoS specs id shows to admins only; delete refuses the default type and a type in use', async () => {
    const { volumeType: t } = await admin.createVolumeType({ name: 'gold', extraSpecs: {}, description: 'fast disks' });
    expect(t).toMatchObject({ name: 'gold', description: 'fast disks', qosSpecsId: '' });
    expect((await typeNamed(alice, 'gold'))!.qosSpecsId).toBeUndefined();
    expect((await typeNamed(admin, 'gold'))!.qosSpecsId).toBe('');

    const ssd = (await typeNamed(admin, 'ssd'))!;
    await expect(admin.deleteVolumeType({ volumeTypeId: ssd.id })).rejects.toMatchObject({ constructor: FailedPreconditionError, reason: 'default_volume_type' });
    const { volume: v } = await alice.createVolume({ sizeGb: 1, volumeType: 'gold' });
    await expect(admin.deleteVolumeType({ volumeTypeId: t!.id })).rejects.toMatchObject({ constructor: FailedPreconditionError, reason: 'volume_type_in_use' });
    await expect(alice.deleteVolumeType({ volumeTypeId: t!.id })).rejects.toBeInstanceOf(PermissionDeniedError);
    await expect(anonymous.deleteVolumeType({ volumeTypeId: t!.id })).rejects.toBeInstanceOf(UnauthenticatedError);
    await expect(admin.deleteVolumeType({ volumeTypeId: '' })).rejects.toMatchObject({ constructor: InvalidArgumentError, field: 'volume_type_id' });
    await clock.advanceAsync(10);
    await waitFor(async () => (await alice.getVolume({ volumeId: v!.id })).volume!.status === volume.VolumeStatus.VOLUME_STATUS_AVAILABLE);
    await alice.deleteVolume({ volumeId: v!.id });
    await waitFor(async () => (await alice.listVolumes({})).volumes.length === 0);
    await admin.deleteVolumeType({ volumeTypeId: t!.id });
    expect(await typeNamed(admin, 'gold')).toBeUndefined();
    await expect(admin.deleteVolumeType({ volumeTypeId: t!.id })).rejects.toMatchObject({ constructor: NotFoundError, resourceType: 'volume_type' });
  });

  it('UpdateVolumeType: description, name, extra specs set and removed; a type in use keeps its name and extra specs; member, anonymous and bad input refused', async () => {
    const { volumeType: t } = await admin.createVolumeType({ name: 'silver-t', extraSpecs: { a: '1' }, description: '' });
    const up = await admin.updateVolumeType({ volumeTypeId: t!.id, name: 'silver-2', description: 'd', setExtraSpecs: { b: '2', 'qos:total_iops_sec': '10' }, removeExtraSpecs: ['a'] });
    expect(up.volumeType).toMatchObject({ id: t!.id, name: 'silver-2', description: 'd', extraSpecs: { b: '2', 'qos:total_iops_sec': '10' } });
    expect(await typeNamed(admin, 'silver-t')).toBeUndefined();
    await expect(admin.updateVolumeType({ volumeTypeId: t!.id, setExtraSpecs: {}, removeExtraSpecs: ['nope'] })).rejects.toMatchObject({ constructor: NotFoundError, resourceType: 'volume type extra spec' });
    await expect(admin.updateVolumeType({ volumeTypeId: t!.id, setExtraSpecs: { 'qos:total_iops_sec': '-3' }, removeExtraSpecs: [] })).rejects.toMatchObject({ constructor: InvalidArgumentError, field: 'extra_specs.total_iops_sec' });
    await expect(admin.updateVolumeType({ volumeTypeId: t!.id, name: 'ssd', setExtraSpecs: {}, removeExtraSpecs: [] })).rejects.toBeInstanceOf(AlreadyExistsError);
    await expect(admin.updateVolumeType({ volumeTypeId: t!.id, name: ' ', setExtraSpecs: {}, removeExtraSpecs: [] })).rejects.toMatchObject({ constructor: InvalidArgumentError, field: 'name' });
    await expect(alice.updateVolumeType({ volumeTypeId: t!.id, description: 'x', setExtraSpecs: {}, removeExtraSpecs: [] })).rejects.toBeInstanceOf(PermissionDeniedError);
    await expect(anonymous.updateVolumeType({ volumeTypeId: t!.id, description: 'x', setExtraSpecs: {}, removeExtraSpecs: [] })).rejects.toBeInstanceOf(UnauthenticatedError);

    const { volume: v } = await alice.createVolume({ sizeGb: 1, volumeType: 'silver-2' });
    await expect(admin.updateVolumeType({ volumeTypeId: t!.id, setExtraSpecs: { c: '3' }, removeExtraSpecs: [] })).rejects.toMatchObject({ constructor: FailedPreconditionError, reason: 'volume_type_in_use' });
    await expect(admin.updateVolumeType({ volumeTypeId: t!.id, name: 'other-name', setExtraSpecs: {}, removeExtraSpecs: [] })).rejects.toMatchObject({ reason: 'volume_type_in_use' });
    expect((await admin.updateVolumeType({ volumeTypeId: t!.id, description: 'still', setExtraSpecs: {}, removeExtraSpecs: [] })).volumeType).toMatchObject({ name: 'silver-2', description: 'still' });
    expect((await typeNamed(admin, 'silver-2'))!.extraSpecs).toEqual({ b: '2', 'qos:total_iops_sec': '10' });
    await clock.advanceAsync(10);
    await waitFor(async () => (await alice.getVolume({ volumeId: v!.id })).volume!.status === volume.VolumeStatus.VOLUME_STATUS_AVAILABLE);
    await alice.deleteVolume({ volumeId: v!.id });
    await waitFor(async () => (await alice.listVolumes({})).volumes.every((x) => x.volumeType !== 'silver-2'));
    await admin.deleteVolumeType({ volumeTypeId: t!.id });
  });

  it('QoS specs: create (consumer defaults to back-end), show, list, set and unset keys; bad input and duplicate names refused', async () => {
    const { qosSpecs: q } = await admin.createQosSpecs({ name: ' silver ', consumer: '', specs: { read_iops_sec: '2000' } });
    expect(q).toMatchObject({ name: 'silver', consumer: 'back-end', specs: { read_iops_sec: '2000' } });
    expect((await admin.getQosSpecs({ qosSpecsId: q!.id })).qosSpecs).toEqual(q);
    expect((await admin.listQosSpecs({})).qosSpecs.map((x) => x.id)).toContain(q!.id);

    const { qosSpecs: set } = await admin.updateQosSpecs({ qosSpecsId: q!.id, consumer: 'both', setSpecs: { iops_bytes: '500' }, removeKeys: [] });
    expect(set).toMatchObject({ consumer: 'both', specs: { read_iops_sec: '2000', iops_bytes: '500' } });
    await admin.updateQosSpecs({ qosSpecsId: q!.id, setSpecs: {}, removeKeys: ['iops_bytes'] });
    expect((await admin.getQosSpecs({ qosSpecsId: q!.id })).qosSpecs!.specs).toEqual({ read_iops_sec: '2000' });
    await expect(admin.updateQosSpecs({ qosSpecsId: q!.id, setSpecs: {}, removeKeys: ['nope'] })).rejects.toMatchObject({ constructor: NotFoundError, resourceType: 'qos specs key' });

    await expect(admin.createQosSpecs({ name: 'silver', consumer: 'front-end', specs: {} })).rejects.toBeInstanceOf(AlreadyExistsError);
    await expect(admin.createQosSpecs({ name: '  ', consumer: '', specs: {} })).rejects.toMatchObject({ constructor: InvalidArgumentError, field: 'name' });
    await expect(admin.createQosSpecs({ name: 'x', consumer: 'sideways', specs: {} })).rejects.toMatchObject({ constructor: InvalidArgumentError, field: 'consumer' });
    await expect(admin.createQosSpecs({ name: 'x', consumer: '', specs: { total_iops_sec: '-1' } })).rejects.toMatchObject({ constructor: InvalidArgumentError, field: 'qos_specs.total_iops_sec' });
    await expect(admin.updateQosSpecs({ qosSpecsId: q!.id, consumer: 'sideways', setSpecs: {}, removeKeys: [] })).rejects.toMatchObject({ constructor: InvalidArgumentError, field: 'consumer' });
    await expect(admin.getQosSpecs({ qosSpecsId: 'nope' })).rejects.toMatchObject({ constructor: NotFoundError, resourceType: 'qos_specs' });
    await admin.deleteQosSpecs({ qosSpecsId: q!.id, force: false });
    await expect(admin.getQosSpecs({ qosSpecsId: q!.id })).rejects.toBeInstanceOf(NotFoundError);
  });

  it('every QoS door is refused to a member and to a caller without credentials, with nothing made', async () => {
    const { qosSpecs: q } = await admin.createQosSpecs({ name: 'guarded', consumer: 'front-end', specs: {} });
    const ssd = (await typeNamed(admin, 'ssd'))!;
    for (const c of [alice, anonymous]) {
      const refusal = c === alice ? PermissionDeniedError : UnauthenticatedError;
      await expect(c.createQosSpecs({ name: 'mine', consumer: '', specs: {} })).rejects.toBeInstanceOf(refusal);
      await expect(c.listQosSpecs({})).rejects.toBeInstanceOf(refusal);
      await expect(c.getQosSpecs({ qosSpecsId: q!.id })).rejects.toBeInstanceOf(refusal);
      await expect(c.updateQosSpecs({ qosSpecsId: q!.id, setSpecs: { a: '1' }, removeKeys: [] })).rejects.toBeInstanceOf(refusal);
      await expect(c.deleteQosSpecs({ qosSpecsId: q!.id, force: true })).rejects.toBeInstanceOf(refusal);
      await expect(c.associateQosSpecs({ qosSpecsId: q!.id, volumeTypeId: ssd.id })).rejects.toBeInstanceOf(refusal);
      await expect(c.disassociateQosSpecs({ qosSpecsId: q!.id, all: true, volumeTypeId: '' })).rejects.toBeInstanceOf(refusal);
      await expect(c.listQosSpecsAssociations({ qosSpecsId: q!.id })).rejects.toBeInstanceOf(refusal);
      await expect(c.createVolumeType({ name: 'mine', extraSpecs: {}, description: '' })).rejects.toBeInstanceOf(refusal);
    }
    expect((await admin.listQosSpecs({})).qosSpecs.map((x) => x.name)).toEqual(['guarded']);
    expect((await admin.getQosSpecs({ qosSpecsId: q!.id })).qosSpecs!.specs).toEqual({});
    expect((await typeNamed(admin, 'ssd'))!.qosSpecsId).toBe('');
    await admin.deleteQosSpecs({ qosSpecsId: q!.id, force: false });
  });

  it('a volume of a type carries the front-end limits of its QoS specs; associations, in-use delete and force', async () => {
    const { volumeType: t } = await admin.createVolumeType({ name: 'limited', extraSpecs: { 'qos:read_iops_sec': '100' }, description: '' });
    const { volumeType: other } = await admin.createVolumeType({ name: 'other', extraSpecs: {}, description: '' });
    const { qosSpecs: front } = await admin.createQosSpecs({ name: 'front', consumer: 'front-end', specs: { total_iops_sec: '700', read_bytes_sec: '1000000', vendor_key: 'x' } });
    const { qosSpecs: back } = await admin.createQosSpecs({ name: 'back', consumer: 'back-end', specs: { total_iops_sec: '5' } });

    await admin.associateQosSpecs({ qosSpecsId: front!.id, volumeTypeId: t!.id });
    await admin.associateQosSpecs({ qosSpecsId: front!.id, volumeTypeId: t!.id }); // the same again: no-op
    await admin.associateQosSpecs({ qosSpecsId: front!.id, volumeTypeId: other!.id });
    await expect(admin.associateQosSpecs({ qosSpecsId: back!.id, volumeTypeId: t!.id })).rejects.toMatchObject({ constructor: FailedPreconditionError, reason: 'type_has_qos_specs' });
    await expect(admin.associateQosSpecs({ qosSpecsId: front!.id, volumeTypeId: 'nope' })).rejects.toMatchObject({ constructor: NotFoundError, resourceType: 'volume_type' });
    await expect(admin.associateQosSpecs({ qosSpecsId: 'nope', volumeTypeId: t!.id })).rejects.toMatchObject({ constructor: NotFoundError, resourceType: 'qos_specs' });
    await expect(admin.disassociateQosSpecs({ qosSpecsId: front!.id, volumeTypeId: '', all: false })).rejects.toMatchObject({ constructor: InvalidArgumentError, field: 'volume_type_id' });
    expect((await admin.listQosSpecsAssociations({ qosSpecsId: front!.id })).volumeTypes.map((x) => x.name)).toEqual(['limited', 'other']);
    expect((await typeNamed(admin, 'limited'))!.qosSpecsId).toBe(front!.id);

    const { volume: v } = await alice.createVolume({ sizeGb: 1, volumeType: 'limited' });
    expect(v!.qos).toMatchObject({ totalIopsSec: 700, readBytesSec: 1000000, readIopsSec: 100 });
    // Cinder takes a type's id where it takes its name
    const { volume: byId } = await alice.createVolume({ sizeGb: 1, volumeType: t!.id });
    expect(byId).toMatchObject({ volumeType: 'limited', qos: expect.objectContaining({ totalIopsSec: 700 }) });

    await expect(admin.deleteQosSpecs({ qosSpecsId: front!.id, force: false })).rejects.toMatchObject({ constructor: FailedPreconditionError, reason: 'qos_specs_in_use' });
    await admin.disassociateQosSpecs({ qosSpecsId: front!.id, volumeTypeId: other!.id, all: false });
    expect((await admin.listQosSpecsAssociations({ qosSpecsId: front!.id })).volumeTypes.map((x) => x.name)).toEqual(['limited']);
    await admin.disassociateQosSpecs({ qosSpecsId: front!.id, volumeTypeId: '', all: true });
    expect((await admin.listQosSpecsAssociations({ qosSpecsId: front!.id })).volumeTypes).toEqual([]);

    // a back-end specs is the backend's: the volume keeps the type's own limits
    await admin.associateQosSpecs({ qosSpecsId: back!.id, volumeTypeId: t!.id });
    const { volume: w } = await alice.createVolume({ sizeGb: 1, volumeType: 'limited' });
    expect(w!.qos).toMatchObject({ totalIopsSec: 0, readIopsSec: 100 });
    await admin.deleteQosSpecs({ qosSpecsId: back!.id, force: true });
    expect((await typeNamed(admin, 'limited'))!.qosSpecsId).toBe('');
    await admin.deleteQosSpecs({ qosSpecsId: front!.id, force: false });
  });
});
