/**
 * What an image or artifact in a registry says of itself: its digest, media type, and which
 * package (archive sha256) and ModelPack artifact it was made from (the annotations `mlops oci
 * push` writes). Deployments use it to refuse a modelcar made from another package.
 */

import { InputError } from '../errors.ts';
import type { RegistryCredential } from './auth.ts';
import { ANNOTATIONS } from './modelpack.ts';
import { formatOciReference, parseOciReference } from './reference.ts';
import { RegistryClient } from './registry-client.ts';

/** What {@link inspectImage} found. */
export interface ImageFacts {
  digest: string;
  mediaType: string;
  /** The package archive's sha256 (hex), when the image names it. */
  packageDigest?: string;
  /** The ModelPack artifact it was made from, when it names it. */
  modelpackDigest?: string;
}

/**
 * Reads the manifest (or index) at `reference` and its annotations. A reference with a digest is
 * checked against it. Throws `ConfigurationError`/`InputError` (exit 2) for a bad reference, a
 * registry that cannot be reached or refuses, and a reference that does not exist.
 */
export async function inspectImage(
  reference: string,
  options: { plainHttp?: boolean; credential?: RegistryCredential; credentialHint?: string } = {},
): Promise<ImageFacts> {
  const parsed = parseOciReference(reference, 'The image reference');
  const client = new RegistryClient({ registry: parsed.registry, ...options });
  const manifest = await client.getManifest(parsed.repository, parsed.digest ?? parsed.tag ?? 'latest');
  if (!manifest) throw new InputError(`${formatOciReference(parsed)} is not in its registry.`);
  const annotations = (manifest.json.annotations ?? {}) as Record<string, unknown>;
  const packageDigest = String(annotations[ANNOTATIONS.packageDigest] ?? '').replace(/^sha256:/, '');
  const modelpackDigest = annotations[ANNOTATIONS.modelpackDigest];
  return {
    digest: manifest.digest,
    mediaType: manifest.mediaType,
    ...(/^[0-9a-f]{64}$/.test(packageDigest) ? { packageDigest } : {}),
    ...(typeof modelpackDigest === 'string' ? { modelpackDigest } : {}),
  };
}
