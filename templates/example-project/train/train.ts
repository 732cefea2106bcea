/**
 * Trains the model and writes it as ONNX:
 *
 *   node train/train.ts [--data data/train.csv] [--out build/model.onnx] [--target target]
 *                       [--iterations N] [--l2 X]
 *
 * Every setting changes the weights only, never the model's inputs and outputs, so a deliberately
 * weaker model (`--iterations 1`, or a large `--l2`) can serve as a baseline for the model gate.
 * Exit codes: 0 written, 2 a mistake in the arguments or the data (the message says which).
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { DataError, parseNumericCsv, splitTarget } from '../src/features.ts';
import { type TrainedModel, TrainingError, trainLogisticRegression } from '../src/logistic-regression.ts';
import { encodeLogisticRegressionOnnx } from '../src/onnx.ts';

const USAGE =
  'usage: node train/train.ts [--data data/train.csv] [--out build/model.onnx] [--target target] [--iterations N] [--l2 X]';

/** A mistake in how the script was called. */
class UsageError extends Error {
  override name = 'UsageError';
}

interface Settings {
  data: string;
  out: string;
  target: string;
  iterations: number;
  l2: number;
}

function parseSettings(argv: string[]): Settings | undefined {
  let parsed: ReturnType<typeof parseOptions>;
  try {
    parsed = parseOptions(argv);
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n${USAGE}`);
  }
  if (parsed.help) return undefined;
  const iterations = Number(parsed.iterations);
  if (!Number.isInteger(iterations) || iterations < 1) {
    throw new UsageError(`--iterations must be a positive integer; got "${parsed.iterations}".`);
  }
  const l2 = Number(parsed.l2);
  if (parsed.l2.trim() === '' || !Number.isFinite(l2) || l2 < 0) {
    throw new UsageError(`--l2 must be a number ≥ 0; got "${parsed.l2}".`);
  }
  return { data: parsed.data, out: parsed.out, target: parsed.target, iterations, l2 };
}

function parseOptions(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      data: { type: 'string', default: 'data/train.csv' },
      out: { type: 'string', default: 'build/model.onnx' },
      target: { type: 'string', default: 'target' },
      // At most 100 Newton steps; on this data it converges in about ten.
      iterations: { type: 'string', default: '100' },
      l2: { type: 'string', default: '0.01' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  return values;
}

/** Writes next to the target, then renames: a reader never sees half a model. */
async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${randomUUID()}.tmp`;
  try {
    await writeFile(temporary, bytes);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

function describeTraining(trained: TrainedModel, settings: Settings): string {
  return (
    `L2-regularized logistic regression (l2 = ${settings.l2}) trained by Newton's method on ` +
    `${trained.rows} rows of ${basename(settings.data)}: ${trained.fit.iterations} iterations ` +
    `(${trained.fit.converged ? 'converged' : `stopped at --iterations ${settings.iterations}`}), ` +
    `training log-loss ${trained.trainingLogLoss.toFixed(6)}. Predicts P(${settings.target} = 1); ` +
    'the input features are standardized inside the graph.'
  );
}

async function main(argv: string[]): Promise<number> {
  const settings = parseSettings(argv);
  if (!settings) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  let text: string;
  try {
    text = await readFile(settings.data, 'utf8');
  } catch (error) {
    throw new UsageError(`Cannot read --data ${settings.data}: ${(error as Error).message}`);
  }
  const dataset = splitTarget(parseNumericCsv(text, settings.data), settings.target, settings.data);
  const trained = trainLogisticRegression(dataset, { l2: settings.l2, maxIterations: settings.iterations });
  const bytes = encodeLogisticRegressionOnnx(trained.model, {
    docString: describeTraining(trained, settings),
    metadata: {
      features: JSON.stringify(trained.model.featureNames),
      target: settings.target,
      classes: JSON.stringify([0, 1]),
      l2: String(settings.l2),
      iterations: String(trained.fit.iterations),
      converged: String(trained.fit.converged),
      training_rows: String(trained.rows),
      training_log_loss: String(trained.trainingLogLoss),
    },
  });
  await writeFileAtomic(settings.out, bytes);
  process.stdout.write(
    `trained on ${trained.rows} rows × ${trained.model.featureNames.length} features: ` +
      `${trained.fit.iterations} Newton iteration${trained.fit.iterations === 1 ? '' : 's'}` +
      `${trained.fit.converged ? ' (converged)' : ''}, training log-loss ${trained.trainingLogLoss.toFixed(4)}, ` +
      `l2 ${settings.l2} → ${settings.out} (${bytes.length} bytes)\n`,
  );
  return 0;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof UsageError || error instanceof DataError || error instanceof TrainingError) {
    process.stderr.write(`train: ${error.message}\n`);
    process.exitCode = 2;
  } else {
    throw error;
  }
}
