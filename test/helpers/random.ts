/**
 * Seeded randomness for tests (mulberry32, Box–Muller), so that no test depends on Math.random and
 * every statistical assertion runs on the same numbers each time.
 */

/** The next 32-bit output of a mulberry32 generator, advancing `state[0]`. */
function next(state: Uint32Array): number {
  state[0] = (state[0] + 0x6d2b79f5) >>> 0;
  let t = state[0];
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return (t ^ (t >>> 14)) >>> 0;
}

/** A mulberry32 generator: `uniform()` in [0, 1), `normal()` standard normal (Box–Muller, cosine branch). */
export function createRandom(seed: number): { uniform: () => number; normal: () => number } {
  const state = Uint32Array.of(seed >>> 0);
  const uniform = () => next(state) / 4294967296;
  const normal = () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
  return { uniform, normal };
}

/** `n` normal values with the given mean and sd; uniforms in (0, 1) so that the logarithm is finite. */
export function normals(n: number, seed: number, mean = 0, sd = 1): Float64Array {
  const state = Uint32Array.of(seed >>> 0);
  const uniform = () => (next(state) + 0.5) / 4294967296;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = mean + sd * Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  }
  return out;
}
