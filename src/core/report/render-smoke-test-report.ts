/**
 * Renders a `smoke-test` report (the serving smoke test) as Markdown: for the smoke-test step's job
 * summary, the report action's check run and its pull-request comment. Only the report is read.
 * Reasons come from the report file, so they are escaped like any text from a file.
 */
import { escapeMarkdown, escapeName, renderCode, renderDetails, renderTable } from '../markdown.ts';
import type { SmokeTestReport } from './smoke-test-report.ts';

const STATUS = { passed: '✅ passed', failed: '❌ failed', skipped: '⏭️ skipped' } as const;

/** A one-line verdict: which checks failed, else what passed. */
export function describeSmokeTest(report: SmokeTestReport): string {
  const failed = report.checks.filter((check) => check.status === 'failed').map((check) => check.check);
  const skipped = report.checks.filter((check) => check.status === 'skipped').map((check) => check.check);
  const p95 = report.latency ? `; p95 ${formatMs(report.latency.p95Ms)}` : '';
  if (failed.length > 0) return `${failed.join(', ')} failed${p95}`;
  const passed = report.checks.length - skipped.length;
  return `${passed} of ${report.checks.length} checks passed${skipped.length > 0 ? ` (${skipped.join(', ')} skipped)` : ''}${p95}`;
}

/** The failed checks, one line each (for a comment's worst findings). */
export function listSmokeTestFailures(report: SmokeTestReport): string[] {
  return report.checks
    .filter((check) => check.status === 'failed')
    .map((check) => `${check.check}: ${check.reason}`);
}

/** The report as Markdown (no heading of its own unless `heading` is given). */
export function renderSmokeTestReport(report: SmokeTestReport, file?: string, heading?: string): string {
  const parts: string[] = [];
  if (heading) parts.push(heading);
  const name = report.package.name
    ? `${renderCode(report.package.name, false)} ${escapeName(report.package.version ?? '')}`
    : renderCode(report.package.path, false);
  parts.push(
    `${report.passed ? '✅' : '❌'} ${name} served over the Open Inference Protocol v2 on loopback: ${escapeMarkdown(describeSmokeTest(report))}.`,
  );
  parts.push(
    renderTable(
      ['check', 'result', 'details'],
      report.checks.map((check) => [
        `**${check.check}**`,
        STATUS[check.status],
        escapeMarkdown(check.reason),
      ]),
      true,
    ),
  );
  if (report.metadata && report.metadata.mismatches.length > 0) {
    parts.push(
      `**Metadata vs signature**\n\n${report.metadata.mismatches.map((m) => `- ${escapeMarkdown(m)}`).join('\n')}`,
    );
  }
  if (report.parity && report.parity.worst.length > 0) {
    const rows = report.parity.worst.map((w) => [
      renderCode(w.output),
      String(w.row),
      String(w.index),
      formatValue(w.expected),
      formatValue(w.actual),
      formatValue(w.absDiff),
    ]);
    parts.push(
      renderDetails(
        `Parity: the worst of ${report.parity.mismatches} values out of tolerance`,
        renderTable(['output', 'row', 'index', 'expected', 'served', '|difference|'], rows, true),
      ),
    );
  }
  const facts: [string, string][] = [];
  if (report.latency) {
    const l = report.latency;
    facts.push([
      'latency (one-row infer, client time included)',
      `p50 ${formatMs(l.p50Ms)}, p95 ${formatMs(l.p95Ms)}, p99 ${formatMs(l.p99Ms)} over ${l.runs} requests (${l.input} rows)` +
        (l.budget
          ? `; budget ${formatMs(l.budget.limitMs)} from ${escapeMarkdown(l.budget.source)}`
          : '; no budget'),
    ]);
  }
  if (report.parity) {
    facts.push([
      'parity',
      `${renderCode(report.parity.golden, true)} (${report.parity.source === 'package' ? "the package's" : 'given'}), atol ${report.parity.atol}, rtol ${report.parity.rtol} from ${escapeMarkdown(report.parity.toleranceSource)}`,
    ]);
  }
  if (report.package.digest) facts.push(['package digest', renderCode(`sha256:${report.package.digest}`)]);
  if (report.server.startMs !== null)
    facts.push(['start (verify, load, listen)', formatMs(report.server.startMs)]);
  if (file) facts.push(['report', renderCode(file)]);
  if (facts.length > 0) parts.push(renderDetails('Details', renderTable(['', ''], facts, true)));
  return parts.join('\n\n');
}

function formatMs(ms: number): string {
  return `${ms < 10 ? ms.toFixed(2) : ms < 1000 ? ms.toFixed(1) : Math.round(ms).toLocaleString('en-US')} ms`;
}

function formatValue(value: number | null): string {
  return value === null ? '—' : Number(value.toPrecision(6)).toString();
}
