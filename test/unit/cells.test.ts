import { describe, expect, it } from 'vitest';
import {
  combineHashes,
  hashBytes,
  hashNumber,
  hashString,
  MissingTokens,
  type NumberSyntax,
  parseBooleanBytes,
  parseDateText,
  parseNumberBytes,
} from '../../src/core/data/cells.ts';

const bytes = (text: string) => new TextEncoder().encode(text);
const num = (text: string) => {
  const b = bytes(text);
  return parseNumberBytes(b, 0, b.length);
};

describe('parseNumberBytes', () => {
  it('parses like Number() for ordinary numbers', () => {
    for (const text of [
      '0',
      '-0',
      '1',
      '-17',
      '3.25',
      '.5',
      '5.',
      '1e3',
      '1E-7',
      '-2.5e+10',
      '0.1',
      '17.99',
      '123456789012345',
      '0.000001234',
      '2.2250738585072014e-308',
      '1.7976931348623157e308',
      '12345678901234567890',
      '3.14159265358979323846',
    ]) {
      expect(num(text), text).toBe(Number(text));
    }
  });
  it('is exact on random decimals (fast path and fallback)', () => {
    let seed = 42;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    for (let i = 0; i < 20000; i++) {
      const digits = 1 + Math.floor(random() * 18);
      const text = ((random() - 0.5) * 10 ** (Math.floor(random() * 12) - 4)).toFixed(digits % 12);
      expect(num(text)).toBe(Number(text));
    }
  });
  it('reports integer syntax to the caller', () => {
    const syntax: NumberSyntax = { integer: false };
    const integer = (text: string) => {
      const b = bytes(text);
      parseNumberBytes(b, 0, b.length, syntax);
      return syntax.integer;
    };
    expect(integer('42')).toBe(true);
    expect(integer('42.0')).toBe(false);
    expect(integer('4e2')).toBe(false);
    expect(integer('-7')).toBe(true);
    expect(integer('abc')).toBe(false);
  });
  it('trims spaces and rejects text', () => {
    expect(num(' 7 ')).toBe(7);
    for (const text of ['', ' ', 'abc', '1.2.3', '1e', '--1', '1-', '0x10', '1,5', '.', '-'])
      expect(num(text), text).toBeNaN();
  });
  it('reads infinities', () => {
    expect(num('inf')).toBe(Number.POSITIVE_INFINITY);
    expect(num('-Infinity')).toBe(Number.NEGATIVE_INFINITY);
  });
});

describe('other cell conversions', () => {
  it('parses booleans in any case', () => {
    const p = (t: string) => parseBooleanBytes(bytes(t), 0, t.length);
    expect([p('true'), p('FALSE'), p('True'), p('yes'), p('1')]).toEqual([1, 0, 1, -1, -1]);
  });
  it('parses ISO dates and rejects impossible ones', () => {
    expect(parseDateText('2024-02-29')).toBe(Date.UTC(2024, 1, 29));
    expect(parseDateText('2024-01-31T12:30:00+02:00')).toBe(Date.UTC(2024, 0, 31, 10, 30));
    expect(parseDateText('2023-02-29')).toBeNaN();
    expect(parseDateText('2024-13-01')).toBeNaN();
    expect(parseDateText('yesterday')).toBeNaN();
  });
  it('recognizes missing tokens but not quoted empty strings', () => {
    const missing = new MissingTokens();
    const b = bytes('NA');
    expect(missing.isMissing(b, 0, 2, false)).toBe(true);
    expect(missing.isMissing(b, 0, 0, false)).toBe(true);
    expect(missing.isMissing(b, 0, 0, true)).toBe(false);
    expect(missing.isMissing(bytes('NAB'), 0, 3, false)).toBe(false);
  });
  it('hashes strings like their UTF-8 bytes and numbers by value', () => {
    for (const text of ['', 'abc', 'héllo wörld', '日本', '🙂']) {
      const b = bytes(text);
      expect(hashString(text)).toBe(hashBytes(b, 0, b.length));
    }
    expect(hashNumber(1)).toBe(hashNumber(1.0));
    expect(hashNumber(0)).toBe(hashNumber(-0));
    expect(hashNumber(1)).not.toBe(hashNumber(2));
    expect(hashString('a')).not.toBe(hashString('b'));
    expect(Number.isSafeInteger(hashString('x'))).toBe(true);
  });
  it('spreads integers, decimals and combined row hashes over all 52 bits', () => {
    const integers = new Set<number>();
    const decimals = new Set<number>();
    const rows = new Set<number>();
    for (let i = 0; i < 200_000; i++) {
      integers.add(hashNumber(i));
      decimals.add(hashNumber(i / 100));
      rows.add(
        combineHashes(combineHashes(hashNumber(i % 500), hashNumber(Math.floor(i / 500))), hashString('x')),
      );
    }
    // 200k values in 2^52 buckets: a collision is a one-in-a-million event.
    expect(integers.size).toBe(200_000);
    expect(decimals.size).toBe(200_000);
    expect(rows.size).toBe(200_000);
    expect(combineHashes(hashNumber(1), hashNumber(2))).not.toBe(combineHashes(hashNumber(2), hashNumber(1)));
  });
});
