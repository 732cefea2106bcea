/**
 * Edits one field of a file in an environment repository (a KServe InferenceService's `storageUri`,
 * a Helm values key, a Kustomize image tag) so that a deployment PR's diff is that field and
 * nothing else: comments, quoting, indentation, key order and blank lines stay as people wrote them.
 *
 * YAML is edited through the `yaml` package's source tokens (`keepSourceTokens`): the scalar's own
 * token is re-rendered in its own style and spliced back into the text, and the result is read back
 * to prove it holds the intended value. JSON goes through the JSON scanner (json/text.ts), which
 * records where each value starts and ends, so only those bytes are replaced.
 *
 * The parts: field-path.ts (paths and where they stop), yaml-edit.ts (the YAML splice), json-edit.ts
 * (the JSON one), yaml-reconcile.ts (whole-document updates of model reference files).
 */
import { ConfigurationError } from '../errors.ts';
import { type FieldEdit, parseFieldPath } from './field-path.ts';
import { setJsonField } from './json-edit.ts';
import { type DocumentSelector, setYamlField } from './yaml-edit.ts';

export type { FieldEdit, FieldPathSegment } from './field-path.ts';
export type { DocumentSelector } from './yaml-edit.ts';

/** The file formats a target field can live in. */
export const TARGET_FORMATS = ['yaml', 'json'] as const;
export type TargetFormat = (typeof TARGET_FORMATS)[number];

/** The format of a target file from its extension (`.json` → json, `.yaml`/`.yml` → yaml). */
export function detectTargetFormat(file: string): TargetFormat {
  if (/\.json$/i.test(file)) return 'json';
  if (/\.ya?ml$/i.test(file)) return 'yaml';
  throw new ConfigurationError(
    `Cannot tell the format of ${file} from its name: name a .yaml, .yml or .json file, or give the format (${TARGET_FORMATS.join(' or ')}).`,
    { file },
  );
}

/**
 * Sets one scalar field of a YAML or JSON file to `value`, changing only that value's bytes.
 *
 * The field keeps its type when the new value reads as that type (a number stays a number, e.g.
 * `replicas: 3`); otherwise it becomes a string, quoted when a plain form would read as something
 * else (`"1.10"`, `"true"`). A path that does not exist, runs through a YAML alias, or ends at a
 * mapping or list is a {@link ConfigurationError} naming `file`, the path and the keys that exist
 * there. Setting the value a field already holds returns the text unchanged (`changed: false`).
 */
export function setField(
  text: string,
  format: TargetFormat,
  path: string,
  value: string,
  file: string,
  selector: DocumentSelector = {},
): FieldEdit {
  const segments = parseFieldPath(path);
  if (format === 'json') return setJsonField(text, segments, value, file);
  if (format === 'yaml') return setYamlField(text, segments, value, file, selector);
  throw new ConfigurationError(`Unknown target format "${format}": use ${TARGET_FORMATS.join(' or ')}.`, {
    file,
  });
}
