/**
 * Derives a JSON Schema (draft 2020-12) from the Open Inference Protocol's OpenAPI 3.0 description
 * (src/core/schemas/vendor/open-inference-protocol/open_inference_rest.yaml): its
 * `components.schemas` become `$defs`, references follow, OpenAPI 3.0's `nullable: true` is
 * rewritten (JSON Schema has no such keyword), and the OpenAPI-only `x-*` keys and `example(s)`
 * are left out. The result is committed as open-inference.schema.json, which the server compiles;
 * a test re-derives it from the vendored file and fails when they differ.
 */

/** Where the derived schema says it came from. */
export const OPEN_INFERENCE_SOURCE = {
  repository: 'https://github.com/kserve/open-inference-protocol',
  path: 'specification/protocol/open_inference_rest.yaml',
  commit: 'd49cc23f89d709d87b210ef9449e273ae243984e',
  vendored: 'src/core/schemas/vendor/open-inference-protocol/open_inference_rest.yaml',
} as const;

export const OPEN_INFERENCE_SCHEMA_ID = 'https://mlops-actions.dev/schemas/open-inference-rest.derived.json';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** The schema derived from a parsed OpenAPI 3.0 document (see the module comment). */
export function deriveOpenInferenceSchema(openapi: Record<string, unknown>): Record<string, unknown> {
  const components = (openapi.components as { schemas?: Record<string, Json> } | undefined)?.schemas;
  if (!components || typeof components !== 'object') {
    throw new Error('The OpenAPI description has no components.schemas.');
  }
  const defs: Record<string, Json> = {};
  for (const name of Object.keys(components).sort()) defs[name] = convertSchema(components[name]);
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: OPEN_INFERENCE_SCHEMA_ID,
    title: 'Open Inference Protocol v2 (REST): JSON Schemas of its payloads',
    description:
      `Derived from ${OPEN_INFERENCE_SOURCE.vendored} (${OPEN_INFERENCE_SOURCE.repository}, ` +
      `${OPEN_INFERENCE_SOURCE.path} at ${OPEN_INFERENCE_SOURCE.commit}; Apache-2.0) by ` +
      'src/core/serve/derive-schema.ts: components.schemas as $defs, nullable rewritten, x-* keys left out. ' +
      'Do not edit: regenerate with `UPDATE_OPEN_INFERENCE_SCHEMA=1 npx vitest run test/integration/serve.test.ts`.',
    $defs: defs,
  };
}

/** One OpenAPI schema object as JSON Schema, recursively. */
function convertSchema(schema: Json): Json {
  if (Array.isArray(schema)) return schema.map(convertSchema);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: { [key: string]: Json } = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key.startsWith('x-') || key === 'example' || key === 'examples' || key === 'nullable') continue;
    if (key === '$ref' && typeof value === 'string') {
      out.$ref = value.replace(/^#\/components\/schemas\//, '#/$defs/');
    } else if (key === 'properties' && value && typeof value === 'object' && !Array.isArray(value)) {
      // Property names are names, not keywords: only their schemas are converted.
      out.properties = Object.fromEntries(Object.entries(value).map(([name, s]) => [name, convertSchema(s)]));
    } else {
      out[key] = convertSchema(value);
    }
  }
  return schema.nullable === true ? allowNull(out) : out;
}

/**
 * OpenAPI 3.0's `nullable: true` in JSON Schema: `null` added to `type` (and to an `enum`), or, for
 * a schema without a type (a `$ref`, a combination), `anyOf: [schema, {type: 'null'}]`.
 */
export function allowNull(schema: { [key: string]: Json }): { [key: string]: Json } {
  const type = schema.type;
  if (typeof type === 'string' || Array.isArray(type)) {
    const types = Array.isArray(type) ? type : [type];
    const result: { [key: string]: Json } = {
      ...schema,
      type: types.includes('null') ? types : [...types, 'null'],
    };
    if (Array.isArray(schema.enum) && !schema.enum.includes(null)) result.enum = [...schema.enum, null];
    return result;
  }
  return { anyOf: [schema, { type: 'null' }] };
}
