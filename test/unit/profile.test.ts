import { describe, expect, it } from 'vitest';
import type { RowBatch } from '../../src/core/data/batch.ts';
import { hashNumber } from '../../src/core/data/cells.ts';
import {
  categoryCounts,
  createProfiler,
  cumulativeShare,
  mergeProfiles,
  parseProfile,
  sortedValues,
  valueAtQuantile,
} from '../../src/core/data/profile.ts';
import type { DataProfile, ProfileOptions } from '../../src/core/data/profile-types.ts';
import { DDSketch } from '../../src/core/data/sketches/dd-sketch.ts';
import { HyperLogLog } from '../../src/core/data/sketches/hyper-log-log.ts';
import { csvBatch, valueBatch } from '../helpers/batches.ts';
import { createRandom } from '../helpers/random.ts';

function profileOf(
  batches: { columns: string[]; batch: RowBatch }[],
  options: Partial<ProfileOptions> = {},
): DataProfile {
  const profiler = createProfiler(options);
  for (const { columns, batch } of batches) profiler.add(batch, columns);
  return profiler.finish([{ path: 'data.csv', format: 'csv', rows: profiler.rows }]);
}

/** numpy.quantile(values, q) with the default 'linear' method. */
function numpyQuantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const position = q * (sorted.length - 1);
  const low = Math.floor(position);
  const high = Math.min(low + 1, sorted.length - 1);
  return sorted[low] + (sorted[high] - sorted[low]) * (position - low);
}

/** Rows of a mixed table: a float with missing values, an integer, a category, a boolean. */
function mixedRows(count: number, seed: number): string[] {
  const next = createRandom(seed).uniform;
  const rows: string[] = [];
  for (let i = 0; i < count; i++) {
    const x = next() < 0.05 ? '' : ((next() - 0.3) * 1000).toFixed(3);
    const n = String(Math.floor(next() * 40) - 5);
    const category = next() < 0.02 ? 'NA' : `c${Math.floor(next() ** 2 * 30)}`;
    const flag = next() < 0.5 ? 'true' : 'false';
    rows.push(`${x},${n},${category},${flag}`);
  }
  return rows;
}

const csv = (rows: string[], firstLine = 2) => csvBatch(`x,n,category,flag\n${rows.join('\n')}\n`, firstLine);

describe('profile', () => {
  it('infers types, counts missing values and keeps a quoted empty string', () => {
    const profile = profileOf([
      csvBatch(
        'a,b,c,d,e,f\n1,1.5,true,2024-01-02,x,\n2,NA,FALSE,2024-02-03T10:00:00Z,"",\n,3,true,2024-03-04,y,\n',
      ),
    ]);
    expect(profile.columns.map((c) => c.type)).toEqual([
      'integer',
      'number',
      'boolean',
      'datetime',
      'string',
      'empty',
    ]);
    expect(profile.columns.map((c) => c.missing)).toEqual([1, 1, 0, 0, 0, 3]);
    const strings = profile.columns[4];
    expect(strings.count).toBe(3); // "" quoted is a value
    expect(strings.topValues?.map((t) => t.value).sort()).toEqual(['', 'x', 'y']);
    expect(profile.columns[2].numeric?.mean).toBeCloseTo(2 / 3, 12);
    expect(profile.columns[3].numeric?.min).toBe(Date.UTC(2024, 0, 2));
  });

  it('computes moments, exact quantiles and histograms like a two-pass reference', () => {
    const rows = mixedRows(3000, 7);
    const profile = profileOf([csv(rows)]);
    const x = rows
      .map((r) => r.split(',')[0])
      .filter((v) => v !== '')
      .map(Number);
    const column = profile.columns[0];
    const mean = x.reduce((a, b) => a + b, 0) / x.length;
    const std = Math.sqrt(x.reduce((a, b) => a + (b - mean) ** 2, 0) / (x.length - 1));
    expect(column).toMatchObject({ type: 'number', count: x.length, missing: rows.length - x.length });
    expect(column.numeric!.mean).toBeCloseTo(mean, 9);
    expect(column.numeric!.std / std).toBeCloseTo(1, 12);
    expect([column.numeric!.min, column.numeric!.max]).toEqual([Math.min(...x), Math.max(...x)]);
    expect(column.quantiles!.method).toBe('exact');
    for (const q of [0, 0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99, 1])
      expect(column.quantiles!.values[String(q)]).toBe(numpyQuantile(x, q));
    expect(column.histogram!.counts.reduce((a, b) => a + b, 0)).toBe(x.length);
    expect(sortedValues(column)).toEqual(Float64Array.from(x).sort());
    expect(cumulativeShare(column, numpyQuantile(x, 0.5))).toBeCloseTo(0.5, 3);
    const categories = categoryCounts(profile.columns[2])!;
    const expected = new Map<string, number>();
    for (const row of rows) {
      const c = row.split(',')[2];
      if (c !== 'NA') expected.set(c, (expected.get(c) ?? 0) + 1);
    }
    expect(categories).toEqual(expected);
    expect(profile.columns[2].topValues![0].count).toBe(Math.max(...expected.values()));
  });

  it('switches from exact values to the sketch exactly past the bound, within the stated error', () => {
    const values = Array.from({ length: 101 }, (_, i) => (i + 1) * 1.7);
    const exact = profileOf(
      [
        valueBatch(
          ['v'],
          values.slice(0, 100).map((v) => [v]),
        ),
      ],
      { exactValues: 100 },
    );
    expect(exact.columns[0].quantiles!.method).toBe('exact');
    const sketched = profileOf(
      [
        valueBatch(
          ['v'],
          values.map((v) => [v]),
        ),
      ],
      { exactValues: 100 },
    );
    const column = sketched.columns[0];
    expect(column.quantiles!.method).toBe('ddsketch');
    expect(column.quantiles!.relativeError).toBe(0.01);
    expect(sortedValues(column)).toBeNull();
    for (const q of [0.01, 0.25, 0.5, 0.75, 0.99]) {
      const rank = Math.floor(q * (values.length - 1));
      expect(Math.abs(valueAtQuantile(column, q) - values[rank]) / values[rank]).toBeLessThanOrEqual(0.01);
    }
  });

  it('gives the same profile for the same values from text (CSV) and values (JSONL)', () => {
    const rows = mixedRows(500, 3);
    const text = profileOf([csv(rows)]);
    const values = profileOf([
      valueBatch(
        ['x', 'n', 'category', 'flag'],
        rows.map((r) => {
          const [x, n, c, f] = r.split(',');
          return [x === '' ? null : Number(x), Number(n), c === 'NA' ? null : c, f === 'true'];
        }),
      ),
    ]);
    for (let c = 0; c < 4; c++) {
      const [a, b] = [text.columns[c], values.columns[c]];
      expect([b.count, b.missing, b.numeric, b.distinct, b.histogram]).toEqual([
        a.count,
        a.missing,
        a.numeric,
        a.distinct,
        a.histogram,
      ]);
    }
  });

  it('counts rows before a late JSONL column as missing', () => {
    const profiler = createProfiler();
    profiler.add(valueBatch(['a'], [[1], [2]]).batch, ['a']);
    profiler.add(valueBatch(['a', 'b'], [[3, 'x']]).batch, ['a', 'b']);
    const profile = profiler.finish([]);
    expect(profile.columns[1]).toMatchObject({ name: 'b', rows: 3, missing: 2, count: 1 });
  });
});

describe('mergeProfiles', () => {
  const cases: [string, Partial<ProfileOptions>][] = [
    ['exact mode', {}],
    ['sketch mode (small bounds)', { exactValues: 50, exactDistinct: 12 }],
  ];
  for (const [name, options] of cases) {
    it(`equals the profile of the union: ${name}`, () => {
      const next = createRandom(11).uniform;
      for (let trial = 0; trial < 6; trial++) {
        const rows = mixedRows(400 + Math.floor(next() * 400), trial + 100);
        const cuts = Array.from({ length: 1 + Math.floor(next() * 3) }, () =>
          Math.floor(next() * rows.length),
        ).sort((a, b) => a - b);
        const bounds = [0, ...cuts, rows.length];
        const shards = bounds.slice(1).map((end, k) => profileOf([csv(rows.slice(bounds[k], end))], options));
        const whole = profileOf([csv(rows)], options);
        // Through JSON, as shards travel between matrix jobs.
        const merged = mergeProfiles(
          shards.map((s) => parseProfile(JSON.parse(JSON.stringify(s)), 'shard.json')),
        );
        expect(merged.rows).toBe(whole.rows);
        for (let c = 0; c < whole.columns.length; c++) {
          const [m, w] = [merged.columns[c], whole.columns[c]];
          expect([m.type, m.count, m.missing, m.valueTypes, m.distinct, m.histogram, m.quantiles]).toEqual([
            w.type,
            w.count,
            w.missing,
            w.valueTypes,
            w.distinct,
            w.histogram,
            w.quantiles,
          ]);
          if (w.numeric) {
            expect([m.numeric!.min, m.numeric!.max]).toEqual([w.numeric.min, w.numeric.max]);
            expect(Math.abs(m.numeric!.mean - w.numeric.mean)).toBeLessThanOrEqual(
              1e-12 * Math.max(1, Math.abs(w.numeric.mean)),
            );
            expect(Math.abs(m.numeric!.std - w.numeric.std)).toBeLessThanOrEqual(1e-12 * w.numeric.std);
          }
          if (w.topValuesExact) expect(m.topValues).toEqual(w.topValues);
          else if (w.topValues) {
            // Misra–Gries: each reported count is low by at most the stated error.
            for (const top of m.topValues ?? []) {
              const truth = rows.filter((r) => r.split(',')[c] === top.value).length;
              expect(top.count).toBeLessThanOrEqual(truth);
              expect(truth - top.count).toBeLessThanOrEqual(m.topValuesError!);
            }
          }
        }
      }
    });
  }

  it('refuses profiles made with different settings, naming the setting', () => {
    const a = profileOf([csv(mixedRows(10, 1))]);
    const b = profileOf([csv(mixedRows(10, 2))], { exactValues: 5 });
    expect(() => mergeProfiles([a, b])).toThrow(/exactValues is 10000 in the first and 5 in profile 2/);
  });

  it('treats a column absent from a shard as missing there', () => {
    const a = profileOf([valueBatch(['a', 'b'], [[1, 'x']])]);
    const b = profileOf([valueBatch(['a'], [[2], [3]])]);
    expect(mergeProfiles([a, b]).columns[1]).toMatchObject({ name: 'b', rows: 3, missing: 2, count: 1 });
  });
});

describe('parseProfile', () => {
  it('explains a file that is not a profile', () => {
    expect(() => parseProfile({ kind: 'data-validation' }, 'x.json')).toThrow(
      /x\.json is not a data profile.*mlops profile/,
    );
    expect(() => parseProfile({ kind: 'data-profile', version: 2 }, 'x.json')).toThrow(/version 2/);
    expect(() =>
      parseProfile(
        { kind: 'data-profile', version: 1, rows: 1, options: {}, columns: [{ name: 'a' }] },
        'x.json',
      ),
    ).toThrow(/column 1 \(a\) has no mergeable state/);
  });
});

describe('sketches', () => {
  it('DDSketch quantiles are within the relative accuracy and merge exactly', () => {
    const next = createRandom(5).uniform;
    const values = Array.from({ length: 50_000 }, () => Math.exp(next() * 10 - 5) * (next() < 0.2 ? -1 : 1));
    const sketch = new DDSketch(0.01);
    for (const v of values) sketch.add(v);
    const sorted = [...values].sort((a, b) => a - b);
    for (const q of [0.001, 0.1, 0.3, 0.5, 0.9, 0.999]) {
      const truth = sorted[Math.floor(q * (values.length - 1))];
      expect(Math.abs(sketch.quantile(q) - truth)).toBeLessThanOrEqual(0.01 * Math.abs(truth) * (1 + 1e-12));
    }
    const left = new DDSketch(0.01);
    const right = new DDSketch(0.01);
    for (const [i, v] of values.entries()) (i % 3 === 0 ? left : right).add(v);
    left.merge(right);
    expect(left.toJSON()).toEqual(sketch.toJSON());
  });

  it('HyperLogLog estimates 200k distinct values within 3 standard errors and merges exactly', () => {
    const all = new HyperLogLog(14);
    const even = new HyperLogLog(14);
    const odd = new HyperLogLog(14);
    for (let i = 0; i < 200_000; i++) {
      const hash = hashNumber(i * 1.5);
      all.add(hash);
      (i % 2 ? odd : even).add(hash);
    }
    expect(Math.abs(all.estimate() - 200_000) / 200_000).toBeLessThan(3 * all.relativeError);
    even.merge(odd);
    expect(even.registers).toEqual(all.registers);
    const small = new HyperLogLog(14);
    for (let i = 0; i < 1000; i++) small.add(hashNumber(i));
    expect(Math.abs(small.estimate() - 1000)).toBeLessThan(20); // linear counting range
  });
});
