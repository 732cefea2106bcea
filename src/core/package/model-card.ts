/**
 * MODEL_CARD.md: the manifest for people. What the model is, how good it was (the gates' verdicts
 * and headline metrics), where it came from, what it takes and returns, and how to check that the
 * package is intact. Rendered from the manifest only, never from re-computation.
 */
import { escapeMarkdown } from '../markdown.ts';
import { PACKAGE_ASSETS, type PackageManifest, packageStem } from './manifest.ts';

/** The model card of a package (the manifest's `files` are not needed: the card is one of them). */
export function renderModelCard(manifest: PackageManifest): string {
  const { name, version } = manifest.package;
  const lines = [
    `# ${escapeMarkdown(name)} ${escapeMarkdown(version)}`,
    '',
    `Task: **${manifest.task}**. Packaged by ${manifest.tool.name} ${manifest.tool.version} from commit ` +
      `${manifest.lineage.commit ? `\`${manifest.lineage.commit.slice(0, 12)}\`` : '(none)'} ` +
      `(${manifest.createdAt}).`,
    '',
    '## Gates',
    '',
  ];
  const { override, ...verdicts } = manifest.gates;
  const gates = Object.entries(verdicts);
  if (gates.length === 0) {
    lines.push(
      '**Unvalidated**: no gate report was packaged, so no data or model gate vouches for this model.',
    );
  }
  for (const [gate, verdict] of gates) {
    lines.push(`- ${gate}: ${verdict?.passed ? 'passed' : '**FAILED**'} (\`${verdict?.report}\`)`);
  }
  if (override) {
    lines.push(
      '',
      `**Packaged despite failed gates** (${override.allowedFailed.join(', ')}): by ${escapeMarkdown(override.by)}` +
        `${override.reason ? `, because "${escapeMarkdown(override.reason)}"` : ''}. Deployments of this package must override them again.`,
    );
  }
  lines.push('', '## Metrics', '');
  const metrics = Object.entries(manifest.metrics);
  if (metrics.length === 0) lines.push('No model-validation report was packaged.');
  else {
    lines.push('| metric | value |', '| --- | --- |');
    for (const [metric, value] of metrics)
      lines.push(`| ${metric} | ${value === null ? 'n/a' : value.toPrecision(4)} |`);
  }
  lines.push('', '## Signature', '', '| | name | type |', '| --- | --- | --- |');
  for (const input of manifest.onnx.inputs)
    lines.push(`| input | ${escapeMarkdown(input.name)} | ${escapeMarkdown(input.type)} |`);
  for (const output of manifest.onnx.outputs)
    lines.push(`| output | ${escapeMarkdown(output.name)} | ${escapeMarkdown(output.type)} |`);
  lines.push(
    '',
    `ONNX IR ${manifest.onnx.irVersion}, opsets ${manifest.onnx.opsets.map((o) => `${o.domain || 'ai.onnx'} ${o.version}`).join(', ')}, producer ${escapeMarkdown(manifest.onnx.producer || 'unknown')}.`,
    '',
    '## Lineage',
    '',
    `- repository: ${manifest.lineage.repository ?? '(local)'}`,
    `- ref: ${manifest.lineage.ref ?? '(none)'}`,
    `- workflow run: ${manifest.lineage.runUrl ?? '(local build)'}`,
  );
  for (const data of manifest.lineage.data) {
    lines.push(`- data (${data.role}): ${escapeMarkdown(data.path)}, sha256 \`${data.sha256}\``);
  }
  lines.push(
    '',
    '## Verify',
    '',
    '`manifest.json` lists every file with its sha256; `model.onnx` carries the package name, version, commit and',
    `the content digest (\`${manifest.contentSha256}\`) in its metadata. Check all of it with:`,
    '',
    '```sh',
    `mlops package verify ${packageStem(name, version)}${PACKAGE_ASSETS.archive}`,
    '```',
    '',
  );
  return lines.join('\n');
}

/**
 * The gate verdicts of a manifest in one line of plain text (for `mlops package` and `package
 * verify`): each gate's verdict, an override with who and why, or "unvalidated".
 */
export function describeManifestGates(gates: PackageManifest['gates']): string {
  const { override, ...verdicts } = gates;
  const entries = Object.entries(verdicts);
  if (entries.length === 0) return 'none packaged (UNVALIDATED: no gate vouches for this model)';
  const text = entries
    .map(([gate, verdict]) => `${gate} ${verdict?.passed ? 'passed' : 'FAILED'}`)
    .join(', ');
  return override
    ? `${text}; failed gates packaged anyway by ${override.by}${override.reason ? ` ("${override.reason}")` : ''}`
    : text;
}
