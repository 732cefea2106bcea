// Re-checks the survivors of a Stryker run against the current code and tests, in minutes rather
// than the hour a new run of a large file takes (issue #16): each surviving mutant of the report is
// applied to the current source, in a copy of the tree, and the file's tests (MUTATION_TARGETS) run
// against it.
//
//   npm run test:mutation:recheck -- --mutate src/core/model/gates.ts
//
// Reads reports/mutation/<file>.json (written by `npm run test:mutation`). A mutant is found again by
// its original text, at the occurrence nearest to where it was; it is "gone" when that text no longer
// exists, and "disabled" when a `// Stryker disable next-line <mutator>` comment now covers it. Prints
// each mutant that still survives; exit 1 when any does. This is a quick check between runs, not a
// measurement: the score in docs/testing.md comes from a full Stryker run.
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { MUTATION_TARGETS } from './mutation-targets.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { mutate: { type: 'string' } } });
if (values.mutate === undefined) {
  console.error(
    'Usage: node scripts/recheck-mutants.js --mutate <file> (after npm run test:mutation -- --mutate <file>)',
  );
  process.exit(2);
}
const file = values.mutate;
const named = MUTATION_TARGETS[file];
if (named === undefined) {
  console.error(`No tests are named for ${file} in MUTATION_TARGETS (scripts/mutation-targets.js).`);
  process.exit(2);
}
const tests = named;
const slug = file.replace(/^src\//, '').replace(/[/.]/g, '-');
const reportFile = join(root, 'reports/mutation', `${slug}.json`);
if (!existsSync(reportFile)) {
  console.error(`No report at ${reportFile}: run npm run test:mutation -- --mutate ${file} first.`);
  process.exit(2);
}
const report = JSON.parse(readFileSync(reportFile, 'utf8'));
const reported = Object.entries(report.files).find(([name]) => name.endsWith(file))?.[1];
if (!reported) {
  console.error(`${reportFile} has no entry for ${file}.`);
  process.exit(2);
}

/** Offset of a 1-based line and column in text. */
function offsetOf(text, { line, column }) {
  let offset = 0;
  for (let i = 1; i < line; i++) offset = text.indexOf('\n', offset) + 1;
  return offset + column - 1;
}

const current = readFileSync(join(root, file), 'utf8');
const currentLines = current.split('\n');
/** Whether an offset of the current source is on a comment line (`//`, or inside a JSDoc block). */
function inComment(offset) {
  const lineStart = current.lastIndexOf('\n', offset - 1) + 1;
  return /^\s*(\/\/|\/\*|\*)/.test(current.slice(lineStart, offset));
}
// A copy of the tree as Stryker's sandbox has it (tests read templates/, fixtures, scripts), so that
// the working files are never left mutated; what stryker.config.mjs ignores is left out too.
const LEFT_OUT = new Set([
  '.git',
  'node_modules',
  'dist',
  'dist-pack',
  'reports',
  '.stryker-tmp',
  'demo-output',
]);
const work = mkdtempSync(join(tmpdir(), 'mlops-recheck-'));
for (const part of readdirSync(root)) {
  if (LEFT_OUT.has(part) || part.startsWith('dist.tmp-')) continue;
  cpSync(join(root, part), join(work, part), {
    recursive: true,
    filter: (source) => !source.startsWith(join(root, 'bench/data')),
  });
}
symlinkSync(join(root, 'node_modules'), join(work, 'node_modules'));
// Node 24 runs the tests (Vitest 5 needs Node >= 22), as in Stryker's command runner.
const node =
  Number(process.versions.node.split('.')[0]) >= 22
    ? process.execPath
    : join(root, 'node_modules/node/bin/node');

/** Runs the file's tests in the copy; true when they pass. */
function testsPass() {
  const run = spawnSync(
    node,
    ['node_modules/vitest/vitest.mjs', 'run', '--config', 'vitest.mutation.config.ts', '--reporter', 'dot'],
    {
      cwd: work,
      env: { ...process.env, MLOPS_MUTATION_TESTS: tests.join(',') },
      encoding: 'utf8',
      timeout: 300_000,
    },
  );
  return run.status === 0;
}

// Without a mutant the tests must pass in the copy; else every mutant would count as killed.
if (!testsPass()) {
  rmSync(work, { recursive: true, force: true });
  console.error(`The tests of ${file} fail in a copy of the tree without any mutant: fix them first.`);
  process.exit(2);
}

const results = { killed: 0, survived: 0, gone: 0, disabled: 0 };
try {
  const survivors = reported.mutants.filter((m) => m.status === 'Survived' || m.status === 'NoCoverage');
  console.log(`${file}: ${survivors.length} survivors in ${reportFile}; tests: ${tests.join(', ')}`);
  for (const mutant of survivors) {
    const start = offsetOf(reported.source, mutant.location.start);
    const original = reported.source.slice(start, offsetOf(reported.source, mutant.location.end));
    let position = -1;
    for (let i = current.indexOf(original); i >= 0; i = current.indexOf(original, i + 1)) {
      if (inComment(i)) continue; // a comment quoting the code (e.g. a disable's reason) is not the code
      if (position < 0 || Math.abs(i - start) < Math.abs(position - start)) position = i;
    }
    const where = `${mutant.location.start.line}:${mutant.location.start.column} ${mutant.mutatorName} ${JSON.stringify(mutant.replacement).slice(0, 100)}`;
    if (position < 0) {
      results.gone++;
      continue;
    }
    const line = current.slice(0, position).split('\n').length;
    const above = currentLines[line - 2] ?? '';
    const disabled = /Stryker disable next-line ([\w,]+)/.exec(above);
    if (disabled && (disabled[1] === 'all' || disabled[1].split(',').includes(mutant.mutatorName))) {
      results.disabled++;
      continue;
    }
    writeFileSync(
      join(work, file),
      current.slice(0, position) + mutant.replacement + current.slice(position + original.length),
    );
    if (testsPass()) {
      results.survived++;
      console.log(`survives: ${where} (now line ${line})`);
    } else results.killed++;
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
console.log(
  `killed ${results.killed}, still surviving ${results.survived}, marked equivalent ${results.disabled}, code gone ${results.gone}`,
);
process.exit(results.survived > 0 ? 1 : 0);
