import { network } from '@minicloud/proto';
import { HttpError } from '../http/errors';
import { defaultNetworks } from './servers';

const net = (id: string, over: Partial<network.Network> = {}) => network.Network.fromPartial({ id, projectId: 'p1', ...over });

describe('defaultNetworks (Nova 2.1, networks omitted)', () => {
  it("takes the project's one own network, never an external one", () => {
    expect(defaultNetworks('p1', [net('a'), net('ext', { routerExternal: true, shared: true }), net('other', { projectId: 'p2' })]).map((n) => n.networkId)).toEqual(['a']);
  });

  it('falls back to the one shared network; none gives no NIC', () => {
    expect(defaultNetworks('p1', [net('s', { projectId: 'p2', shared: true })]).map((n) => n.networkId)).toEqual(['s']);
    expect(defaultNetworks('p1', [])).toEqual([]);
  });

  it('several candidates are a 409 "Multiple possible networks found"', () => {
    const err = (() => {
      try {
        return defaultNetworks('p1', [net('a'), net('b')]);
      } catch (e) {
        return e;
      }
    })() as HttpError;
    expect(err).toBeInstanceOf(HttpError);
    expect(err.status).toBe(409);
    expect(err.message).toMatch(/Multiple possible networks found/);
  });
});
