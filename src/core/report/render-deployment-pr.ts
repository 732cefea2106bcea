/**
 * The deployment pull request's description, and the one line about a deployment's gates that the
 * description, the action's job summary and the CLI print. Rendered from data that the deployment
 * (core/deploy) hands over, so this module imports no deployment code.
 *
 * Everything in it that a user or a package chose (model, environment and column names, versions,
 * references, actors, reasons, notes) is escaped ({@link escapeMarkdown}) or inline code
 * ({@link renderCode}): a package built from a hostile repository cannot steer the reviewer's page
 * with links, mentions, HTML or table cells.
 */
import { escapeMarkdown, escapeName, renderCode } from '../markdown.ts';

/** What a deployment record says of the gates (the shape of a ModelDeployment's `spec.gates`). */
export interface DeploymentGateVerdicts {
  /** Absent in records written before records carried verdicts. */
  verdict?: 'passed' | 'overridden' | 'unvalidated' | 'not-recorded';
  data?: boolean;
  model?: boolean;
  /** Failed gates deployed on purpose: who decided and why, and the override made at packaging. */
  override?: {
    allowedFailed: readonly string[];
    by: string;
    reason?: string;
    package?: { by: string; reason?: string };
  };
}

/** What a package says of itself: headline metrics, and the columns its data gate found drifted. */
export interface PackageFigures {
  metrics: Readonly<Record<string, number | null>>;
  drifted?: readonly string[];
}

/** A package in an environment: the one running now, or the one proposed. */
export interface DeployedPackage {
  version: string;
  /** The package's URI (for the running package, its reference as recorded). */
  packageUri: string;
  sha256: string;
  /** The modelcar image, pinned by digest (`oci://…@sha256:…`), when the package has one. */
  modelcar?: { uri: string; sha256: string };
  gates: DeploymentGateVerdicts;
}

/** Everything the description of a deployment pull request says. */
export interface DeploymentProposal {
  environment: string;
  model: string;
  proposed: DeployedPackage;
  /** What the environment runs now; undefined for a first deployment. */
  current?: DeployedPackage;
  /** Where the proposed package was built. */
  source: { repository: string | null; commit: string | null; runUrl?: string | null };
  /**
   * What the proposed and the running package say of themselves; undefined where not known (not
   * recorded, or the package cannot be read from here).
   */
  figures: { proposed?: PackageFigures; current?: PackageFigures };
  /** Plain-text notes (where the verdicts came from, digests not checked); escaped when rendered. */
  notes: readonly string[];
}

/**
 * The pull request's description: what changes (old → new version and package, digests), the gate
 * verdicts (an unvalidated package or failed gates deployed by override said loudly), the headline
 * metrics now and proposed, where the package came from, and how to roll back.
 */
export function renderDeploymentPullRequest(proposal: DeploymentProposal): string {
  const { proposed, current } = proposal;
  const text = escapeMarkdown;
  const digest = (sha256: string) => renderCode(`${sha256.slice(0, 16)}…`);
  const lines = [
    `Deploys **${text(proposal.model)} ${text(proposed.version)}** to **${text(proposal.environment)}**${current ? `, replacing ${text(current.version)}` : ' (first deployment)'}.`,
    '',
    '| | now | proposed |',
    '| --- | --- | --- |',
    `| version | ${current ? text(current.version) : '—'} | ${text(proposed.version)} |`,
    `| package | ${current ? text(current.packageUri) : '—'} | ${text(proposed.packageUri)} |`,
    `| sha256 | ${current ? digest(current.sha256) : '—'} | ${digest(proposed.sha256)} |`,
    ...(proposed.modelcar || current?.modelcar
      ? [
          `| modelcar | ${current?.modelcar ? digest(`sha256:${current.modelcar.sha256}`) : '—'} | ${proposed.modelcar ? digest(`sha256:${proposed.modelcar.sha256}`) : '—'} |`,
        ]
      : []),
    `| gates | ${current ? shortVerdict(current.gates) : '—'} | ${shortVerdict(proposed.gates)} |`,
    '',
    describeDeploymentGates(proposed.gates),
    '',
  ];
  for (const note of proposal.notes) lines.push(text(note), '');
  lines.push(...renderFigures(proposal.figures.proposed, proposal.figures.current));
  lines.push(renderSource(proposal.source, proposed.packageUri), '');
  lines.push(
    current
      ? `Rollback: deploy ${text(current.version)} again (${renderCode(current.packageUri, false)}${current.modelcar ? `, modelcar ${renderCode(current.modelcar.uri, false)}` : ''}, recorded as \`spec.previous\` once this merges).`
      : 'Rollback: close this pull request; nothing runs in this environment yet.',
    '',
    '<sub>Opened by mlops-actions deploy-pr. The branch is rebuilt on every run: edit the model reference through a new deployment, not by hand.</sub>',
    '',
  );
  return lines.join('\n');
}

/** The metrics now and proposed with their change, and the drifted columns. */
function renderFigures(proposed: PackageFigures | undefined, running: PackageFigures | undefined): string[] {
  if (!proposed) return ['Metrics of the package: not recorded.', ''];
  const lines: string[] = [];
  const names = [
    ...new Set([...Object.keys(proposed.metrics), ...Object.keys(running?.metrics ?? {})]),
  ].sort();
  if (names.length > 0) {
    lines.push('| metric | now | proposed | Δ |', '| --- | --- | --- | --- |');
    const show = (value: number | null | undefined) =>
      typeof value === 'number' ? value.toPrecision(4) : '—';
    for (const name of names) {
      const now = running?.metrics[name];
      const next = proposed.metrics[name];
      const delta = typeof now === 'number' && typeof next === 'number' ? next - now : undefined;
      const change = delta === undefined ? '—' : `${delta >= 0 ? '+' : ''}${delta.toPrecision(3)}`;
      lines.push(`| ${escapeName(name)} | ${show(now)} | ${show(next)} | ${change} |`);
    }
    lines.push('');
  }
  if (proposed.drifted) {
    const count = proposed.drifted.length;
    lines.push(
      count === 0
        ? 'Data drift: no column drifted from the reference.'
        : `Data drift: ${count} column${count === 1 ? '' : 's'} drifted (${proposed.drifted.map(escapeName).join(', ')}).`,
      '',
    );
  }
  return lines;
}

/** Where the package was built: the repository and commit, and a link to the run when it is one. */
function renderSource(source: DeploymentProposal['source'], packageUri: string): string {
  const commit = source.commit ? escapeMarkdown(source.commit.slice(0, 12)) : undefined;
  const run = source.runUrl ? linkTarget(source.runUrl) : undefined;
  const runText = source.runUrl
    ? run
      ? `, built by [this workflow run](${run})`
      : `, built by the workflow run ${escapeMarkdown(source.runUrl)}`
    : '';
  const repository = source.repository ? escapeMarkdown(source.repository) : undefined;
  // GitHub links `@name` after a non-word character: a repository ending in one would turn the
  // commit into a mention, unless a zero-width joiner (escapeMarkdown's) follows the `@`.
  const at = repository && /[\p{L}\p{N}_]$/u.test(repository) ? '@' : '@\u200D';
  return repository
    ? `Source: ${repository}${commit ? `${at}${commit}` : ''}${runText}; package: ${escapeMarkdown(packageUri)}.`
    : `Source: not recorded (the package was built outside a workflow${commit ? `, from commit ${commit}` : ''}); package: ${escapeMarkdown(packageUri)}.`;
}

/**
 * A URL fit for a link's destination: http(s) only, and none of the characters that could end the
 * destination or the link early (spaces, parentheses, angle brackets, quotes, backslashes);
 * undefined otherwise (the URL is then shown as escaped text, unlinked).
 */
function linkTarget(url: string): string | undefined {
  return /^https?:\/\/[A-Za-z0-9\-._~:/?#@!$&*+,;=%]+$/.test(url) ? url : undefined;
}

/** A record's verdict in one or two words, for the table. */
function shortVerdict(gates: DeploymentGateVerdicts): string {
  switch (gates.verdict) {
    case 'passed':
      return 'passed';
    case 'overridden':
      return `⚠️ **${gates.override ? gates.override.allowedFailed.map(escapeMarkdown).join(', ') : 'a gate'} failed (override)**`;
    case 'unvalidated':
      return '⚠️ **unvalidated**';
    default:
      return 'not recorded';
  }
}

/** One line (two with an override) about a deployment's gates, for people: the pull request, the job summary, the CLI. */
export function describeDeploymentGates(gates: DeploymentGateVerdicts | undefined): string {
  if (!gates || gates.verdict === undefined || gates.verdict === 'not-recorded') {
    return 'Gate verdicts: not recorded (deployed before deployment records carried them).';
  }
  const verdict = (passed: boolean | undefined) =>
    passed === undefined ? 'not run' : passed ? '✅ passed' : '❌ failed';
  if (gates.verdict === 'unvalidated') {
    return '⚠️ **Unvalidated package**: it carries no gate report, so no data or model gate vouches for it.';
  }
  const line = `Gates: data ${verdict(gates.data)}, model ${verdict(gates.model)}.`;
  const override = gates.override;
  if (!override) return line;
  const who = (by: string, reason?: string) =>
    `${escapeMarkdown(by)}${reason ? ` ("${escapeMarkdown(reason)}")` : ''}`;
  return (
    `${line}\n\n⚠️ **Failed gates deployed by override**: the ${override.allowedFailed.map(escapeMarkdown).join(' and ')} gate failed; deployed anyway by ${who(override.by, override.reason)}` +
    `${override.package ? `, packaged anyway by ${who(override.package.by, override.package.reason)}` : ''}.`
  );
}
