import { InputError } from '../errors.ts';
import { writeFileAtomic } from '../files.ts';
import { readJsonFile } from '../json/file.ts';
import type { SliceColumn } from './evaluate-model.ts';
import type { EvaluatedModels } from './evaluation.ts';
import { mergeOutcomes } from './metrics.ts';
import type { Outcomes } from './outcomes.ts';

export const SHARD_KIND = 'model-evaluation-shard';

/** A shard as written: typed arrays become base64 strings. */
interface ShardFile {
  kind: typeof SHARD_KIND;
  version: 1;
  shard: { index: number; count: number };
  evaluated: Omit<EvaluatedModels, 'outcomes' | 'rowIndex' | 'slices'>;
  outcomes: { candidate: EncodedOutcomes; baseline?: EncodedOutcomes };
  rowIndex: string;
  slices: { column: string; bucketed: boolean; keys: string[]; codes: string }[];
}

type EncodedOutcomes =
  | { task: 'regression'; targets: string; predictions: string }
  | {
      task: 'binary' | 'multiclass';
      classes: (string | number)[];
      labels: string;
      probabilities: string;
      threshold: number;
    };

/** Parses `K/N` (1 ≤ K ≤ N). `name` is the flag or input, for the message. */
export function parseShard(text: string, name: string): { index: number; count: number } {
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const index = match ? Number(match[1]) : Number.NaN;
  const count = match ? Number(match[2]) : Number.NaN;
  if (!match || index < 1 || count < 1 || index > count) {
    throw new InputError(
      `${name} must be K/N with 1 ≤ K ≤ N (shard K of N, e.g. 2/4 in a matrix job: \${{ matrix.shard }}/4); got "${text}".`,
      { key: name },
    );
  }
  return { index, count };
}

function encode(array: Float64Array | Int32Array): string {
  return Buffer.from(array.buffer, array.byteOffset, array.byteLength).toString('base64');
}

function decodeFloat64(text: string): Float64Array {
  const bytes = Buffer.from(text, 'base64');
  return new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

function decodeInt32(text: string): Int32Array {
  const bytes = Buffer.from(text, 'base64');
  return new Int32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

function encodeOutcomes(outcomes: Outcomes): EncodedOutcomes {
  return outcomes.task === 'regression'
    ? { task: 'regression', targets: encode(outcomes.targets), predictions: encode(outcomes.predictions) }
    : {
        task: outcomes.task,
        classes: [...outcomes.classes],
        labels: encode(outcomes.labels),
        probabilities: encode(outcomes.probabilities),
        threshold: outcomes.threshold,
      };
}

function decodeOutcomes(encoded: EncodedOutcomes): Outcomes {
  return encoded.task === 'regression'
    ? {
        task: 'regression',
        targets: decodeFloat64(encoded.targets),
        predictions: decodeFloat64(encoded.predictions),
      }
    : {
        task: encoded.task,
        classes: encoded.classes,
        labels: decodeInt32(encoded.labels),
        probabilities: decodeFloat64(encoded.probabilities),
        threshold: encoded.threshold,
      };
}

/** Writes a shard's evaluation (atomically: temp file, then rename). */
export async function writeShardFile(
  path: string,
  evaluated: EvaluatedModels,
  shard: { index: number; count: number },
): Promise<void> {
  const { outcomes, rowIndex, slices, ...rest } = evaluated;
  const file: ShardFile = {
    kind: SHARD_KIND,
    version: 1,
    shard,
    evaluated: rest,
    outcomes: {
      candidate: encodeOutcomes(outcomes.candidate),
      ...(outcomes.baseline ? { baseline: encodeOutcomes(outcomes.baseline) } : {}),
    },
    rowIndex: encode(rowIndex),
    slices: slices.map((s) => ({
      column: s.column,
      bucketed: s.bucketed,
      keys: s.keys,
      codes: encode(s.codes),
    })),
  };
  await writeFileAtomic(path, `${JSON.stringify(file)}\n`);
}

async function readShardFile(path: string): Promise<ShardFile> {
  const file = (await readJsonFile(path, 'Shard file', {
    parseHint: 'Was it written completely?',
  })) as ShardFile;
  if (file?.kind !== SHARD_KIND || file.version !== 1 || !file.evaluated || !file.outcomes?.candidate) {
    throw new InputError(
      `${path} is not a shard file of this version (kind "${SHARD_KIND}", version 1): write shards with \`mlops validate-model --shard K/N --save-outcomes FILE\`.`,
      { file: path },
    );
  }
  return file;
}

/**
 * Reads shard files and merges them into one evaluation, in the file's row order. Throws
 * `InputError` when the shards do not belong together (other models, data, settings), when one
 * is missing or duplicated, naming the files.
 */
export async function mergeShardFiles(paths: readonly string[]): Promise<EvaluatedModels> {
  if (paths.length === 0) throw new InputError('No shard files to merge: pass the files every shard wrote.');
  const entries = await Promise.all(paths.map(async (path) => ({ path, file: await readShardFile(path) })));
  entries.sort((a, b) => a.file.shard.index - b.file.shard.index);
  const files = entries.map((entry) => entry.file);
  const [first] = files;
  const count = first.shard.count;
  const seen = new Map<number, string>();
  entries.forEach(({ path, file }) => {
    const mismatch = (what: string, a: unknown, b: unknown) =>
      new InputError(
        `Shard ${path} does not belong with ${entries[0].path}: its ${what} is ${JSON.stringify(b)}, not ${JSON.stringify(a)}. Merge the shards of one run only.`,
        { file: path },
      );
    if (file.shard.count !== count) throw mismatch('shard count', count, file.shard.count);
    const previous = seen.get(file.shard.index);
    if (previous !== undefined) {
      throw new InputError(`Shard ${file.shard.index}/${count} is given twice: ${previous} and ${path}.`, {
        file: path,
      });
    }
    seen.set(file.shard.index, path);
    const a = first.evaluated;
    const b = file.evaluated;
    if (b.candidate.sha256 !== a.candidate.sha256)
      throw mismatch('candidate model (sha256)', a.candidate.sha256, b.candidate.sha256);
    if (b.baseline?.sha256 !== a.baseline?.sha256)
      throw mismatch('baseline model (sha256)', a.baseline?.sha256, b.baseline?.sha256);
    if (b.data.sha256 !== a.data.sha256) throw mismatch('data file (sha256)', a.data.sha256, b.data.sha256);
    if (b.task !== a.task || b.target !== a.target)
      throw mismatch('task and target', [a.task, a.target], [b.task, b.target]);
    if (JSON.stringify(b.output) !== JSON.stringify(a.output))
      throw mismatch('output reading', a.output, b.output);
    const columns = (f: ShardFile) => f.slices.map((s) => s.column);
    if (JSON.stringify(columns(file)) !== JSON.stringify(columns(first))) {
      throw mismatch('slice columns', columns(first), columns(file));
    }
  });
  const missing = Array.from({ length: count }, (_, i) => i + 1).filter((index) => !seen.has(index));
  if (missing.length > 0) {
    throw new InputError(
      `Shards ${missing.map((index) => `${index}/${count}`).join(', ')} are missing: merge all ${count} shards (got ${paths.join(', ')}).`,
    );
  }

  // Concatenate, then restore the file's row order (so the result equals a single run's).
  const decoded = files.map((file) => ({
    candidate: decodeOutcomes(file.outcomes.candidate),
    baseline: file.outcomes.baseline ? decodeOutcomes(file.outcomes.baseline) : undefined,
    rowIndex: decodeFloat64(file.rowIndex),
  }));
  const concatenated = decoded.reduce((a, b) => ({
    candidate: mergeOutcomes(a.candidate, b.candidate),
    baseline: a.baseline && b.baseline ? mergeOutcomes(a.baseline, b.baseline) : undefined,
    rowIndex: Float64Array.from([...a.rowIndex, ...b.rowIndex]),
  }));
  const order = Array.from(concatenated.rowIndex.keys()).sort(
    (x, y) => concatenated.rowIndex[x] - concatenated.rowIndex[y],
  );
  // Slice codes: shards may have met the values in different orders; recode by value.
  const slices: SliceColumn[] = first.slices.map((slice, s) => {
    const keys = new Map<string, number>();
    const perShard = files.map((file) => {
      const { keys: shardKeys, codes } = file.slices[s];
      const recode = shardKeys.map((key) => {
        let code = keys.get(key);
        if (code === undefined) {
          code = keys.size;
          keys.set(key, code);
        }
        return code;
      });
      return Int32Array.from(decodeInt32(codes), (code) => recode[code]);
    });
    const all = Int32Array.from(perShard.flatMap((codes) => [...codes]));
    return {
      column: slice.column,
      bucketed: slice.bucketed,
      keys: [...keys.keys()],
      codes: Int32Array.from(order, (i) => all[i]),
    };
  });
  const rows = order.length;
  const droppedRows = files.reduce((total, file) => total + file.evaluated.data.droppedRows, 0);
  return {
    ...first.evaluated,
    data: { ...first.evaluated.data, rows, droppedRows },
    outcomes: {
      candidate: reorder(concatenated.candidate, order),
      ...(concatenated.baseline ? { baseline: reorder(concatenated.baseline, order) } : {}),
    },
    rowIndex: Float64Array.from(order, (i) => concatenated.rowIndex[i]),
    slices,
    // Latency and parity belong to the model, not to the rows: every shard measured them on the
    // same model, and shard 1's figures stand for the run (first.evaluated carries them).
  };
}

function reorder(outcomes: Outcomes, order: number[]): Outcomes {
  if (outcomes.task === 'regression') {
    return {
      task: 'regression',
      targets: Float64Array.from(order, (i) => outcomes.targets[i]),
      predictions: Float64Array.from(order, (i) => outcomes.predictions[i]),
    };
  }
  const k = outcomes.classes.length;
  const probabilities = new Float64Array(order.length * k);
  order.forEach((from, to) => {
    probabilities.set(outcomes.probabilities.subarray(from * k, from * k + k), to * k);
  });
  return { ...outcomes, labels: Int32Array.from(order, (i) => outcomes.labels[i]), probabilities };
}
