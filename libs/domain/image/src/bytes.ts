/**
 * Bounds-checked readers over a byte view. Every reader returns `undefined` when the field lies past
 * the end of the view, so a short upload never throws a RangeError from inside the inspector.
 * u64 values are returned as numbers (exact below 2^53 bytes = 8 PiB, beyond any image we accept).
 */

/** Unsigned 16-bit at `offset`, big- or little-endian. */
export function u16(b: Uint8Array, offset: number, littleEndian: boolean): number | undefined {
  if (offset < 0 || offset + 2 > b.length) return undefined;
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getUint16(offset, littleEndian);
}

/** Unsigned 32-bit at `offset`. */
export function u32(b: Uint8Array, offset: number, littleEndian: boolean): number | undefined {
  if (offset < 0 || offset + 4 > b.length) return undefined;
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(offset, littleEndian);
}

/** Unsigned 64-bit at `offset` as a number (hi * 2^32 + lo). */
export function u64(b: Uint8Array, offset: number, littleEndian: boolean): number | undefined {
  if (offset < 0 || offset + 8 > b.length) return undefined;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const hi = v.getUint32(littleEndian ? offset + 4 : offset, littleEndian);
  const lo = v.getUint32(littleEndian ? offset : offset + 4, littleEndian);
  return hi * 0x1_0000_0000 + lo;
}

/** True when the bytes at `offset` equal `expected` (a byte array or an ASCII string). */
export function bytesAt(b: Uint8Array, offset: number, expected: Uint8Array | string): boolean {
  const want = typeof expected === 'string' ? asciiBytes(expected) : expected;
  if (offset < 0 || offset + want.length > b.length) return false;
  for (let i = 0; i < want.length; i++) if (b[offset + i] !== want[i]) return false;
  return true;
}

/** ASCII (code points < 0x100) to bytes; lets magics like "QFI\xfb" be written as strings. */
export function asciiBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
}

/** Bytes to text (UTF-8 by default), trailing NULs and spaces removed; out-of-range parts are cut. */
export function text(b: Uint8Array, offset: number, length: number, encoding = 'utf-8'): string {
  const slice = b.subarray(Math.max(0, offset), Math.min(b.length, offset + length));
  return new TextDecoder(encoding).decode(slice).replace(/[\0\s]+$/, '');
}

/**
 * Bytes of a Microsoft GUID as stored on disk (first three groups little-endian, the rest as written),
 * e.g. guidBytes('8B7CA206-4790-4B9A-B8FE-575F050F886E') starts 06 A2 7C 8B (MS-VHDX 2.2.2).
 */
export function guidBytes(guid: string): Uint8Array {
  const hex = guid.replace(/-/g, '');
  const raw = new Uint8Array(16);
  for (let i = 0; i < 16; i++) raw[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  const order = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15];
  return Uint8Array.from(order.map((i) => raw[i]));
}
