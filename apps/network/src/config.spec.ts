import { loadConfig } from '@minicloud/platform-config';
import { networkConfigSchema } from './config';

describe('network config', () => {
  it('defaults to port 5003, VNIs 1000:1999999, a 1500-byte underlay and the fa:16:3e base MAC', () => {
    const c = loadConfig(networkConfigSchema, {});
    expect(c).toMatchObject({ GRPC_PORT: 5003, VNI_RANGES: '1000:1999999', UNDERLAY_MTU: 1500, BASE_MAC: 'fa:16:3e:00:00:00' });
  });
  it('reads overrides from env strings and rejects an underlay too small for VXLAN', () => {
    expect(loadConfig(networkConfigSchema, { GRPC_PORT: '0', UNDERLAY_MTU: '9000' })).toMatchObject({ GRPC_PORT: 0, UNDERLAY_MTU: 9000 });
    expect(() => loadConfig(networkConfigSchema, { UNDERLAY_MTU: '100' })).toThrow();
  });
});
