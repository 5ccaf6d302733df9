import { bytesAt, guidBytes, text, u16, u32, u64 } from './bytes';

describe('byte readers', () => {
  const b = Uint8Array.from([0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x41, 0x42, 0x00, 0x00]);

  it('read big- and little-endian integers, u64 as hi * 2^32 + lo', () => {
    expect(u16(b, 2, false)).toBe(1);
    expect(u32(b, 0, false)).toBe(1);
    expect(u32(b, 0, true)).toBe(0x0100_0000);
    expect(u64(b, 0, false)).toBe(2 ** 32 + 2);
  });

  it('return undefined instead of throwing past the end', () => {
    expect(u32(b, 10, false)).toBeUndefined();
    expect(u64(b, 5, true)).toBeUndefined();
    expect(bytesAt(b, 11, 'AB')).toBe(false);
  });

  it('decode text without trailing NULs', () => {
    expect(bytesAt(b, 8, 'AB')).toBe(true);
    expect(text(b, 8, 10)).toBe('AB');
  });

  it('lay out a GUID as stored on disk (MS-VHDX metadata region GUID)', () => {
    expect(Array.from(guidBytes('8B7CA206-4790-4B9A-B8FE-575F050F886E'))).toEqual([
      0x06, 0xa2, 0x7c, 0x8b, 0x90, 0x47, 0x9a, 0x4b, 0xb8, 0xfe, 0x57, 0x5f, 0x05, 0x0f, 0x88, 0x6e,
    ]);
  });
});
