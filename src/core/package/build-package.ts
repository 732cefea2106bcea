/**
 * Builds a model package: a directory and one reproducible archive of it.
 *
 *   <name>-<version>/
 *     model.onnx            the model, with mlops.* entries in its metadata_props
 *     <external data>       the model's external-data files, unchanged
 *     manifest.json         what is inside (sha256 of every file), lineage, metrics, gate verdicts
 *     MODEL_CARD.md         the same for people
 *     signature.json        model inputs/outputs and the data contract
 *     profile.json          the training-data profile (for drift monitoring), when given
 *     reports/*.json        the data- and model-validation reports of this run, when given
 *   <name>-<version>.zip    the archive (the payload sorted, then model.onnx, MODEL_CARD.md and
 *                           manifest.json, written once the payload's digests are known; fixed times
 *                           and modes; weights stored, text deflated)
 *   provenance.intoto.json  an in-toto Statement about the archive and model.onnx
 *
 * The package digest is the archive's sha256. Everything is written to temporary names first and
 * renamed into place, so a failure never leaves a half-written package.
 *
 * Chain of custody: a gate report that failed is refused unless the caller overrides it (the
 * override — which gates, who, why — is recorded in the manifest and the model card); a
 * model-validation report is refused unless its candidate is this model (the sha256 of the file
 * given, before metadata is written into it) with these external-data files (their sha256 as the
 * report recorded them).
 */
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { copyFile, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, posix, relative, resolve, sep } from 'node:path';
import { readProfileFile } from '../data/validate-data.ts';
import { digestFile } from '../digest.ts';
import { ConfigurationError, InputError } from '../errors.ts';
import { writeFileAtomic } from '../files.ts';
import { readJsonFile } from '../json/file.ts';
import { describeType } from '../model/model-io.ts';
import { inspectOnnxModel, resolveExternalFile } from '../model/onnx-inspect.ts';
import { writeOnnxMetadata } from '../model/onnx-metadata.ts';
import { checkGateReport } from '../schemas/report-schemas.ts';
import { TOOL_NAME, TOOL_VERSION } from '../version.ts';
import { writeZip } from '../zip/zip.ts';
import { type Lineage, resolveVersion } from './lineage.ts';
import {
  contentDigest,
  type ManifestFile,
  METADATA_KEYS,
  manifestSchemaErrors,
  PACKAGE_ASSETS,
  PACKAGE_FILES,
  type PackageManifest,
  PREDICATE_TYPE,
  PROVENANCE_FILE,
  packageStem,
} from './manifest.ts';
import { renderModelCard } from './model-card.ts';

// The package format lives in manifest.ts; these names stay importable from here too.
export {
  contentDigest,
  type ManifestFile,
  METADATA_KEYS,
  manifestSchemaErrors,
  PACKAGE_FILES,
  type PackageManifest,
  PREDICATE_TYPE,
  PROVENANCE_FILE,
} from './manifest.ts';

const NAME = /^[a-z0-9][a-z0-9._-]{0,99}$/;

export interface PackageOptions {
  model: string;
  name: string;
  /** Semver; default: the tag's on tag pushes, else 0.0.0-<sha7>. */
  version?: string;
  /** A folder of data-validation / model-validation reports (*.json) of this run. */
  reports?: string;
  /** The training data's profile (from `mlops profile`). */
  profile?: string;
  /** The data contract, recorded in signature.json. */
  contract?: string;
  /** Where the package folder, archive and provenance go. */
  out: string;
  lineage: Lineage;
  /** Package failed gate reports anyway: who decided, and why (recorded in the manifest). */
  allowFailedGates?: { by: string; reason?: string };
  /** How the user overrides failed gates, for messages (e.g. "--allow-failed-gates"). */
  overrideHint?: string;
}

export interface BuiltPackage {
  directory: string;
  archive: string;
  /** sha256 of the archive: the package digest. */
  digest: string;
  manifest: PackageManifest;
  provenance: string;
  /** `file:` URI of the archive with its digest (publishing replaces it with the artifact's or release's). */
  packageRef: string;
}

interface ReadReport {
  file: string;
  kind: 'data-validation' | 'model-validation';
  json: Record<string, unknown>;
}

/**
 * Builds the package. Throws `ConfigurationError`/`InputError` for a bad name or version, a model
 * that fails inspection or lacks external data, reports that fail their schema, an unreadable
 * profile; nothing is left half-written.
 */
export async function buildPackage(options: PackageOptions): Promise<BuiltPackage> {
  if (!NAME.test(options.name)) {
    throw new ConfigurationError(
      `Package name "${options.name}" is not allowed: use lower-case letters, digits, '.', '_' and '-' (starting with a letter or digit, at most 100), e.g. "churn-classifier".`,
      { key: 'name' },
    );
  }
  const version = resolveVersion(options.version, options.lineage);
  const info = await inspectOnnxModel(options.model);
  const reports = options.reports ? await readReports(options.reports) : [];
  const override = checkVerdicts(reports, options);
  const modelReport = reports.find((r) => r.kind === 'model-validation');
  // Before metadata is written into a copy: the report's candidate must be this very file.
  if (modelReport) checkCandidate(modelReport, (await digestFile(options.model)).sha256, options.model);
  const createdAt = options.lineage.commitTime ?? new Date(0).toISOString();

  const stem = packageStem(options.name, version);
  const out = resolve(options.out);
  const directory = join(out, stem);
  const archive = join(out, `${stem}${PACKAGE_ASSETS.archive}`);
  await mkdir(out, { recursive: true });
  const staging = join(out, `.${stem}.${process.pid}.${Date.now()}.tmp`);
  await mkdir(staging, { recursive: true });
  try {
    // 1. The small payload is staged; the model's external data is archived from where it is
    //    (and copied into the folder meanwhile), so its bytes are read and hashed once.
    const external: { name: string; source: string }[] = [];
    const copies: Promise<void>[] = [];
    for (const file of info.externalFiles) {
      const target = join(staging, file.location);
      // Checked again where the bytes are read: a regular file inside the model's folder, by its real path.
      const source = (await resolveExternalFile(options.model, file.location)).path;
      if (relative(staging, target).startsWith('..')) {
        throw new InputError(
          `External-data location "${file.location}" of ${options.model} points outside the model's folder.`,
          { file: options.model },
        );
      }
      await mkdir(dirname(target), { recursive: true });
      external.push({ name: relative(staging, target).split(sep).join('/'), source });
      // Kernel-side copy (a reflink where the file system can), concurrent with the archive.
      copies.push(copyFile(source, target, constants.COPYFILE_FICLONE));
    }
    // Settled later; a failure is raised there, not as an unhandled rejection meanwhile.
    const copied = Promise.all(copies);
    copied.catch(() => {});
    if (reports.length > 0) await mkdir(join(staging, PACKAGE_FILES.reports));
    for (const report of reports) {
      await copyFile(report.file, join(staging, PACKAGE_FILES.reports, basename(report.file)));
    }
    if (options.profile) {
      await readProfileFile(options.profile); // validates it
      await copyFile(options.profile, join(staging, PACKAGE_FILES.profile));
    }
    const contract = options.contract ? await readJson(options.contract, 'Data contract') : undefined;
    const signature = {
      inputs: info.inputs.map((i) => ({ name: i.name, type: describeType(i.type) })),
      outputs: info.outputs.map((o) => ({ name: o.name, type: describeType(o.type) })),
      ...(contract ? { contract } : {}),
    };
    await writeFileAtomic(join(staging, PACKAGE_FILES.signature), `${JSON.stringify(signature, null, 2)}\n`);
    const payload = [
      ...external.map((file) => ({ name: file.name, source: { path: file.source } })),
      // The external data's copies are being made: those entries are archived from the source.
      ...(await listPaths(staging))
        .filter((name) => !external.some((file) => file.name === name))
        .map((name) => ({ name, source: { path: join(staging, ...name.split('/')) } })),
    ].map((entry) => ({ ...entry, compress: /\.(json|md)$/.test(entry.name) }));

    const dataReport = reports.find((r) => r.kind === 'data-validation');
    const metrics = headlineMetrics(modelReport);
    let manifest: PackageManifest | undefined;
    // ZIP's DOS times start in 1980: an earlier created-at (no commit) is stored as 1980-01-01.
    const mtime = new Date(Math.max(Date.parse(createdAt), Date.UTC(1980, 0, 1)));
    const written = await writeZip(archive, payload, {
      mtime,
      // 2. Once the payload is archived (and hashed), the model, its card and the manifest follow.
      finish: async (entries) => {
        // The external data archived must be what the model gate evaluated.
        if (modelReport) checkExternalData(modelReport, external, entries, options.model);
        const rest: ManifestFile[] = entries.map((e) => ({ path: e.name, bytes: e.size, sha256: e.sha256 }));
        const contentSha256 = contentDigest(rest);
        const metadata: Record<string, string> = {
          [METADATA_KEYS.name]: options.name,
          [METADATA_KEYS.version]: version,
          [METADATA_KEYS.commit]: options.lineage.commit ?? '',
          [METADATA_KEYS.content]: contentSha256,
          ...Object.fromEntries(
            Object.entries(metrics).map(([name, value]) => [
              `${METADATA_KEYS.metricPrefix}${name}`,
              String(value),
            ]),
          ),
        };
        const modelPath = join(staging, PACKAGE_FILES.model);
        await writeOnnxMetadata(options.model, modelPath, metadata);
        const packaged = await inspectOnnxModel(modelPath);
        const modelDigest = await digestFile(modelPath);
        manifest = {
          kind: 'model-package',
          version: 2,
          package: { name: options.name, version },
          task: (modelReport?.json.task as PackageManifest['task'] | undefined) ?? 'unknown',
          createdAt,
          tool: { name: TOOL_NAME, version: TOOL_VERSION },
          files: [],
          contentSha256,
          onnx: {
            irVersion: packaged.irVersion,
            opsets: packaged.opsets,
            producer: `${packaged.producerName} ${packaged.producerVersion}`.trim(),
            inputs: signature.inputs,
            outputs: signature.outputs,
            metadata: packaged.metadata,
          },
          metrics,
          gates: {
            ...(dataReport ? { data: verdict(dataReport) } : {}),
            ...(modelReport ? { model: verdict(modelReport) } : {}),
            ...(override ? { override } : {}),
          },
          lineage: {
            repository: options.lineage.repository,
            commit: options.lineage.commit,
            ref: options.lineage.ref,
            runUrl: options.lineage.runUrl,
            data: dataLineage(reports),
          },
        };
        const card = new TextEncoder().encode(renderModelCard(manifest));
        manifest.files = sortFiles([
          ...rest,
          { path: PACKAGE_FILES.model, bytes: modelDigest.bytes, sha256: modelDigest.sha256 },
          {
            path: PACKAGE_FILES.card,
            bytes: card.length,
            sha256: createHash('sha256').update(card).digest('hex'),
          },
        ]);
        const errors = manifestSchemaErrors(manifest);
        if (errors.length > 0)
          throw new Error(`internal: the manifest fails its schema: ${errors.join('; ')}`);
        const manifestBytes = new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`);
        await writeFileAtomic(join(staging, PACKAGE_FILES.card), card);
        await writeFileAtomic(join(staging, PACKAGE_FILES.manifest), manifestBytes);
        return [
          { name: PACKAGE_FILES.model, source: { path: modelPath } },
          { name: PACKAGE_FILES.card, source: { bytes: card }, compress: true },
          { name: PACKAGE_FILES.manifest, source: { bytes: manifestBytes }, compress: true },
        ];
      },
    });
    await copied;
    if (!manifest) throw new Error('internal: the archive was written without its manifest');

    // 5. Into place: the folder replaces an earlier build of the same version.
    await rm(directory, { recursive: true, force: true });
    await rename(staging, directory);
    const modelSha256 =
      (manifest as PackageManifest).files.find((f) => f.path === PACKAGE_FILES.model)?.sha256 ?? '';
    const provenance = join(out, PROVENANCE_FILE);
    await writeFileAtomic(
      provenance,
      `${JSON.stringify(provenanceStatement(manifest, basename(archive), written.sha256, modelSha256), null, 2)}\n`,
    );
    return {
      directory,
      archive,
      digest: written.sha256,
      manifest,
      provenance,
      packageRef: `file://${archive.split(sep).join('/')}#sha256=${written.sha256}`,
    };
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
}

/** Sorted by path, bytewise (as the manifest and the content digest list them). */
function sortFiles(files: ManifestFile[]): ManifestFile[] {
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** The files under `root`, '/'-separated paths relative to it, sorted. */
async function listPaths(root: string): Promise<string[]> {
  const paths: string[] = [];
  const walk = async (folder: string): Promise<void> => {
    for (const entry of await readdir(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) paths.push(relative(root, path).split(sep).join('/'));
    }
  };
  await walk(root);
  return paths.sort();
}

/** Every file under `root` with its size and sha256, '/'-separated and sorted by path. */
export async function listFiles(root: string): Promise<ManifestFile[]> {
  const files: ManifestFile[] = [];
  const walk = async (folder: string): Promise<void> => {
    for (const entry of await readdir(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) {
        const digest = await digestFile(path);
        files.push({
          path: relative(root, path).split(sep).join('/'),
          bytes: digest.bytes,
          sha256: digest.sha256,
        });
      }
    }
  };
  await walk(root);
  return sortFiles(files);
}

async function readJson(path: string, what: string): Promise<Record<string, unknown>> {
  return (await readJsonFile(path, what)) as Record<string, unknown>;
}

/** The reports of a folder (*.json), each checked against its kind's schema. */
async function readReports(folder: string): Promise<ReadReport[]> {
  let names: string[];
  try {
    if (!(await stat(folder)).isDirectory()) throw new Error('not a folder');
    names = (await readdir(folder)).filter((n) => n.endsWith('.json')).sort();
  } catch {
    throw new InputError(
      `Reports folder ${folder} cannot be read: give the folder the gates wrote their reports to.`,
      {
        file: folder,
      },
    );
  }
  const reports: ReadReport[] = [];
  for (const name of names) {
    const file = join(folder, name);
    const json = await readJson(file, 'Report');
    // A smoke test serves a package that exists already: its report describes that package, it is
    // not a gate verdict the package binds (mlops-reports/ may hold one from an earlier step).
    if (json.kind === 'smoke-test') continue;
    const { kind } = checkGateReport(json, file, 'Package the report as the gate wrote it.');
    reports.push({ file, kind, json });
  }
  const kinds = reports.map((r) => r.kind);
  for (const kind of ['data-validation', 'model-validation'] as const) {
    if (kinds.filter((k) => k === kind).length > 1) {
      throw new InputError(`${folder} holds more than one ${kind} report: keep the one of this run.`, {
        file: folder,
      });
    }
  }
  return reports;
}

/** Headline metrics: what the model gate's gates looked at, plus the task's usual ones. */
function headlineMetrics(report: ReadReport | undefined): Record<string, number | null> {
  if (!report) return {};
  const metrics = report.json.metrics as Record<string, { value: number | null }>;
  const gated = ((report.json.gates as { metric: string }[]) ?? []).map((g) => g.metric);
  const usual =
    report.json.task === 'regression'
      ? ['rmse', 'mae', 'r2']
      : ['accuracy', 'roc_auc', 'f1_macro', 'log_loss'];
  const names = [...new Set([...usual, ...gated])].filter((name) => name in metrics).sort();
  return Object.fromEntries(names.map((name) => [name, metrics[name]?.value ?? null]));
}

/**
 * Refuses failed gate reports unless `allowFailedGates`; returns the override to record when a
 * failed report is packaged on purpose.
 */
function checkVerdicts(reports: ReadReport[], options: PackageOptions): PackageManifest['gates']['override'] {
  const failed = reports.filter((report) => report.json.passed !== true);
  if (failed.length === 0) return undefined;
  const gate = (report: ReadReport) => (report.kind === 'data-validation' ? 'data' : 'model');
  if (!options.allowFailedGates) {
    const details = failed.map(
      (report) => `${report.file}: the ${gate(report)} gate failed${failedDetail(report)}`,
    );
    throw new InputError(
      `${details.join('; ')}. A package carries a model whose gates passed: fix what the report says and run the gate again, or package it anyway with ${options.overrideHint ?? 'allow-failed-gates'} (recorded in the manifest, the model card and every deployment of the package).`,
      { file: failed[0].file },
    );
  }
  return {
    allowedFailed: (['data', 'model'] as const).filter((name) =>
      failed.some((report) => gate(report) === name),
    ),
    by: options.allowFailedGates.by,
    ...(options.allowFailedGates.reason ? { reason: options.allowFailedGates.reason } : {}),
  };
}

/** Which gates of a failed report failed, for the message. */
function failedDetail(report: ReadReport): string {
  if (report.kind === 'model-validation') {
    const gates = (report.json.gates as { status?: string; expression?: string; metric?: string }[]) ?? [];
    const failed = gates.filter((g) => g.status === 'failed').map((g) => g.expression ?? g.metric);
    return failed.length > 0 ? ` (${failed.slice(0, 5).join(', ')})` : '';
  }
  const errors = (report.json.summary as { findings?: { error?: number } } | undefined)?.findings?.error;
  return errors ? ` (${errors} error finding${errors === 1 ? '' : 's'})` : '';
}

/** The model report's candidate must be the file being packaged (sha256 of the input, before metadata). */
function checkCandidate(report: ReadReport, modelSha256: string, model: string): void {
  const candidate = report.json.candidate as { path?: string; sha256?: string } | undefined;
  if (candidate?.sha256 !== modelSha256) {
    throw new InputError(
      `${report.file} is the model gate's report of another model: its candidate ${candidate?.path ?? '(unnamed)'} has sha256 ${candidate?.sha256 ?? '(none)'}, but ${model} has sha256 ${modelSha256}. Package the model the gate validated, or validate this one and package its report.`,
      { file: report.file },
    );
  }
}

/** An external-data location as a '/'-separated path relative to the model's folder. */
function normalizeLocation(location: string): string {
  return posix.normalize(location.split('\\').join('/')).replace(/^\.\//, '');
}

/**
 * The external-data files archived (their sha256, computed while archiving) must be the ones the
 * model report's candidate recorded; a model with external data needs a report that records them.
 */
function checkExternalData(
  report: ReadReport,
  external: { name: string; source: string }[],
  entries: readonly { name: string; sha256: string }[],
  model: string,
): void {
  if (external.length === 0) return;
  const recorded = (report.json.candidate as { externalData?: { location: string; sha256: string }[] })
    .externalData;
  if (!recorded) {
    throw new InputError(
      `${report.file} does not record the digests of ${model}'s external-data files (it was written by an older mlops-actions), so they cannot be bound to the package. Run the model gate again with this version and package its report.`,
      { file: report.file },
    );
  }
  for (const file of external) {
    const archived = entries.find((entry) => entry.name === file.name)?.sha256;
    const validated = recorded.find((data) => normalizeLocation(data.location) === file.name)?.sha256;
    if (archived !== validated) {
      throw new InputError(
        `${report.file}: the external-data file ${file.name} of ${model} ${validated ? `has sha256 ${archived}, but the model gate evaluated sha256 ${validated}` : 'is not among the files the model gate evaluated'}: these are not the weights that were validated. Package the model the gate validated, or run the gate again.`,
        { file: report.file },
      );
    }
  }
}

function verdict(report: ReadReport): { passed: boolean; report: string } {
  return { passed: report.json.passed === true, report: `${PACKAGE_FILES.reports}/${basename(report.file)}` };
}

/** The data files the gates read, with the digests their reports recorded. */
function dataLineage(reports: ReadReport[]): PackageManifest['lineage']['data'] {
  const data: PackageManifest['lineage']['data'] = [];
  for (const report of reports) {
    if (report.kind === 'data-validation') {
      const inputs = report.json.inputs as Record<string, { path: string; sha256: string } | undefined>;
      for (const role of ['data', 'reference', 'train', 'contract'] as const) {
        const input = inputs[role];
        if (input?.sha256)
          data.push({ role: role === 'data' ? 'validated' : role, path: input.path, sha256: input.sha256 });
      }
    } else {
      const input = report.json.data as { path: string; sha256: string };
      data.push({ role: 'holdout', path: input.path, sha256: input.sha256 });
    }
  }
  return data;
}

/** An in-toto Statement v1 (https://github.com/in-toto/attestation/blob/main/spec/v1/statement.md). */
export function provenanceStatement(
  manifest: PackageManifest,
  archiveName: string,
  archiveSha256: string,
  modelSha256: string,
): Record<string, unknown> {
  return {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [
      { name: archiveName, digest: { sha256: archiveSha256 } },
      {
        name: `${manifest.package.name}-${manifest.package.version}/${PACKAGE_FILES.model}`,
        digest: { sha256: modelSha256 },
      },
    ],
    predicateType: PREDICATE_TYPE,
    predicate: {
      package: manifest.package,
      task: manifest.task,
      createdAt: manifest.createdAt,
      gates: manifest.gates,
      metrics: manifest.metrics,
      data: manifest.lineage.data,
      builder: {
        id: manifest.lineage.runUrl ?? 'local',
        tool: manifest.tool,
        repository: manifest.lineage.repository,
        commit: manifest.lineage.commit,
        ref: manifest.lineage.ref,
      },
    },
  };
}
