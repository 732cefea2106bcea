/**
 * The Ajv instance shared by contract loading and contract checking.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import formatsModule from 'ajv-formats';
import { parseDateText } from './cells.ts';

let contractAjv: Ajv2020 | undefined;

/**
 * The Ajv instance that compiles contracts and column schemas (shared, created on first use):
 * draft 2020-12 with ajv-formats, strict about unknown keywords and formats, lenient about
 * `Infinity` (a CSV may hold `inf`).
 *
 * `format: "date-time"` is redefined to accept what the profile reads as a datetime: ISO 8601
 * with `T` or a space, optional seconds and fraction, optional offset (none means UTC), e.g.
 * `2024-01-31 12:00`. RFC 3339 (what ajv-formats checks) requires seconds and an offset, which
 * most CSV exports lack. `format: "date"` is the RFC 3339 full date (`2024-01-31`).
 */
export function getContractAjv(): Ajv2020 {
  if (contractAjv) return contractAjv;
  const ajv = new Ajv2020({
    allErrors: false,
    verbose: true,
    strict: true,
    strictTypes: false,
    strictTuples: false,
    strictRequired: false,
    strictNumbers: false,
  });
  // ajv-formats is CommonJS whose module object is the plugin with `.default` pointing at itself.
  formatsModule.default(ajv);
  ajv.addFormat('date-time', { type: 'string', validate: isLenientDateTime });
  ajv.addKeyword({ keyword: 'x-mlops' });
  contractAjv = ajv;
  return ajv;
}

function isLenientDateTime(text: string): boolean {
  return text.length > 10 && !Number.isNaN(parseDateText(text));
}

/** Registers keywords starting with `x-` found anywhere in `schema` as annotations, so strict mode accepts them. */
export function registerExtensionKeywords(ajv: Ajv2020, schema: unknown): void {
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const item of node) visit(item);
    } else if (node !== null && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) {
        if (key.startsWith('x-') && !ajv.getKeyword(key)) {
          try {
            ajv.addKeyword({ keyword: key });
          } catch {
            // Not a valid keyword name for ajv (e.g. contains spaces): compilation will name it.
          }
        }
        if (key !== 'x-mlops' && key !== 'enum' && key !== 'const') visit(value);
      }
    }
  };
  visit(schema);
}

/**
 * JSON Schema keywords that annotate and never fail validation: the contract check skips them,
 * and contract loading accepts them.
 */
export const ANNOTATION_KEYWORDS = [
  'title',
  'description',
  'default',
  'examples',
  'deprecated',
  'readOnly',
  'writeOnly',
  '$comment',
  '$schema',
  '$id',
  '$anchor',
  '$defs',
  'definitions',
] as const;
