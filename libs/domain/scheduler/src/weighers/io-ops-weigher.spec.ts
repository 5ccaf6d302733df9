import { weighHosts } from '../host-weigher';
import { makeHost, makeSpec } from '../testing';
import { createIoOpsWeigher } from './io-ops-weigher';

describe('IoOpsWeigher', () => {
  it.each([
    { ops: [0, 5], best: 'a' },
    { ops: [7, 2], best: 'b' },
  ])('default multiplier -1 prefers fewer io ops: $ops -> $best', ({ ops, best }) => {
    const hosts = [makeHost({ hostId: 'a', numIoOps: ops[0] }), makeHost({ hostId: 'b', numIoOps: ops[1] })];
    expect(weighHosts(hosts, [createIoOpsWeigher()], makeSpec())[0].host.hostId).toBe(best);
  });

  it('raw weight is the io op count', () => {
    expect(createIoOpsWeigher().rawWeight(makeHost({ hostId: 'a', numIoOps: 3 }), makeSpec())).toBe(3);
  });
});
