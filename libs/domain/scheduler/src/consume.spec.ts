import { consumeFromRequest, releaseFromHost } from './consume';
import { makeHost } from './testing';

const flavor = { vcpus: 2, ramMb: 2048, diskGb: 20, extraSpecs: {} };

describe('consumeFromRequest / releaseFromHost', () => {
  it('adds the flavor, one instance, one io op, the uuid and the group; the input is untouched', () => {
    const host = makeHost({ hostId: 'h', vcpusUsed: 1, ramMbUsed: 512, diskGbUsed: 5, numInstances: 1, instanceIds: new Set(['a']) });
    const after = consumeFromRequest(host, flavor, { instanceUuid: 'b', serverGroupId: 'g' });
    expect(after).toMatchObject({ vcpusUsed: 3, ramMbUsed: 2560, diskGbUsed: 25, numInstances: 2, numIoOps: 1, serverGroupMembers: { g: 1 } });
    expect([...after.instanceIds]).toEqual(['a', 'b']);
    expect(host).toMatchObject({ vcpusUsed: 1, ramMbUsed: 512, diskGbUsed: 5, numInstances: 1 });
    expect(host.serverGroupMembers).toBeUndefined();
    expect([...host.instanceIds]).toEqual(['a']);
  });

  it.each([
    { name: 'release undoes consume (except io ops)', start: {}, twice: false },
    { name: 'release floors at zero', start: {}, twice: true },
  ])('$name', ({ twice }) => {
    const host = makeHost({ hostId: 'h' });
    const consumed = consumeFromRequest(host, flavor, { instanceUuid: 'b', serverGroupId: 'g' });
    let released = releaseFromHost(consumed, flavor, { instanceUuid: 'b', serverGroupId: 'g' });
    if (twice) released = releaseFromHost(released, flavor, { instanceUuid: 'b', serverGroupId: 'g' });
    expect(released).toMatchObject({ vcpusUsed: 0, ramMbUsed: 0, diskGbUsed: 0, numInstances: 0, numIoOps: 1, serverGroupMembers: {} });
    expect(released.instanceIds.size).toBe(0);
    expect(consumed.instanceIds.has('b')).toBe(true);
  });
});
