import { InvalidArgumentError } from '@minicloud/domain-errors';
import { qosOf, replicationCountOf, validateExtraSpecs } from './volume-qos';

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
