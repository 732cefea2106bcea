// src/core/glob.ts stands in for Node 22's fs/promises glob on Node 20: on the same tree it must find
// exactly what Node's own finds (the tests run on Node 24, where both exist).

import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { glob as nodeGlob } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expandBraces, glob } from '../../src/core/glob.ts';
import { temporaryDirectory } from '../helpers/example.ts';

async function collect(iterable: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const item of iterable) out.push(item);
  return out.sort();
}

async function tree(): Promise<string> {
  const root = await temporaryDirectory();
  for (const dir of ['a/b/c', '.hidden', 'reports/eu', 'reports/us', 'data', 'sp ace']) {
    mkdirSync(join(root, dir), { recursive: true });
  }
  for (const file of [
    'x.json',
    '.dot.json',
    'a/y.json',
    'a/b/z.json',
    'a/b/c/deep.json',
    'a/b/q.csv',
    '.hidden/w.json',
    'reports/eu/model.json',
    'reports/us/model.json',
    'reports/data.json',
    'data/part-1.csv',
    'data/part-2.csv',
    'data/part-10.csv',
    'data/train.csv',
    'data/test.csv',
    'sp ace/f (1).csv',
    'a+b.json',
  ]) {
    writeFileSync(join(root, file), '{}');
  }
  symlinkSync(join(root, 'a'), join(root, 'link-to-a'));
  return root;
}

const patterns = [
  '*.json',
  '**/*.json',
  '**',
  'a/**',
  'a/**/*.json',
  'a/*/z.json',
  'a/*/*',
  '{x,a/y}.json',
  './a/*.json',
  'a/b',
  'a/[xy].json',
  'a/[!y].json',
  'data/part-?.csv',
  'data/part-*.csv',
  'data/{train,test}.csv',
  'data/{train,missing}.csv',
  'reports/**/model.json',
  'reports/*/*.json',
  '.*',
  '.hidden/*',
  'sp ace/*',
  'a+b.*',
  'nothing/*.json',
  'x.json/*',
  'link-to-a/*.json',
  'a/../*.json',
];

describe('glob', () => {
  it.each(patterns)('matches what fs/promises glob matches: %s', async (pattern) => {
    const root = await tree();
    expect(await collect(glob(pattern, { cwd: root }))).toEqual(
      await collect(nodeGlob(pattern, { cwd: root })),
    );
  });

  it('gives absolute paths for an absolute pattern', async () => {
    const root = await tree();
    const pattern = join(root, 'reports/*/model.json');
    const matches = await collect(glob(pattern));
    expect(matches).toEqual([join(root, 'reports/eu/model.json'), join(root, 'reports/us/model.json')]);
    expect(matches).toEqual(await collect(nodeGlob(pattern)));
  });

  it('expands nested braces and leaves a brace without alternatives alone', () => {
    expect(expandBraces('a{b,c{d,e}}f')).toEqual(['abf', 'acdf', 'acef']);
    expect(expandBraces('{x}.json')).toEqual(['{x}.json']);
    expect(expandBraces('{a,b}/{c,d}')).toEqual(['a/c', 'a/d', 'b/c', 'b/d']);
  });
});
