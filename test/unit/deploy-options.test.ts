import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config/config.ts';
import { resolveDeploySettings } from '../../src/core/config/deploy-options.ts';

const CONFIG = `deploy:
  repository: octo-org/environments
  base: trunk
  environments:
    staging:
      labels: [deploy, staging]
      targets:
        - { file: environments/staging/inferenceservice.yaml, field: spec.predictor.model.storageUri, value: "{uri}" }
    production:
      reviewers: [ml-leads]
      draft: true
`;

const loaded = (text: string) => ({
  config: parseConfig(text, 'mlops.yaml'),
  file: 'mlops.yaml',
  resolvePath: (p: string) => p,
});

describe('deploy settings from mlops.yaml and inputs', () => {
  it('takes the environment entry, and lets inputs win', () => {
    expect(resolveDeploySettings({}, 'staging', loaded(CONFIG), { repository: '--repo' })).toEqual({
      repository: 'octo-org/environments',
      base: 'trunk',
      labels: ['deploy', 'staging'],
      reviewers: [],
      draft: false,
      targets: [
        {
          file: 'environments/staging/inferenceservice.yaml',
          field: 'spec.predictor.model.storageUri',
          value: '{uri}',
        },
      ],
    });
    expect(
      resolveDeploySettings(
        { repository: 'other/env', labels: ['x'], draft: false },
        'production',
        loaded(CONFIG),
        {
          repository: '--repo',
        },
      ),
    ).toMatchObject({
      repository: 'other/env',
      labels: ['x'],
      reviewers: ['ml-leads'],
      draft: false,
      targets: [],
    });
  });

  it('names what is missing and catches typos with their line', () => {
    expect(() => resolveDeploySettings({}, 'staging', undefined, { repository: '--repo' })).toThrow(
      /No environment repository: set --repo/,
    );
    expect(() =>
      parseConfig('deploy:\n  environments:\n    staging:\n      reviewer: [a]\n', 'mlops.yaml'),
    ).toThrow(
      /mlops\.yaml:4: unknown key "deploy\.environments\.staging\.reviewer"\. Did you mean "reviewers"\?/,
    );
  });
});
