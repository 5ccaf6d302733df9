import { InvalidArgumentError } from '@minicloud/domain-errors';
import { VXLAN_OVERHEAD_BYTES, VXLAN_UDP_PORT, tenantMtu } from './vxlan';

describe('VXLAN', () => {
  it('costs 50 bytes and uses UDP 4789', () => {
    expect(VXLAN_OVERHEAD_BYTES).toBe(14 + 20 + 8 + 8);
    expect(VXLAN_UDP_PORT).toBe(4789);
  });

  it.each([
    [1500, 1450],
    [9000, 8950],
    [118, 68],
  ])('underlay %d -> tenant MTU %d', (underlay, tenant) => {
    expect(tenantMtu(underlay)).toBe(tenant);
  });

  it.each([117, 0, 1500.5])('rejects underlay MTU %d', (underlay) => {
    expect(() => tenantMtu(underlay)).toThrow(InvalidArgumentError);
    expect(() => tenantMtu(underlay)).toThrow(/^invalid underlay_mtu/);
  });
});
