/**
 * Turns what the user gave (action inputs or CLI flags, plus `mlops.yaml`) into the options of
 * the data gate. Inputs and flags win over the config file; paths in the config are relative to it.
 */
import type { TableFormat } from '../data/batch.ts';
import { TABLE_FORMATS } from '../data/batch.ts';
import { FAIL_ON, type FailOn } from '../data/findings.ts';
import { PARALLEL_MODES } from '../data/parallel-profile.ts';
import type { ValidateDataOptions } from '../data/validate-data.ts';
import { ConfigurationError } from '../errors.ts';
import { checkOutputPath } from '../files.ts';
import { didYouMean } from '../suggest.ts';
import type { LoadedConfig } from './config.ts';

/** What an adapter collected from its user, every field optional. */
export interface DataGateRequest {
  data?: string;
  reference?: string;
  contract?: string;
  train?: string;
  target?: string;
  failOn?: string;
  format?: string;
  delimiter?: string;
  /** Where the report will be written: checked before any work never to replace an input. */
  report?: string;
  /** Profile on a second thread: auto, always or never (mlops.yaml has no key for it). */
  parallel?: string;
}

/** How each request field is called in the adapter (flag or input), for messages. */
export interface DataRequestNames {
  data: string;
  failOn: string;
  format: string;
  report?: string;
  parallel?: string;
}

/** Checks that `value` is one of `allowed`, naming the input/flag and the allowed values otherwise. */
export function parseChoice<T extends string>(value: string, allowed: readonly T[], name: string): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new ConfigurationError(
    `${name} must be one of ${allowed.join(', ')}; got "${value}".${didYouMean(value, allowed)}`,
    { key: name },
  );
}

/** Merges a request with the config's `data:` part into validated gate options. */
export function resolveDataOptions(
  request: DataGateRequest,
  loaded: LoadedConfig | undefined,
  names: DataRequestNames,
): ValidateDataOptions {
  const config = loaded?.config.data ?? {};
  const fromConfig = (path: string | undefined) =>
    path === undefined ? undefined : loaded!.resolvePath(path);
  const data = request.data ?? fromConfig(config.data);
  if (!data) {
    throw new ConfigurationError(
      `No data to validate: set ${names.data}${loaded ? `, or data.data in ${loaded.file}` : ' (or data.data in an mlops.yaml given as config)'}.`,
      { key: names.data },
    );
  }
  const failOn: FailOn = request.failOn
    ? parseChoice(request.failOn, FAIL_ON, names.failOn)
    : (config['fail-on'] ?? 'error');
  const format: TableFormat | undefined = request.format
    ? parseChoice(request.format, TABLE_FORMATS, names.format)
    : config.format;
  const delimiter = request.delimiter ?? config.delimiter;
  if (delimiter !== undefined && [...delimiter].length !== 1 && delimiter !== '\\t') {
    throw new ConfigurationError(
      `The delimiter must be one character (use "\\t" for tab); got "${delimiter}".`,
      { key: 'delimiter' },
    );
  }
  const drift = config.drift;
  const options: ValidateDataOptions = {
    data,
    reference: request.reference ?? fromConfig(config.reference),
    contract: request.contract ?? fromConfig(config.contract),
    train: request.train ?? fromConfig(config.train),
    config: loaded?.file,
    target: request.target ?? config.target,
    failOn,
    read: { format, delimiter: delimiter === '\\t' ? '\t' : delimiter },
    ...(request.parallel !== undefined
      ? { parallel: parseChoice(request.parallel, PARALLEL_MODES, names.parallel ?? 'parallel') }
      : {}),
    missingTokens: config['missing-values'],
    checks: dropUndefined({
      duplicates: config.checks?.duplicates,
      leakage: config.checks?.leakage,
      unexpectedColumns: config.checks?.['unexpected-columns'],
      drift: config.checks?.drift,
    }),
    drift: drift
      ? dropUndefined({
          smallSampleMax: drift['small-sample-max'],
          pValue: drift['p-value'],
          correction: drift.correction,
          ks: drift['kolmogorov-smirnov'],
          psi: drift.psi,
          jensenShannon: drift['jensen-shannon'],
          wasserstein: drift.wasserstein,
          datasetShare: drift['dataset-share'],
          ignore: drift.ignore,
          columns: drift.columns
            ? Object.fromEntries(
                Object.entries(drift.columns).map(([name, rules]) => [
                  name,
                  dropUndefined({
                    test: rules.test,
                    minEffect: rules['min-effect'],
                    threshold: rules.threshold,
                  }),
                ]),
              )
            : undefined,
        })
      : undefined,
    leakage: config.leakage
      ? dropUndefined({ pValue: config.leakage['p-value'], maxShare: config.leakage['max-share'] })
      : undefined,
    profile: config.profile
      ? dropUndefined({
          exactValues: config.profile['exact-values'],
          exactDistinct: config.profile['exact-distinct'],
          topValues: config.profile['top-values'],
        })
      : undefined,
  };
  if (request.report !== undefined) {
    checkOutputPath(
      request.report,
      [
        { label: names.data, path: options.data },
        options.reference === undefined ? undefined : { label: 'the reference', path: options.reference },
        options.contract === undefined ? undefined : { label: 'the contract', path: options.contract },
        options.train === undefined ? undefined : { label: 'the training data', path: options.train },
        loaded ? { label: 'the config', path: loaded.file } : undefined,
      ],
      names.report ?? 'the report path',
    );
  }
  return options;
}

function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
