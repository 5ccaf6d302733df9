import { InvalidArgumentError } from '@minicloud/domain-errors';
import { validateFlavorInput, type FlavorInput } from './flavor-validation';

const ok: FlavorInput = { name: 'm1.small', vcpus: 1, ramMb: 2048, diskGb: 20, ephemeralGb: 0, swapMb: 0 };

describe('validateFlavorInput', () => {
  it('accepts a normal flavor and disk 0', () => {
    expect(() => validateFlavorInput(ok)).not.toThrow();
    expect(() => validateFlavorInput({ ...ok, diskGb: 0 })).not.toThrow();
    expect(() => validateFlavorInput({ ...ok, rxtxFactor: 2.5, ramMb: 2147483647 })).not.toThrow();
  });
  it.each([
    [{ name: '  ' }, 'name'],
    [{ vcpus: 0 }, 'vcpus'],
    [{ vcpus: -2 }, 'vcpus'],
    [{ ramMb: 0 }, 'ram_mb'],
    [{ diskGb: -1 }, 'disk_gb'],
    [{ swapMb: -1 }, 'swap_mb'],
    [{ ephemeralGb: -5 }, 'ephemeral_gb'],
    [{ name: ' lead' }, 'name'],
    [{ name: 'x'.repeat(256) }, 'name'],
    [{ ramMb: 2147483648 }, 'ram_mb'],
    [{ vcpus: 1.5 }, 'vcpus'],
    [{ rxtxFactor: 0 }, 'rxtx_factor'],
    [{ rxtxFactor: -1 }, 'rxtx_factor'],
  ] as [Partial<FlavorInput>, string][])('refuses %j naming %s', (patch, field) => {
    try {
      validateFlavorInput({ ...ok, ...patch });
      throw new Error('expected a throw');
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidArgumentError);
      expect((e as InvalidArgumentError).field).toBe(field);
    }
  });
});
