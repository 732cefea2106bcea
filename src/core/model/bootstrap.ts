/**
 * Paired, stratified, seeded bootstrap.
 *
 * A resample is a multiplicity vector: `weights[i]` is how many times row i was drawn. Metric code
 * evaluates weighted statistics on it, so rows are never copied; computing the candidate's and the
 * baseline's metrics on the same weights is what makes the bootstrap paired (the interval of their
 * difference then excludes the row-to-row noise they share).
 *
 * Draws come from xoshiro128** (32-bit integer arithmetic only, so every platform draws the same
 * rows for a seed), mapped to [0, size) by Lemire's multiply-shift with rejection (exactly uniform,
 * almost never a division).
 */

/** How to resample. */
export interface BootstrapOptions {
  /** Number of resamples (default 1000). */
  resamples: number;
  /** Seed of the generator: same seed, same resamples (default 0). A safe integer. */
  seed: number;
  /** Confidence level of the percentile intervals (default 0.95). */
  level: number;
  /**
   * Stratum of each row (e.g. its class index, ≥ 0): each resample draws exactly as many rows
   * from every stratum as it has, so class counts are preserved. Undefined: simple resampling.
   */
  strata?: Int32Array;
}

export const DEFAULT_BOOTSTRAP_OPTIONS = {
  resamples: 1000,
  seed: 0,
  level: 0.95,
} as const satisfies BootstrapOptions;

const TWO_POW_32 = 4294967296;
const INVERSE_TWO_POW_32 = 1 / TWO_POW_32;
/** Below this size `x × size` (x < 2³²) stays below 2⁵³, so one float multiplication is exact. */
const EXACT_PRODUCT_LIMIT = 2 ** 21;

/**
 * Draws `options.resamples` multiplicity vectors of `n` rows and calls `visit(weights, r)` for
 * each (r = 0, 1, …). Within each stratum (or over all rows) it draws as many rows as there are,
 * with replacement, so the weights sum to n (and to the stratum's size within a stratum).
 *
 * The SAME Uint32Array is reused for every resample: `visit` must use or copy it before it returns.
 */
export function drawBootstrapWeights(
  n: number,
  options: BootstrapOptions,
  visit: (weights: Uint32Array, r: number) => void,
): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`n must be a non-negative integer; got ${n}`);
  if (n >= 2 ** 31) throw new RangeError(`n must be below 2^31; got ${n}`);
  const resamples = options.resamples;
  if (!Number.isSafeInteger(resamples) || resamples < 1) {
    throw new RangeError(`resamples must be a positive integer; got ${resamples}`);
  }
  const groups = groupStrata(n, options.strata);
  const state = seedState(options.seed);
  const weights = new Uint32Array(n);
  // Draws are counted in bytes, by position in the stratum-grouped order: a byte array is a
  // quarter of the cache footprint of the weights, and cache misses decide the speed of the
  // random increments. A byte overflowing is practically impossible (see drawCounts), and checked.
  const counts = new Uint8Array(n);
  for (let r = 0; r < resamples; r++) {
    counts.fill(0);
    let seen = 0;
    if (groups === undefined) {
      seen = drawCounts(counts, state, 0, n);
      weights.set(counts);
    } else {
      const { rows, offsets } = groups;
      for (let g = 0; g + 1 < offsets.length; g++) {
        const start = offsets[g];
        const size = offsets[g + 1] - start;
        if (size > 0) seen |= drawCounts(counts, state, start, size);
      }
      // Rows ascend within each stratum, so this scatter writes in runs.
      for (let p = 0; p < n; p++) weights[rows[p]] = counts[p];
    }
    if (seen & 256) {
      throw new Error('bootstrap: a row was drawn 256 times in one resample (probability below 1e-500)');
    }
    visit(weights, r);
  }
}

/**
 * The percentile interval [q((1 − level)/2), q((1 + level)/2)] of `samples`, with the linear
 * interpolation of numpy.percentile's default method. NaNs are left out; null when more than half
 * of the samples (or all of them) are NaN, since the interval would then describe a minority.
 */
export function percentileInterval(samples: Float64Array, level: number): [number, number] | null {
  if (!(level > 0 && level < 1)) throw new RangeError(`level must be between 0 and 1; got ${level}`);
  let valid = 0;
  for (let i = 0; i < samples.length; i++) if (!Number.isNaN(samples[i])) valid++;
  if (valid === 0 || samples.length - valid > samples.length / 2) return null;
  const sorted = new Float64Array(valid);
  let j = 0;
  for (let i = 0; i < samples.length; i++) if (!Number.isNaN(samples[i])) sorted[j++] = samples[i];
  sorted.sort();
  return [quantileOfSorted(sorted, (1 - level) / 2), quantileOfSorted(sorted, (1 + level) / 2)];
}

/**
 * Paired bootstrap of k statistics: for each resample, `statistics(weights)` returns k values
 * computed on the same weights (e.g. candidate metrics, then candidate − baseline differences);
 * the result is the percentile interval of each (null where mostly undefined).
 */
export function bootstrapIntervals(
  n: number,
  k: number,
  options: BootstrapOptions,
  statistics: (weights: Uint32Array) => Float64Array,
): ([number, number] | null)[] {
  if (!Number.isSafeInteger(k) || k < 0) throw new RangeError(`k must be a non-negative integer; got ${k}`);
  const samples = Array.from({ length: k }, () => new Float64Array(options.resamples));
  drawBootstrapWeights(n, options, (weights, r) => {
    const values = statistics(weights);
    if (values.length !== k)
      throw new RangeError(`statistics returned ${values.length} values; expected ${k}`);
    for (let s = 0; s < k; s++) samples[s][r] = values[s];
  });
  return samples.map((column) => percentileInterval(column, options.level));
}

/** numpy's "linear" quantile (method 7) of sorted values, interpolating as numpy's `_lerp` does. */
function quantileOfSorted(sorted: Float64Array, quantile: number): number {
  const position = (sorted.length - 1) * quantile;
  const below = Math.floor(position);
  const above = Math.min(below + 1, sorted.length - 1);
  const t = position - below;
  const a = sorted[below];
  const b = sorted[above];
  const difference = b - a;
  // numpy interpolates from the nearer end, which keeps the result monotonic in t.
  return t >= 0.5 ? b - difference * (1 - t) : a + difference * t;
}

/** Rows grouped by stratum: `rows[offsets[g] .. offsets[g+1])` are the rows of stratum g (counting sort). */
function groupStrata(
  n: number,
  strata: Int32Array | undefined,
): { rows: Uint32Array; offsets: Int32Array } | undefined {
  if (strata === undefined) return undefined;
  if (strata.length !== n) throw new RangeError(`strata has ${strata.length} entries for ${n} rows`);
  let count = 0;
  for (let i = 0; i < n; i++) {
    const s = strata[i];
    if (s < 0) throw new RangeError(`strata must be ≥ 0; row ${i} has ${s}`);
    if (s >= count) count = s + 1;
  }
  const offsets = new Int32Array(count + 1);
  for (let i = 0; i < n; i++) offsets[strata[i] + 1]++;
  for (let g = 0; g < count; g++) offsets[g + 1] += offsets[g];
  const next = offsets.slice(0, count);
  const rows = new Uint32Array(n);
  for (let i = 0; i < n; i++) rows[next[strata[i]]++] = i;
  return { rows, offsets };
}

/**
 * Adds `size` draws with replacement from positions `start .. start+size` to `counts`, advancing
 * the generator `state`, and returns the bitwise OR of the counts it wrote: bit 8 set means a
 * byte overflowed. That needs 256 draws of one position: impossible below 256 rows, and for
 * larger strata the probability is under C(s, 256)/s²⁵⁶ < 1/256! per row (about 1e-507), so
 * the caller only checks the bit. The generator runs in locals, written back at the end.
 */
function drawCounts(counts: Uint8Array, state: Uint32Array, start: number, size: number): number {
  if (size > EXACT_PRODUCT_LIMIT) return drawCountsWide(counts, state, start, size);
  let s0 = state[0] | 0;
  let s1 = state[1] | 0;
  let s2 = state[2] | 0;
  let s3 = state[3] | 0;
  // Lemire: a 32-bit x maps to floor(x·size / 2³²); when the low word of x·size is below
  // `reject` (probability < size / 2³²), that x would bias the result, so it is redrawn.
  // x·size < 2⁵³ here, so y = x·size/2³² is exact and its fraction · 2³² is the low word.
  const reject = (TWO_POW_32 - size) % size;
  const scale = size * INVERSE_TWO_POW_32;
  let seen = 0;
  let drawn = 0;
  while (drawn < size) {
    // xoshiro128** (Blackman & Vigna): output rotl(s1·5, 7)·9, then the xorshift state update.
    const m = Math.imul(s1, 5);
    const x = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = (s3 << 11) | (s3 >>> 21);
    const y = x * scale;
    const index = y | 0;
    if ((y - index) * TWO_POW_32 < reject) continue;
    const position = start + index;
    const count = counts[position] + 1;
    counts[position] = count;
    seen |= count;
    drawn++;
  }
  state[0] = s0;
  state[1] = s1;
  state[2] = s2;
  state[3] = s3;
  return seen;
}

/** drawCounts for strata of more than 2²¹ rows, where x·size can exceed 2⁵³: the same draws, computed on 16-bit halves of x. */
function drawCountsWide(counts: Uint8Array, state: Uint32Array, start: number, size: number): number {
  let s0 = state[0] | 0;
  let s1 = state[1] | 0;
  let s2 = state[2] | 0;
  let s3 = state[3] | 0;
  const reject = (TWO_POW_32 - size) % size;
  let seen = 0;
  let drawn = 0;
  while (drawn < size) {
    const m = Math.imul(s1, 5);
    const x = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = (s3 << 11) | (s3 >>> 21);
    if (Math.imul(x, size) >>> 0 < reject) continue;
    // floor(x·size / 2³²) with x = 2¹⁶·high + low: every product stays below 2⁴⁸.
    const index = Math.floor(((x >>> 16) * size + Math.floor(((x & 0xffff) * size) / 65536)) / 65536);
    const position = start + index;
    const count = counts[position] + 1;
    counts[position] = count;
    seen |= count;
    drawn++;
  }
  state[0] = s0;
  state[1] = s1;
  state[2] = s2;
  state[3] = s3;
  return seen;
}

/**
 * One uniform draw in [0, size) from the generator `state` (from `seedState`), advancing it: the
 * draw drawBootstrapWeights makes for one row of a stratum of `size` rows, for callers that need
 * draws one at a time (shuffles, block bootstrap). 1 ≤ size < 2³¹.
 */
export function drawIndex(state: Uint32Array, size: number): number {
  if (!(Number.isInteger(size) && size >= 1 && size < 2 ** 31))
    throw new RangeError(`size must be an integer in [1, 2^31); got ${size}`);
  const reject = (TWO_POW_32 - size) % size;
  for (;;) {
    const s1 = state[1];
    const m = Math.imul(s1, 5);
    const x = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
    const t = s1 << 9;
    state[2] ^= state[0];
    state[3] ^= s1;
    state[1] ^= state[2];
    state[0] ^= state[3];
    state[2] ^= t;
    state[3] = (state[3] << 11) | (state[3] >>> 21);
    // Lemire's rejection on the low word of x·size, then floor(x·size / 2³²) as drawCountsWide.
    if (Math.imul(x, size) >>> 0 < reject) continue;
    return Math.floor(((x >>> 16) * size + Math.floor(((x & 0xffff) * size) / 65536)) / 65536);
  }
}

/**
 * The generator's 128-bit state from a seed. Each word is splitmix32's finalizer (a bijection)
 * of one 32-bit half of the seed, so distinct seeds give distinct states and nearby seeds
 * unrelated streams.
 */
export function seedState(seed: number): Uint32Array {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be a safe integer; got ${seed}`);
  const low = seed >>> 0;
  const high = Math.floor(seed / TWO_POW_32) | 0;
  const halves = [low, high, low ^ 0x5bd1e995, high ^ 0x27d4eb2f];
  const state = new Uint32Array(4);
  for (let i = 0; i < 4; i++) {
    let z = (halves[i] + Math.imul(i + 1, 0x9e3779b9)) | 0;
    z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
    z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
    state[i] = z ^ (z >>> 15);
  }
  // xoshiro's one forbidden state.
  if ((state[0] | state[1] | state[2] | state[3]) === 0) state[0] = 1;
  return state;
}
