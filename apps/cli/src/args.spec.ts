import fc from 'fast-check';
import { InvalidArgumentError } from '@minicloud/domain-errors';
import { parseInteger, parseKeyValues, parsePositiveInteger } from './args';

describe('argument parsers', () => {
  it('name the flag for bad numbers', () => {
    expect(() => parsePositiveInteger('--count', '-1')).toThrow('invalid --count: must be a positive integer, got -1');
    expect(() => parsePositiveInteger('--count', '0')).toThrow(InvalidArgumentError);
    expect(() => parseInteger('--vcpus', '2.5')).toThrow('invalid --vcpus: must be an integer, got "2.5"');
    expect(() => parseInteger('--ram', 'lots')).toThrow('invalid --ram');
    expect(parsePositiveInteger('--count', '3')).toBe(3);
  });

  it('round-trips every safe integer', () => {
    fc.assert(fc.property(fc.integer(), (n) => parseInteger('--x', String(n)) === n));
  });

  it('folds repeated k=v flags, keeping "=" inside values', () => {
    expect(parseKeyValues('--property', ['a=1', 'b=x=y', 'a=2'])).toEqual({ a: '2', b: 'x=y' });
    expect(() => parseKeyValues('--hint', ['nokey'])).toThrow('invalid --hint: expected key=value, got "nokey"');
    expect(() => parseKeyValues('--hint', ['=v'])).toThrow(InvalidArgumentError);
  });
});
