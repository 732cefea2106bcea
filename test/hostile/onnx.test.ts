/**
 * Hostile ONNX models (issue #12, "files leave the machine" and "protobuf types nested 100,000
 * deep"): external data that points outside the model's folder (an absolute location, `..`, a
 * symbolic link, a linked folder), external data that is not a regular file (a folder, a FIFO),
 * external tensors hidden in a subgraph's `Constant`, and messages nested deeper than protobuf's
 * limit. Each model is built here; the "secret" is a file the test writes next to the model's
 * folder. Through the built CLI: exit 2, a message naming the model, the tensor and the location,
 * nothing written, and the secret's bytes in no output.
 *
 * A new hostile model goes into `hostileModels` (or its own `it` when it needs more than a
 * location): the table runs it through `package` and `validate-model`.
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { copyFile, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.ts';
import { inspectOnnxModel, parseOnnxModel } from '../../src/core/model/onnx-inspect.ts';
import { loadOnnxRuntime } from '../../src/core/model/onnx-session.ts';
import { MAX_NESTING_DEPTH } from '../../src/core/model/protobuf.ts';
import { verifyPackage } from '../../src/core/package/verify-package.ts';
import { encodeVarint, ProtobufMessage } from '../../templates/example-project/src/onnx.ts';
import { repoRoot } from '../harness/run-action.ts';
import { temporaryDirectory } from '../helpers/example.ts';

const cli = join(repoRoot, 'dist/cli/index.js');
const fixtures = join(repoRoot, 'test/fixtures/onnx');
const SECRET = 'TOP-SECRET-c2VjcmV0LXRva2VuLTAxMjM0NTY3ODk';

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

async function mlops(cwd: string, ...args: string[]): Promise<CliRun> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [cli, ...args], {
      cwd,
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

// ---------------------------------------------------------------------------------------------
// Models, written with the example project's protobuf encoder (onnx.proto field numbers)

function tensorType(dims: (number | string)[]): ProtobufMessage {
  const shape = new ProtobufMessage();
  for (const dim of dims) {
    shape.bytes(
      1,
      typeof dim === 'number' ? new ProtobufMessage().varint(1, dim) : new ProtobufMessage().bytes(2, dim),
    );
  }
  return new ProtobufMessage().bytes(1, new ProtobufMessage().varint(1, 1).bytes(2, shape));
}

/** A float TensorProto whose data is `length` bytes at `offset` of the external file `location`. */
function externalTensor(name: string, dims: number[], location: string, offset: number, length: number) {
  const tensor = new ProtobufMessage();
  for (const dim of dims) tensor.varint(1, dim);
  tensor.varint(2, 1).bytes(8, name);
  for (const [key, value] of [
    ['location', location],
    ['offset', String(offset)],
    ['length', String(length)],
  ]) {
    tensor.bytes(13, new ProtobufMessage().bytes(1, key).bytes(2, value));
  }
  return tensor.varint(14, 1); // data_location: EXTERNAL
}

function model(graph: ProtobufMessage): Uint8Array {
  return new ProtobufMessage()
    .varint(1, 8)
    .bytes(2, 'hostile-test')
    .bytes(7, graph)
    .bytes(8, new ProtobufMessage().bytes(1, '').varint(2, 17))
    .finish();
}

/**
 * probability = Sigmoid(features · weights + bias), features [batch, 4]: the fixture external.onnx,
 * with its two initializers in `location` (20 bytes: 16 of weights, then 4 of bias).
 */
function externalModel(location: string): Uint8Array {
  const graph = new ProtobufMessage()
    .bytes(
      1,
      new ProtobufMessage().bytes(1, 'features').bytes(1, 'weights').bytes(2, 'raw').bytes(4, 'MatMul'),
    )
    .bytes(1, new ProtobufMessage().bytes(1, 'raw').bytes(1, 'bias').bytes(2, 'logit').bytes(4, 'Add'))
    .bytes(1, new ProtobufMessage().bytes(1, 'logit').bytes(2, 'probability').bytes(4, 'Sigmoid'))
    .bytes(2, 'external')
    .bytes(5, externalTensor('weights', [4, 1], location, 0, 16))
    .bytes(5, externalTensor('bias', [1], location, 16, 4))
    .bytes(11, new ProtobufMessage().bytes(1, 'features').bytes(2, tensorType(['batch', 4])))
    .bytes(12, new ProtobufMessage().bytes(1, 'probability').bytes(2, tensorType(['batch', 1])));
  return model(graph);
}

/** probability = If(cond) then Constant(secret) else …: the external tensor sits in a subgraph's node. */
function subgraphConstantModel(location: string): Uint8Array {
  const branch = new ProtobufMessage()
    .bytes(
      1,
      new ProtobufMessage()
        .bytes(2, 'value')
        .bytes(4, 'Constant')
        .bytes(
          5,
          new ProtobufMessage()
            .bytes(1, 'value')
            .bytes(5, externalTensor('hidden_constant', [1], location, 0, 4))
            .varint(20, 4),
        ),
    )
    .bytes(2, 'branch')
    .bytes(12, new ProtobufMessage().bytes(1, 'value').bytes(2, tensorType([1])));
  const ifNode = new ProtobufMessage()
    .bytes(1, 'condition')
    .bytes(2, 'probability')
    .bytes(4, 'If')
    .bytes(5, new ProtobufMessage().bytes(1, 'then_branch').bytes(6, branch).varint(20, 5))
    .bytes(5, new ProtobufMessage().bytes(1, 'else_branch').bytes(6, branch).varint(20, 5));
  const condition = new ProtobufMessage().bytes(
    1,
    new ProtobufMessage().bytes(1, new ProtobufMessage().varint(1, 9).bytes(2, new ProtobufMessage())),
  );
  const graph = new ProtobufMessage()
    .bytes(1, ifNode)
    .bytes(2, 'subgraph')
    .bytes(11, new ProtobufMessage().bytes(1, 'condition').bytes(2, condition))
    .bytes(12, new ProtobufMessage().bytes(1, 'probability').bytes(2, tensorType([1])));
  return model(graph);
}

/**
 * A model whose input's type is a sequence of a sequence of … (`levels` times) of a float tensor:
 * each level is two messages (TypeProto.sequence_type = 4, Sequence.elem_type = 1). Encoded inside
 * out into one buffer (concatenating 100,000 levels would copy gigabytes).
 */
function nestedTypeModel(levels: number): Uint8Array {
  const innermost = tensorType(['batch', 4]).finish();
  // Lengths from the inside out: [innermost, Sequence 1, TypeProto 1, Sequence 2, …].
  const lengths = [innermost.length];
  for (let i = 0; i < levels * 2; i++) {
    const inner = lengths[lengths.length - 1];
    lengths.push(1 + encodeVarint(inner).length + inner);
  }
  const nested = new Uint8Array(lengths[lengths.length - 1]);
  let at = 0;
  for (let i = levels * 2; i >= 1; i--) {
    // Level i wraps level i-1: TypeProto (even i) holds field 4, Sequence (odd i) holds field 1.
    nested[at++] = (i % 2 === 0 ? 4 : 1) * 8 + 2;
    const length = encodeVarint(lengths[i - 1]);
    nested.set(length, at);
    at += length.length;
  }
  nested.set(innermost, at);
  const input = new ProtobufMessage().bytes(1, 'features').bytes(2, nested);
  const graph = new ProtobufMessage()
    .bytes(1, new ProtobufMessage().bytes(1, 'features').bytes(2, 'probability').bytes(4, 'Identity'))
    .bytes(2, 'nested')
    .bytes(11, input)
    .bytes(12, new ProtobufMessage().bytes(1, 'probability').bytes(2, tensorType(['batch', 4])));
  return model(graph);
}

// ---------------------------------------------------------------------------------------------

let root: string;
let secretFile: string;
let data: string;

/** A fresh folder with the model in `model/model.onnx`; the secret is outside it, in `../secret/`. */
async function modelFolder(bytes: Uint8Array): Promise<{ dir: string; folder: string; path: string }> {
  const dir = await temporaryDirectory('mlops-hostile-onnx-');
  const folder = join(dir, 'model');
  await mkdir(folder);
  const path = join(folder, 'model.onnx');
  await writeFile(path, bytes);
  return { dir, folder, path };
}

beforeAll(async () => {
  root = await temporaryDirectory('mlops-hostile-secret-');
  secretFile = join(root, 'token.txt');
  await writeFile(secretFile, `${SECRET}\n`);
  // A holdout for the model gate: four features and a label.
  data = join(root, 'holdout.csv');
  const rows = Array.from({ length: 60 }, (_, i) => `${i % 3},${i % 5},${i % 7},${i % 2},${i % 2}`);
  await writeFile(data, `a,b,c,d,target\n${rows.join('\n')}\n`);
});

/** The refusal every hostile model must meet, from `package` and from `validate-model`. */
async function expectRefused(
  dir: string,
  modelPath: string,
  expected: { tensor: string; location: string; reason: RegExp },
): Promise<void> {
  const out = join(dir, 'out');
  const report = join(dir, 'report.json');
  const runs = [
    await mlops(
      dir,
      'package',
      '--model',
      modelPath,
      '--name',
      'hostile',
      '--version',
      '1.0.0',
      '--out',
      out,
    ),
    await mlops(
      dir,
      'validate-model',
      '--model',
      modelPath,
      '--data',
      data,
      '--target',
      'target',
      '--gate',
      'accuracy >= 0',
      '--report',
      report,
    ),
  ];
  for (const run of runs) {
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toContain(modelPath);
    expect(run.stderr).toContain(`"${expected.tensor}"`);
    expect(run.stderr).toContain(JSON.stringify(expected.location));
    expect(run.stderr).toMatch(expected.reason);
    expect(run.stderr).not.toMatch(/please report|at .*\.js:\d+/);
    expect(`${run.stdout}${run.stderr}`).not.toContain(SECRET);
  }
  // Nothing written: no package folder, archive or provenance, no report.
  expect(existsSync(out)).toBe(false);
  expect(existsSync(report)).toBe(false);
}

describe('external data outside the model folder', () => {
  it('refuses an absolute location (the secret file)', async () => {
    const { dir, path } = await modelFolder(externalModel(secretFile));
    await expectRefused(dir, path, { tensor: 'weights', location: secretFile, reason: /absolute path/ });
  });

  it('refuses /etc/passwd', async () => {
    const { dir, path } = await modelFolder(externalModel('/etc/passwd'));
    const passwd = await readFile('/etc/passwd', 'utf8');
    await expectRefused(dir, path, { tensor: 'weights', location: '/etc/passwd', reason: /absolute path/ });
    const run = await mlops(dir, 'package', '--model', path, '--name', 'x', '--version', '1.0.0');
    expect(run.stderr).not.toContain(passwd.split('\n')[0]);
  });

  it('refuses a relative location that climbs out with ..', async () => {
    // From <tmp>/<dir>/model/, ../../<root>/token.txt is the secret.
    const climbing = join('..', '..', basename(root), 'token.txt');
    const { dir, path } = await modelFolder(externalModel(climbing));
    await expectRefused(dir, path, {
      tensor: 'weights',
      location: climbing,
      reason: /leads outside the model's folder/,
    });
  });

  it('refuses a symbolic link inside the folder that points outside', async () => {
    const { dir, folder, path } = await modelFolder(externalModel('weights.bin'));
    await symlink(secretFile, join(folder, 'weights.bin'));
    await expectRefused(dir, path, {
      tensor: 'weights',
      location: 'weights.bin',
      reason: /through a symbolic link/,
    });
  });

  it('refuses a location under a linked folder that leads outside', async () => {
    const { dir, folder, path } = await modelFolder(externalModel('weights/token.txt'));
    await symlink(root, join(folder, 'weights'));
    await expectRefused(dir, path, {
      tensor: 'weights',
      location: 'weights/token.txt',
      reason: /leads outside the model's folder/,
    });
  });

  it('refuses a link to a device', async () => {
    const { dir, folder, path } = await modelFolder(externalModel('weights.bin'));
    await symlink('/dev/zero', join(folder, 'weights.bin'));
    await expectRefused(dir, path, { tensor: 'weights', location: 'weights.bin', reason: /leads outside/ });
  });

  it('refuses an external tensor hidden in a subgraph (a Constant inside If)', async () => {
    const { dir, path } = await modelFolder(subgraphConstantModel(secretFile));
    await expectRefused(dir, path, {
      tensor: 'hidden_constant',
      location: secretFile,
      reason: /absolute path/,
    });
  });
});

describe('external data that is not a regular file', () => {
  it('refuses a folder', async () => {
    const { dir, folder, path } = await modelFolder(externalModel('weights.bin'));
    await mkdir(join(folder, 'weights.bin'));
    await expectRefused(dir, path, { tensor: 'weights', location: 'weights.bin', reason: /is a directory/ });
  });

  it('refuses a FIFO without blocking on it', async () => {
    const { dir, folder, path } = await modelFolder(externalModel('weights.bin'));
    expect(spawnSync('mkfifo', [join(folder, 'weights.bin')]).status).toBe(0);
    await expectRefused(dir, path, { tensor: 'weights', location: 'weights.bin', reason: /FIFO/ });
  });

  it('refuses an offset that is not a byte count', async () => {
    const bytes = Buffer.from(externalModel('weights.bin'));
    // "offset" value "0" of the first tensor → "x" (same length, so the encoding stays valid).
    const at = bytes.indexOf(Buffer.from('offset\x12\x010'));
    bytes[at + 'offset\x12\x01'.length] = 'x'.charCodeAt(0);
    const { folder, path } = await modelFolder(bytes);
    await copyFile(join(fixtures, 'external.weights'), join(folder, 'weights.bin'));
    const error = await inspectOnnxModel(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toMatch(/tensor "weights" has the external-data offset "x"/);
  });
});

describe('external data inside the model folder (controls)', () => {
  it('packages and verifies a model with its weights next to it, also through a linked folder', async () => {
    const { dir, folder } = await modelFolder(externalModel('weights/w.bin'));
    await mkdir(join(folder, 'weights'));
    await copyFile(join(fixtures, 'external.weights'), join(folder, 'weights', 'w.bin'));
    // The model reached through a link to its folder: the folder's real path is what counts.
    await symlink(folder, join(dir, 'linked'));
    const out = join(dir, 'out');
    const run = await mlops(
      dir,
      'package',
      '--model',
      join(dir, 'linked', 'model.onnx'),
      '--name',
      'fine',
      '--version',
      '1.0.0',
      '--out',
      out,
    );
    expect(run.code, run.stderr).toBe(0);
    expect(readdirSync(join(out, 'fine-1.0.0', 'weights'))).toEqual(['w.bin']);
    const verify = await mlops(dir, 'package', 'verify', join(out, 'fine-1.0.0.zip'));
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    expect(verify.stdout).toContain('VERIFIED');
    // A link inside the folder to a file inside it is fine too.
    const { folder: f2, path: p2 } = await modelFolder(externalModel('link.bin'));
    await copyFile(join(fixtures, 'external.weights'), join(f2, 'real.bin'));
    await symlink('real.bin', join(f2, 'link.bin'));
    const info = await inspectOnnxModel(p2);
    expect(info.externalFiles).toEqual([{ location: 'link.bin', path: join(f2, 'real.bin'), bytes: 20 }]);
  });
});

describe('messages nested too deep', () => {
  // Depths: model 0, graph 1, value info 2, type 3, then two per level, and the innermost type's
  // tensor type, shape and dimension: 6 + 2 × levels.
  const deepest = (levels: number) => 6 + levels * 2;

  it(`reads ${MAX_NESTING_DEPTH} levels and refuses one more, naming the file`, () => {
    const fits = (MAX_NESTING_DEPTH - 6) / 2;
    expect(deepest(fits)).toBe(MAX_NESTING_DEPTH);
    expect(parseOnnxModel(nestedTypeModel(fits), 'fits.onnx').inputs[0].name).toBe('features');
    const error = (() => {
      try {
        parseOnnxModel(nestedTypeModel(fits + 1), 'deep.onnx');
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toContain('deep.onnx');
    expect((error as Error).message).toContain(`more than ${MAX_NESTING_DEPTH} levels deep`);
  });

  it('draws the line where ONNX Runtime does', async () => {
    const fits = (MAX_NESTING_DEPTH - 6) / 2;
    const { folder } = await modelFolder(nestedTypeModel(fits));
    await writeFile(join(folder, 'deep.onnx'), nestedTypeModel(fits + 1));
    const ort = await loadOnnxRuntime();
    const load = (name: string) =>
      ort.InferenceSession.create(join(folder, name)).then(
        () => 'loaded',
        (error: Error) => error.message,
      );
    // Parsed (then refused for its types, an Identity from a sequence type), and not parsed.
    expect(await load('model.onnx')).not.toMatch(/Protobuf parsing failed/);
    expect(await load('deep.onnx')).toMatch(/Protobuf parsing failed/);
  });

  it('refuses types nested 100,000 deep with exit 2 in package, validate-model and verify', async () => {
    const { dir, path } = await modelFolder(nestedTypeModel(100_000));
    const out = join(dir, 'out');
    const report = join(dir, 'report.json');
    for (const run of [
      await mlops(dir, 'package', '--model', path, '--name', 'deep', '--version', '1.0.0', '--out', out),
      await mlops(
        dir,
        'validate-model',
        '--model',
        path,
        '--data',
        data,
        '--target',
        'target',
        '--gate',
        'accuracy >= 0',
        '--report',
        report,
      ),
    ]) {
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toContain(path);
      expect(run.stderr).toContain(`nests its messages more than ${MAX_NESTING_DEPTH} levels deep`);
      expect(run.stderr).not.toMatch(/please report|Maximum call stack/);
    }
    expect(existsSync(out)).toBe(false);
    expect(existsSync(report)).toBe(false);

    // A package folder whose model.onnx was replaced by it: verify names the problem, no crash.
    const good = await modelFolder(await readFile(join(fixtures, 'logistic.onnx')));
    const built = await mlops(good.dir, 'package', '--model', good.path, '--name', 'p', '--version', '1.0.0');
    expect(built.code, built.stderr).toBe(0);
    const packaged = join(good.dir, 'package', 'p-1.0.0');
    await writeFile(join(packaged, 'model.onnx'), nestedTypeModel(100_000));
    const result = await verifyPackage(packaged);
    expect(result.passed).toBe(false);
    expect(result.problems.join('\n')).toMatch(/model\.onnx: .*more than 100 levels deep/);
  });
});
