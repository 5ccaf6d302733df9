import { InvalidArgumentError } from '@minicloud/domain-errors';
import { qosOf, replicationCountOf, validateExtraSpecs, validateQosSpecs } from './volume-qos';

const type = (extraSpecs: Record<string, string>) => ({ name: 't', extraSpecs });

describe('volume type QoS and replication specs', () => {
  it('reads qos:<key> or <key>, absent = 0 (unlimited)', () => {
    expect(qosOf(type({ 'qos:read_iops_sec': '3000', write_iops_sec: '2000', 'qos:total_bytes_sec': '125000000' }))).toEqual({
      readIopsSec: 3000,
      writeIopsSec: 2000,
      totalIopsSec: 0,
      readBytesSec: 0,
      writeBytesSec: 0,
      totalBytesSec: 125000000,
    });
    expect(qosOf(type({}))).toEqual({ readIopsSec: 0, writeIopsSec: 0, totalIopsSec: 0, readBytesSec: 0, writeBytesSec: 0, totalBytesSec: 0 });
  });

  it.each([['-1'], ['1.5'], ['fast']])('refuses %s naming the key', (v) => {
    let err: unknown;
    try {
      qosOf(type({ 'qos:write_iops_sec': v }));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as InvalidArgumentError).field).toBe('extra_specs.write_iops_sec');
  });

  it.each([
    [undefined, 1],
    ['2', 2],
    ['5', 5],
  ])('replication_count %s -> %d copies', (v, n) => {
    expect(replicationCountOf(type(v === undefined ? {} : { replication_count: v }))).toBe(n);
  });

  it.each([['0'], ['6'], ['two']])('replication_count %s is refused', (v) => {
    expect(() => validateExtraSpecs(type({ replication_count: v }))).toThrow(InvalidArgumentError);
  });
});

describe('QoS specs associated with a volume type', () => {
  const typed = (consumer: 'front-end' | 'back-end' | 'both', specs: Record<string, string>) => ({ name: 't', extraSpecs: { 'qos:read_iops_sec': '100', 'qos:total_bytes_sec': '5000' }, qosSpecs: { consumer, specs } });

  it.each([['front-end'], ['both']] as const)('a %s specs limits the volume, its keys before the extra specs', (consumer) => {
    expect(qosOf(typed(consumer, { read_iops_sec: '2000', total_iops_sec: '700', iops_bytes: '9' }))).toEqual({
      readIopsSec: 2000,
      writeIopsSec: 0,
      totalIopsSec: 700,
      readBytesSec: 0,
      writeBytesSec: 0,
      totalBytesSec: 5000,
    });
  });

  it('a back-end specs is the backend\'s: the volume keeps the extra specs\' limits', () => {
    expect(qosOf(typed('back-end', { read_iops_sec: '2000' })).readIopsSec).toBe(100);
  });

  it('refuses a bad value of an enforced key naming it, keeps other keys as given', () => {
    expect(() => validateQosSpecs({ iops_bytes: 'anything', read_bytes_sec: '10' })).not.toThrow();
    let err: unknown;
    try {
      validateQosSpecs({ total_iops_sec: '-5' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as InvalidArgumentError).field).toBe('qos_specs.total_iops_sec');
  });
});
