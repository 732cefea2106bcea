/**
 * Opens a model package for serving: a package folder, its archive, or an `oci://` reference
 * (pulled into a temporary folder by the caller's `pull`). Every digest is verified before
 * anything is served; an archive is unpacked (only the files its manifest lists, each checked
 * against its digest as it is written) into a temporary folder, removed by `close()`. Nothing is
 * read from outside the package: the files are the manifest's (a package folder holds regular
 * files only, never links), and the model's external data must lie inside its folder.
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigurationError, InputError } from '../errors.ts';
import { inspectOnnxModel, type OnnxModelInfo } from '../model/onnx-inspect.ts';
import { PACKAGE_FILES, type PackageManifest } from '../package/manifest.ts';
import { unpackPackage, verifyPackage } from '../package/verify-package.ts';
import {
  describeModelTensors,
  type ModelTensors,
  ONNX_PLATFORM,
  type ServedModel,
  type SessionFactory,
} from './served-model.ts';

/** A golden file a package may carry (inputs and the framework's outputs, format mlops-golden). */
export const PACKAGED_GOLDEN = 'golden.json';
/** Largest report or signature read from a package. */
const MAX_JSON_BYTES = 64 * 1024 * 1024;

/** A package that failed verification: the problems, each naming the file. */
export class PackageRejected extends InputError {
  override name = 'PackageRejected';
  readonly problems: string[];
  constructor(reference: string, problems: string[]) {
    super(
      `${reference} fails verification, so it is not served: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? `; and ${problems.length - 5} more` : ''}. Download or build the package again (\`mlops package verify\` lists every problem).`,
      { file: reference },
    );
    this.problems = problems;
  }
}

/** Pulls the package at an `oci://` reference into `folder` (which must not exist). */
export type PullPackage = (reference: string, folder: string) => Promise<unknown>;

/** An opened, verified package. */
export interface OpenedPackage {
  /** As given. */
  reference: string;
  /** The package's files (the folder given, or a temporary one). */
  folder: string;
  manifest: PackageManifest;
  /** sha256 of the archive (archives only): the package digest. */
  digest?: string;
  modelPath: string;
  model: OnnxModelInfo;
  tensors: ModelTensors;
  /** signature.json: the inputs and outputs the package recorded. */
  signature?: { inputs: { name: string; type: string }[]; outputs: { name: string; type: string }[] };
  /** The model-validation report the package carries, as JSON. */
  modelReport?: Record<string, unknown>;
  /** Path of the package's golden file, when it carries one. */
  golden?: string;
  /** Removes what opening created (a temporary unpacked folder). */
  close(): Promise<void>;
}

/**
 * Opens and verifies a package. Throws `PackageRejected` (an `InputError`) when a digest, the
 * manifest or the model's metadata does not match, `InputError` when the path cannot be read or
 * the model cannot be served over the protocol, and `ConfigurationError` for an `oci://` reference
 * without `pull`.
 */
export async function openPackage(
  reference: string,
  options: { pull?: PullPackage; temporaryRoot?: string } = {},
): Promise<OpenedPackage> {
  const cleanup: string[] = [];
  const close = async () => {
    await Promise.all(cleanup.map((path) => rm(path, { recursive: true, force: true })));
  };
  try {
    let folder: string;
    let manifest: PackageManifest;
    let digest: string | undefined;
    const temporary = async () => {
      const made = await mkdtemp(join(options.temporaryRoot ?? tmpdir(), 'mlops-serve-'));
      cleanup.push(made);
      return join(made, 'package');
    };
    if (reference.startsWith('oci://')) {
      if (!options.pull) {
        throw new ConfigurationError(
          `${reference}: an oci:// package cannot be pulled here: give the package's folder or .zip archive (\`mlops oci pull\` fetches one; \`mlops serve\` and \`mlops smoke-test\` take oci:// references).`,
        );
      }
      folder = await temporary();
      await options.pull(reference, folder);
      manifest = await verified(reference, folder);
    } else {
      let isDirectory: boolean;
      try {
        isDirectory = (await stat(reference)).isDirectory();
      } catch {
        throw new InputError(
          `${reference} does not exist: give a package folder, its .zip archive or an oci:// reference.`,
          { file: reference },
        );
      }
      if (isDirectory) {
        folder = reference;
        manifest = await verified(reference, folder);
      } else {
        const result = await verifyPackage(reference);
        if (!result.passed || !result.manifest) throw new PackageRejected(reference, result.problems);
        digest = result.digest;
        folder = await temporary();
        await unpackPackage(reference, folder);
        // The files unpacked were checked against the unpacked manifest: it must be the one verified.
        const unpacked = JSON.parse(await readFile(join(folder, PACKAGE_FILES.manifest), 'utf8'));
        if (JSON.stringify(unpacked) !== JSON.stringify(result.manifest)) {
          throw new PackageRejected(reference, [
            `${PACKAGE_FILES.manifest}: changed while the archive was read; verify it again`,
          ]);
        }
        manifest = result.manifest;
      }
    }
    const listed = new Map(manifest.files.map((file) => [file.path, file]));
    const modelPath = join(folder, PACKAGE_FILES.model);
    // Resolves external data inside the package folder only, as regular files.
    const model = await inspectOnnxModel(modelPath);
    const tensors = describeModelTensors(model);
    const signature = listed.has(PACKAGE_FILES.signature)
      ? ((await readJson(folder, PACKAGE_FILES.signature, reference)) as OpenedPackage['signature'])
      : undefined;
    let modelReport: Record<string, unknown> | undefined;
    for (const file of manifest.files) {
      if (!file.path.startsWith(`${PACKAGE_FILES.reports}/`) || !file.path.endsWith('.json')) continue;
      const json = (await readJson(folder, file.path, reference)) as Record<string, unknown> | null;
      if (json?.kind === 'model-validation') modelReport = json;
    }
    return {
      reference,
      folder,
      manifest,
      ...(digest ? { digest } : {}),
      modelPath,
      model,
      tensors,
      ...(signature ? { signature } : {}),
      ...(modelReport ? { modelReport } : {}),
      ...(listed.has(PACKAGED_GOLDEN) ? { golden: join(folder, PACKAGED_GOLDEN) } : {}),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Verifies a package folder; returns its manifest or throws `PackageRejected`. */
async function verified(reference: string, folder: string): Promise<PackageManifest> {
  const result = await verifyPackage(folder);
  if (!result.passed || !result.manifest) throw new PackageRejected(reference, result.problems);
  return result.manifest;
}

async function readJson(folder: string, path: string, reference: string): Promise<unknown> {
  const file = join(folder, ...path.split('/'));
  const bytes = (await stat(file)).size;
  if (bytes > MAX_JSON_BYTES) {
    throw new InputError(`${reference}: ${path} has ${bytes} bytes, more than the ${MAX_JSON_BYTES} read.`, {
      file: reference,
    });
  }
  try {
    return JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new InputError(`${reference}: ${path} is not JSON (${(error as Error).message}).`, {
      file: reference,
    });
  }
}

/**
 * The served model of an opened package: its name and version, its tensors, and a session made by
 * `sessions` (onnxruntime-node in use). A model ONNX Runtime cannot load throws `InputError` with
 * its reason (an opset or operator the runtime lacks, …).
 */
export async function createServedModel(pkg: OpenedPackage, sessions: SessionFactory): Promise<ServedModel> {
  const session = await sessions(pkg.modelPath);
  return {
    name: pkg.manifest.package.name,
    version: pkg.manifest.package.version,
    platform: ONNX_PLATFORM,
    inputs: pkg.tensors.inputs,
    outputs: pkg.tensors.outputs,
    skippedOutputs: pkg.tensors.skippedOutputs.map((output) => output.name),
    properties: {
      'content-sha256': pkg.manifest.contentSha256,
      ...(pkg.digest ? { 'package-sha256': pkg.digest } : {}),
      ...(pkg.manifest.lineage.commit ? { commit: pkg.manifest.lineage.commit } : {}),
    },
    session,
  };
}
