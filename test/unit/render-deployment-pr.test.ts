/**
 * The deployment pull request's description with hostile text in every place a user or a package
 * chooses (issue #14: the body did not escape column names): metric and column names, the
 * environment, versions, references, the actor and the reasons of an override, the source and the
 * notes. Rendered to HTML by micromark with GFM (the rules GitHub renders pull requests by), the
 * body must keep its tables' shape and carry no link, HTML or mention that the text brought.
 */
import { micromark } from 'micromark';
import { gfm, gfmHtml } from 'micromark-extension-gfm';
import { describe, expect, it } from 'vitest';
import {
  type DeploymentProposal,
  describeDeploymentGates,
  renderDeploymentPullRequest,
} from '../../src/core/report/render-deployment-pr.ts';

const HOSTILE = [
  'a|b',
  '<script>alert(1)</script>',
  '<img src=x onerror=alert(1)>',
  'x](javascript:alert(1)) [y',
  'one\ntwo\n| --- | --- |',
  '@octocat',
  '#12',
  '`tick` [link](https://evil.example)',
];

const SHA = 'a'.repeat(64);
const RUN = 'https://github.com/octo-org/mlops-demo/actions/runs/42';

function proposal(hostile: string): DeploymentProposal {
  return {
    environment: `staging ${hostile}`,
    model: `model ${hostile}`,
    proposed: {
      version: `1.2.0-${hostile}`,
      packageUri: `https://example.com/${hostile}.zip`,
      sha256: SHA,
      modelcar: { uri: `oci://ghcr.io/o/m@sha256:${SHA} ${hostile}`, sha256: SHA },
      gates: {
        verdict: 'overridden',
        data: true,
        model: false,
        override: {
          allowedFailed: ['model', hostile],
          by: `bob ${hostile}`,
          reason: `because ${hostile}`,
          package: { by: `alice ${hostile}`, reason: `hotfix ${hostile}` },
        },
      },
    },
    current: {
      version: `1.1.0 ${hostile}`,
      packageUri: `file:///p/${hostile}.zip`,
      sha256: SHA,
      modelcar: { uri: `oci://ghcr.io/o/m ${hostile}`, sha256: SHA },
      gates: { verdict: 'passed', data: true, model: true },
    },
    figures: {
      proposed: { metrics: { [hostile]: 0.9, roc_auc: 0.99 }, drifted: [hostile, 'mean radius'] },
      current: { metrics: { [hostile]: 0.8, roc_auc: 0.98 } },
    },
    source: { repository: `octo-org/${hostile}`, commit: `${hostile}${'c'.repeat(40)}`, runUrl: RUN },
    notes: [`Gate verdicts from ${hostile}.`],
  };
}

function toHtml(markdown: string): string {
  return micromark(markdown, {
    allowDangerousHtml: true,
    extensions: [gfm()],
    htmlExtensions: [gfmHtml()],
  });
}

/** The text a reader sees outside code, entities decoded (where GitHub links mentions). */
function textOutsideCode(html: string): string {
  return html
    .replace(/<code[^>]*>[\s\S]*?<\/code>/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&quot;', '"')
    .replaceAll('&amp;', '&');
}

/** What the reader sees of `hostile`: on one line, with a joiner after `@` and before an issue number. */
function shown(hostile: string): string {
  return hostile
    .replace(/\n/g, ' ')
    .replaceAll('@', '@\u200D')
    .replace(/#(?=\d)/g, '#\u200D');
}

/** The text of the first cell of each row of the `index`th table. */
function firstColumn(html: string, index: number): string[] {
  const table = [...html.matchAll(/<table>([\s\S]*?)<\/table>/g)][index]?.[1] ?? '';
  return [...table.matchAll(/<tr>\s*<t[dh][^>]*>([\s\S]*?)<\/t[dh]>/g)].map(([, cell]) =>
    textOutsideCode(cell).trim(),
  );
}

/** The cells of each row of each table: [table][row] → cell count. */
function tableShapes(html: string): number[][] {
  return [...html.matchAll(/<table>([\s\S]*?)<\/table>/g)].map(([, table]) =>
    [...table.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map(([, row]) => (row.match(/<t[dh]\b/g) ?? []).length),
  );
}

describe('the deployment pull request body', () => {
  it.each(HOSTILE)('is not steered by %j in any user text', (hostile) => {
    const body = renderDeploymentPullRequest(proposal(hostile));
    const html = toHtml(body);
    // The version table (with the modelcar row) and the metrics table keep their rows and columns.
    expect(tableShapes(html)).toEqual([Array(6).fill(3), Array(3).fill(4)]);
    const links = [...html.matchAll(/<a\s[^>]*href="([^"]*)"/g)].map((match) => match[1]);
    expect(links).toEqual([RUN]);
    expect(html).not.toMatch(/<(script|img|iframe)\b/i);
    const text = textOutsideCode(html);
    expect(text).not.toMatch(/(^|[^\w])@[A-Za-z0-9]/);
    expect(text).not.toMatch(/(^|[^\w&])#\d/);
    // The text is shown whole, not split or dropped: the metric's cell holds the whole name, and
    // the override's reason reads as written (on one line).
    expect(firstColumn(html, 1)).toContain(shown(hostile));
    expect(text).toContain(`because ${shown(hostile)}`);
  });

  it('links the workflow run only when its URL cannot break out of the link', () => {
    for (const runUrl of [
      'javascript:alert(1)',
      'https://x.example/a) [b](https://evil.example',
      'https://x.example/ a',
    ]) {
      const html = toHtml(
        renderDeploymentPullRequest({
          ...proposal('x'),
          source: { repository: 'o/r', commit: null, runUrl },
        }),
      );
      expect([...html.matchAll(/<a\s[^>]*href="([^"]*)"/g)].map((match) => match[1])).toEqual([]);
    }
    const body = renderDeploymentPullRequest({
      ...proposal('x'),
      source: { repository: 'o/r', commit: 'c'.repeat(40), runUrl: RUN },
    });
    expect(body).toContain(`Source: o/r@${'c'.repeat(12)}, built by [this workflow run](${RUN})`);
  });

  it('says what changes, the metrics and drift, and how to roll back', () => {
    const body = renderDeploymentPullRequest({
      environment: 'staging',
      model: 'breast-cancer',
      proposed: {
        version: '1.2.0',
        packageUri: 'file:///p.zip',
        sha256: SHA,
        gates: { verdict: 'passed', model: true },
      },
      current: {
        version: '1.1.0',
        packageUri: 'file:///o.zip',
        sha256: 'b'.repeat(64),
        gates: { verdict: 'unvalidated' },
      },
      figures: {
        proposed: { metrics: { roc_auc: 0.99, log_loss: 0.08 }, drifted: ['mean radius'] },
        current: { metrics: { roc_auc: 0.97 } },
      },
      source: { repository: null, commit: null },
      notes: [],
    });
    expect(body).toContain('Deploys **breast-cancer 1.2.0** to **staging**, replacing 1.1.0.');
    expect(body).toContain('| gates | ⚠️ **unvalidated** | passed |');
    expect(body).toContain('| roc_auc | 0.9700 | 0.9900 | +0.0200 |');
    expect(body).toContain('| log_loss | — | 0.08000 | — |');
    expect(body).toContain('Data drift: 1 column drifted (mean radius).');
    expect(body).toContain(
      'Rollback: deploy 1.1.0 again (`file:///o.zip`, recorded as `spec.previous` once this merges).',
    );
  });

  it('describes gates in one line, and an override with who and why', () => {
    expect(describeDeploymentGates(undefined)).toMatch(/^Gate verdicts: not recorded/);
    expect(describeDeploymentGates({ verdict: 'passed', data: true })).toBe(
      'Gates: data ✅ passed, model not run.',
    );
    expect(
      describeDeploymentGates({
        verdict: 'overridden',
        model: false,
        override: { allowedFailed: ['model'], by: '@bob', reason: '<b>hotfix</b>' },
      }),
    ).toBe(
      'Gates: data not run, model ❌ failed.\n\n⚠️ **Failed gates deployed by override**: the model gate failed; deployed anyway by @\u200Dbob ("&lt;b&gt;hotfix&lt;/b&gt;").',
    );
  });
});
