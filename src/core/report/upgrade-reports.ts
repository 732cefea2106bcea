/**
 * Older gate reports, brought to the current shape for the renderers: a report written by the
 * previous version of the gates (an earlier run, a package already deployed) still renders, with
 * what it did not record said as such instead of guessed.
 */
import { DRIFT_DECISIONS, type DriftTestName, EFFECT_MEASURES } from '../data/drift.ts';
import type { DataValidationReport } from '../data/validate-data.ts';

/** A version-1 drift column: a per-column threshold and a drifted flag, no adjusted p-values. */
interface DriftColumnV1 {
  column: string;
  test: DriftTestName;
  statistic: number;
  pValue?: number;
  threshold: number;
  drifted: boolean;
  referenceCount?: number;
  currentCount?: number;
  unseenCategories?: { value: string; count: number }[];
  note?: string;
}

/**
 * The report in the current shape of its kind. Version-1 model reports need nothing (version 2 only
 * added fields). Version-1 data reports gain the version-2 drift
 * fields: no correction (version 1 tested each column on its own), each column's decision from its
 * `drifted` flag, and its threshold as the rule that decided. Current reports come back unchanged.
 */
export function upgradeGateReport(json: Record<string, unknown>): Record<string, unknown> {
  // Model reports: version 2 only added fields (a confidence, gates' resolution); 1 reads as is.
  if (json.kind === 'model-validation' && json.version === 1) return { ...json, version: 2 };
  if (json.kind !== 'data-validation' || json.version !== 1) return json;
  const drift = json.drift as { reference: string; columns: DriftColumnV1[] } | undefined;
  const upgraded: Record<string, unknown> = { ...json, version: 2 };
  if (drift) {
    const columns: NonNullable<DataValidationReport['drift']>['columns'] = drift.columns.map((c) => {
      const byPValue = c.test === 'kolmogorov-smirnov' || c.test === 'chi-square';
      // Version 1 marked a skipped comparison by a note, statistic 0 and no p-value.
      const compared = !(c.note !== undefined && c.statistic === 0 && c.pValue === undefined);
      const { threshold, ...rest } = c;
      return {
        ...rest,
        referenceCount: c.referenceCount ?? 0,
        currentCount: c.currentCount ?? 0,
        effectSize: {
          measure: EFFECT_MEASURES[c.test],
          value: c.test === 'chi-square' ? 0 : c.statistic,
          floor: byPValue ? 0 : threshold,
        },
        decision: c.drifted
          ? DRIFT_DECISIONS.drifted
          : compared
            ? DRIFT_DECISIONS.stable
            : DRIFT_DECISIONS.notCompared,
        rule: byPValue
          ? `version 1 report: p-value ${c.drifted ? 'below' : 'not below'} ${threshold}, not adjusted across columns`
          : `version 1 report: ${c.test} ${c.drifted ? 'at or above' : 'below'} ${threshold}`,
      };
    });
    upgraded.drift = { reference: drift.reference, correction: 'none', level: 0.05, columns };
  }
  return upgraded;
}
