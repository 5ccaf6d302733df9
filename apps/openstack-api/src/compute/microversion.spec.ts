import { HttpError } from '../http/errors';
import { microversionHeaders, negotiateMicroversion } from './microversion';

describe('negotiateMicroversion', () => {
  const max = { major: 2, minor: 10 };
  const min = { major: 2, minor: 1 };

  it.each([
    [{}, '2.1'],
    [{ 'x-openstack-nova-api-version': '2.5' }, '2.5'],
    [{ 'openstack-api-version': 'compute 2.7' }, '2.7'],
    [{ 'openstack-api-version': 'volume 3.0, compute 2.3' }, '2.3'],
    [{ 'openstack-api-version': 'compute 2.4', 'x-openstack-nova-api-version': '2.9' }, '2.4'],
    [{ 'openstack-api-version': 'compute latest' }, '2.10'],
    [{ 'x-openstack-nova-api-version': 'latest' }, '2.10'],
  ])('%j -> %s', (headers, want) => {
    const v = negotiateMicroversion(headers, min, max);
    expect(`${v.major}.${v.minor}`).toBe(want);
  });

  it('refuses versions outside the range with 406 and Nova message, garbage with 400', () => {
    const tooHigh = (() => {
      try {
        return negotiateMicroversion({ 'openstack-api-version': 'compute 2.11' }, min, max);
      } catch (e) {
        return e;
      }
    })() as HttpError;
    expect(tooHigh).toBeInstanceOf(HttpError);
    expect(tooHigh.status).toBe(406);
    expect(tooHigh.message).toBe('Version 2.11 is not supported by the API. Minimum is 2.1 and maximum is 2.10.');
    expect(() => negotiateMicroversion({ 'x-openstack-nova-api-version': '2.0' }, min, max)).toThrow(/not supported/);
    expect(() => negotiateMicroversion({ 'x-openstack-nova-api-version': 'two' }, min, max)).toThrow(/invalid format/);
  });

  it('answers with both headers and Vary', () => {
    expect(microversionHeaders({ major: 2, minor: 1 })).toEqual({
      'openstack-api-version': 'compute 2.1',
      'x-openstack-nova-api-version': '2.1',
      vary: 'OpenStack-API-Version, X-OpenStack-Nova-API-Version',
    });
  });
});
