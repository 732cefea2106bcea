#!/usr/bin/env node
// Deterministic benchmark data: 30 columns (20 floats, 5 integers, 5 categorical strings).
//
//   node bench/generate.js --rows 1000000 --format csv|jsonl|parquet --out bench/data/x.csv [--gzip] [--seed 42]
//   node bench/generate.js --contract bench/data/contract.json     (contract only)
//
// Every run also writes the matching data contract (JSON Schema 2020-12, one row) to
// bench/data/contract.json unless --no-contract is given. The same --seed gives the same rows
// in every format, so CSV, JSONL and Parquet files of one row count hold the same data.
//
// Output is streamed: memory stays flat whatever --rows is (CSV/JSONL write 5,000-row chunks with
// back-pressure; Parquet writes one 100,000-row row group at a time through hyparquet-writer's
// ParquetWriter, so about one row group of column arrays is in memory at once).
// Plain Node ESM JavaScript: no build step needed.

import { once } from 'node:events';
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGzip } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));

// ---------------------------------------------------------------------------------------------
// PRNG: mulberry32 (32-bit state, fast, deterministic across platforms).
export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Largest |z| Box–Muller can produce from 32-bit uniforms: sqrt(-2 ln 2^-32) ≈ 6.66.
const Z_MAX = 6.7;

function normal(rand) {
  // Box–Muller; u1 in (0, 1] so log never sees 0.
  const u1 = 1 - rand();
  const u2 = rand();
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

// ---------------------------------------------------------------------------------------------
// Column specs. `decimals` sets the written precision (values are rounded, then written in
// shortest round-trip form), which also sets the file size (~235 bytes a row in CSV).
const FLOATS = [
  { dist: 'normal', mean: 0, sd: 1, decimals: 6 },
  { dist: 'normal', mean: 50, sd: 10, decimals: 4 },
  { dist: 'normal', mean: -20, sd: 5, decimals: 5 },
  { dist: 'normal', mean: 1000, sd: 150, decimals: 3 },
  { dist: 'normal', mean: 0.5, sd: 0.1, decimals: 6 },
  { dist: 'normal', mean: 3, sd: 2, decimals: 5 },
  { dist: 'normal', mean: 100, sd: 25, decimals: 3 },
  { dist: 'lognormal', mu: 0, sigma: 1, decimals: 5 },
  { dist: 'lognormal', mu: 3, sigma: 0.5, decimals: 4 },
  { dist: 'lognormal', mu: 8, sigma: 1.2, decimals: 2 },
  { dist: 'lognormal', mu: -2, sigma: 0.7, decimals: 6 },
  { dist: 'lognormal', mu: 5, sigma: 0.3, decimals: 3 },
  { dist: 'lognormal', mu: 1, sigma: 0.9, decimals: 4 },
  { dist: 'uniform', min: 0, max: 1, decimals: 6 },
  { dist: 'uniform', min: -1, max: 1, decimals: 6 },
  { dist: 'uniform', min: 0, max: 100, decimals: 4 },
  { dist: 'uniform', min: 1000, max: 5000, decimals: 2 },
  { dist: 'uniform', min: -50, max: 50, decimals: 4 },
  { dist: 'uniform', min: 0, max: 10, decimals: 5 },
  { dist: 'uniform', min: 0.001, max: 0.01, decimals: 7 },
].map((spec, k) => ({ ...spec, name: `f${String(k).padStart(2, '0')}`, missing: 0.05 }));

const INTS = [
  { min: 0, max: 1 }, // a flag
  { min: 0, max: 120 }, // an age
  { min: -1000, max: 1000 },
  { min: 0, max: 100000 },
  { min: 1, max: 999999999 }, // an id-like column (fits INT32)
].map((spec, k) => ({ ...spec, name: `i${k}` }));

const CATEGORY_LEVELS = [5, 20, 100, 300, 1000];
const CATS = CATEGORY_LEVELS.map((levels, k) => {
  const width = String(levels - 1).length;
  const labels = Array.from({ length: levels }, (_, j) => `c${k}_grp_${String(j).padStart(width, '0')}`);
  // Zipf-ish frequencies (s = 1.1): cumulative table sampled by binary search.
  const weights = labels.map((_, j) => 1 / (j + 1) ** 1.1);
  const total = weights.reduce((a, b) => a + b, 0);
  const cumulative = new Float64Array(levels);
  let acc = 0;
  for (let j = 0; j < levels; j++) {
    acc += weights[j] / total;
    cumulative[j] = acc;
  }
  cumulative[levels - 1] = 1;
  return { name: `c${k}`, levels, labels, cumulative, enumInContract: k <= 2 };
});

export const COLUMNS = [...FLOATS.map((c) => c.name), ...INTS.map((c) => c.name), ...CATS.map((c) => c.name)];

function floatBounds(spec) {
  switch (spec.dist) {
    case 'normal':
      return {
        minimum: round(spec.mean - Z_MAX * spec.sd, spec.decimals),
        maximum: round(spec.mean + Z_MAX * spec.sd, spec.decimals),
      };
    case 'lognormal':
      return { minimum: 0, maximum: round(Math.exp(spec.mu + Z_MAX * spec.sigma), 0) + 1 };
    default:
      return { minimum: spec.min, maximum: spec.max };
  }
}

function round(x, decimals) {
  const p = 10 ** decimals;
  return Math.round(x * p) / p;
}

// ---------------------------------------------------------------------------------------------
// Row generation: fills column arrays for `n` rows. Floats: number or null (missing).

function makeGenerator(seed) {
  const rand = mulberry32(seed);
  const floatPow = FLOATS.map((s) => 10 ** s.decimals);
  return function fill(n, cols) {
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < FLOATS.length; k++) {
        const s = FLOATS[k];
        const u = rand();
        let x;
        if (s.dist === 'normal') x = s.mean + s.sd * normal(rand);
        else if (s.dist === 'lognormal') x = Math.exp(s.mu + s.sigma * normal(rand));
        else x = s.min + (s.max - s.min) * rand();
        // The uniform draw `u` decides missingness, so every column keeps its own stream position.
        cols[k][i] = u < s.missing ? null : Math.round(x * floatPow[k]) / floatPow[k];
      }
      for (let k = 0; k < INTS.length; k++) {
        const s = INTS[k];
        cols[FLOATS.length + k][i] = s.min + Math.floor(rand() * (s.max - s.min + 1));
      }
      for (let k = 0; k < CATS.length; k++) {
        const c = CATS[k];
        const u = rand();
        let lo = 0;
        let hi = c.levels - 1;
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          if (c.cumulative[mid] < u) lo = mid + 1;
          else hi = mid;
        }
        cols[FLOATS.length + INTS.length + k][i] = c.labels[lo];
      }
    }
  };
}

// ---------------------------------------------------------------------------------------------
// Contract: JSON Schema 2020-12 for one row.

export function contract() {
  const properties = {};
  for (const s of FLOATS) properties[s.name] = { type: ['number', 'null'], ...floatBounds(s) };
  for (const s of INTS) properties[s.name] = { type: 'integer', minimum: s.min, maximum: s.max };
  for (const c of CATS) {
    properties[c.name] = c.enumInContract
      ? { type: 'string', enum: c.labels }
      : { type: 'string', minLength: 1, maxLength: 16, pattern: `^${c.name}_grp_[0-9]+$` };
  }
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://example.invalid/mlops-actions/bench/contract.json',
    title: 'Benchmark table (bench/generate.js)',
    type: 'object',
    properties,
    required: COLUMNS,
    additionalProperties: false,
  };
}

// ---------------------------------------------------------------------------------------------
// Writers.

async function writeText(out, rows, format, seed, gzip) {
  const file = createWriteStream(out, { highWaterMark: 1 << 20 });
  let sink = file;
  if (gzip) {
    sink = createGzip({ level: 6 });
    sink.pipe(file);
  }
  const fill = makeGenerator(seed);
  const chunk = 5000;
  const cols = COLUMNS.map(() => new Array(chunk));
  const nNum = FLOATS.length + INTS.length;
  const keys = COLUMNS.map((name) => `"${name}":`);
  if (format === 'csv') await write(sink, `${COLUMNS.join(',')}\n`);
  for (let done = 0; done < rows; done += chunk) {
    const n = Math.min(chunk, rows - done);
    fill(n, cols);
    let text = '';
    for (let i = 0; i < n; i++) {
      let line = format === 'csv' ? '' : '{';
      for (let k = 0; k < COLUMNS.length; k++) {
        const v = cols[k][i];
        if (format === 'csv') {
          if (k > 0) line += ',';
          if (v !== null) line += v; // labels need no quoting (letters, digits, _)
        } else {
          if (k > 0) line += ',';
          line += keys[k];
          if (v === null) line += 'null';
          else if (k < nNum) line += v;
          else line += `"${v}"`;
        }
      }
      text += format === 'csv' ? `${line}\n` : `${line}}\n`;
    }
    await write(sink, text);
  }
  sink.end();
  await once(file, 'finish');
}

async function write(stream, text) {
  if (!stream.write(text)) await once(stream, 'drain');
}

async function writeParquet(out, rows, seed, gzip) {
  if (gzip) throw new Error('--gzip applies to csv and jsonl only (Parquet pages are snappy-compressed)');
  const { ParquetWriter, fileWriter } = await import('hyparquet-writer');
  const schema = [
    { name: 'root', num_children: COLUMNS.length },
    ...FLOATS.map((s) => ({ name: s.name, type: 'DOUBLE', repetition_type: 'OPTIONAL' })),
    ...INTS.map((s) => ({ name: s.name, type: 'INT32', repetition_type: 'REQUIRED' })),
    ...CATS.map((c) => ({
      name: c.name,
      type: 'BYTE_ARRAY',
      converted_type: 'UTF8',
      repetition_type: 'REQUIRED',
    })),
  ];
  const writer = new ParquetWriter({ writer: fileWriter(out), schema, codec: 'SNAPPY' });
  const fill = makeGenerator(seed);
  const rowGroup = 100000;
  for (let done = 0; done < rows; done += rowGroup) {
    const n = Math.min(rowGroup, rows - done);
    const cols = COLUMNS.map(() => new Array(n));
    fill(n, cols);
    const columnData = COLUMNS.map((name, k) => ({
      name,
      data: k >= FLOATS.length && k < FLOATS.length + INTS.length ? Int32Array.from(cols[k]) : cols[k],
    }));
    const pending = writer.write({ columnData, rowGroupSize: rowGroup });
    if (pending) await pending;
  }
  const finished = writer.finish();
  if (finished) await finished;
}

// ---------------------------------------------------------------------------------------------

function parseArgs(argv) {
  const args = {
    rows: 1000,
    format: undefined,
    out: undefined,
    gzip: false,
    seed: 42,
    contract: join(here, 'data', 'contract.json'),
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--rows') args.rows = Number(value().replaceAll('_', ''));
    else if (a === '--format') args.format = value();
    else if (a === '--out') args.out = value();
    else if (a === '--gzip') args.gzip = true;
    else if (a === '--seed') args.seed = Number(value());
    else if (a === '--contract') args.contract = value();
    else if (a === '--no-contract') args.contract = null;
    else if (a === '--help' || a === '-h') args.help = true;
    else throw new Error(`unknown argument ${a}`);
  }
  if (!Number.isInteger(args.rows) || args.rows < 0) throw new Error('--rows must be a non-negative integer');
  if (args.out && !args.format) {
    const m = /\.(csv|jsonl|parquet)(\.gz)?$/.exec(args.out);
    if (!m)
      throw new Error(
        '--format csv|jsonl|parquet is required (or an --out ending in .csv, .jsonl, .parquet)',
      );
    args.format = m[1];
    if (m[2]) args.gzip = true;
  }
  if (args.format && !['csv', 'jsonl', 'parquet'].includes(args.format))
    throw new Error(`unknown --format ${args.format}`);
  if (args.format && !args.out) throw new Error('--out is required');
  if (args.gzip && args.out && !args.out.endsWith('.gz')) args.out += '.gz';
  return args;
}

const usage = `usage: node bench/generate.js --rows N --format csv|jsonl|parquet --out FILE [--gzip] [--seed 42]
                             [--contract FILE | --no-contract]
  Writes N rows of the 30-column benchmark table, and its data contract (default bench/data/contract.json).`;

async function main() {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (error) {
    console.error(`${error.message}\n${usage}`);
    process.exit(2);
  }
  if (args.help) {
    console.log(usage);
    return;
  }
  if (args.contract) {
    mkdirSync(dirname(args.contract), { recursive: true });
    writeFileSync(args.contract, `${JSON.stringify(contract(), null, 2)}\n`);
  }
  if (!args.format) return;
  mkdirSync(dirname(args.out), { recursive: true });
  const t0 = performance.now();
  if (args.format === 'parquet') await writeParquet(args.out, args.rows, args.seed, args.gzip);
  else await writeText(args.out, args.rows, args.format, args.seed, args.gzip);
  const seconds = (performance.now() - t0) / 1000;
  console.error(
    `wrote ${args.rows} rows to ${args.out} (${args.format}${args.gzip ? ', gzip' : ''}) in ${seconds.toFixed(1)} s`,
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
