// The model benchmarks' holdout: shared by bench/model.js and bench/compare-builds.js, so both
// measure the same rows.
import { createWriteStream, renameSync } from 'node:fs';

/** Features of the holdout (the bench models of make-models.py take 30). */
export const FEATURES = 30;

/** A holdout of `rows` rows: 30 standard-normal features and a 0/1 label that depends on them. */
export async function writeHoldout(file, rows) {
  console.error(`writing ${file} (${rows} rows)…`);
  const out = createWriteStream(`${file}.tmp`);
  const header = [...Array.from({ length: FEATURES }, (_, j) => `f${j}`), 'label'].join(',');
  out.write(`${header}\n`);
  let seed = 12345;
  const uniform = () => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return (seed + 0.5) / 4294967296;
  };
  const normal = () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  let chunk = '';
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    const cells = new Array(FEATURES + 1);
    for (let j = 0; j < FEATURES; j++) {
      const x = normal();
      sum += j < 5 ? x : 0;
      cells[j] = x.toFixed(6);
    }
    cells[FEATURES] = sum + normal() > 0 ? 1 : 0;
    chunk += `${cells.join(',')}\n`;
    if (chunk.length > 1 << 20) {
      if (!out.write(chunk)) await new Promise((resolve) => out.once('drain', resolve));
      chunk = '';
    }
  }
  out.write(chunk);
  await new Promise((resolve) => out.end(resolve));
  renameSync(`${file}.tmp`, file);
}
