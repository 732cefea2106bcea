/**
 * DDSketch (Masson, Rim & Lee, VLDB 2019): a quantile sketch with a relative-error guarantee.
 * Every value x > 0 goes to bucket ⌈log_γ x⌉ with γ = (1 + α) / (1 − α); the bucket's
 * representative 2γ^i / (γ + 1) is within relative error α of every value in it. Buckets are
 * fixed edges, so two sketches merge exactly by adding bucket counts: the sketch of A ∪ B equals
 * the merge of the sketches of A and B, whatever the order of the values.
 */

/** Values closer to zero than this count in the zero bucket. */
const MIN_INDEXABLE = 1e-300;

/** Counts per bucket index, dense between `offset` and `offset + counts.length`. */
class BucketStore {
  counts = new Float64Array(64);
  offset = 0;
  used = false;
  total = 0;

  add(index: number, count: number): void {
    if (!this.used) {
      this.offset = index - 32;
      this.used = true;
    }
    let position = index - this.offset;
    if (position < 0 || position >= this.counts.length) {
      this.grow(index);
      position = index - this.offset;
    }
    this.counts[position] += count;
    this.total += count;
  }

  private grow(index: number): void {
    const low = Math.min(this.offset, index);
    const high = Math.max(this.offset + this.counts.length, index + 1);
    const length = Math.max(high - low, this.counts.length * 2);
    const padding = Math.floor((length - (high - low)) / 2);
    const newOffset = low - padding;
    const counts = new Float64Array(length);
    counts.set(this.counts, this.offset - newOffset);
    this.counts = counts;
    this.offset = newOffset;
  }

  /** Non-empty buckets as [index, count] pairs, ascending by index. */
  entries(): [number, number][] {
    const out: [number, number][] = [];
    for (let i = 0; i < this.counts.length; i++)
      if (this.counts[i] > 0) out.push([this.offset + i, this.counts[i]]);
    return out;
  }
}

/** Serialized form: bucket index/count pairs per sign, plus the zero count. */
export interface DDSketchState {
  relativeAccuracy: number;
  zero: number;
  positive: [number, number][];
  negative: [number, number][];
}

export class DDSketch {
  readonly relativeAccuracy: number;
  private readonly gamma: number;
  private readonly inverseLogGamma: number;
  private readonly positive = new BucketStore();
  private readonly negative = new BucketStore();
  private zero = 0;

  constructor(relativeAccuracy: number) {
    if (!(relativeAccuracy > 0 && relativeAccuracy < 1))
      throw new RangeError('relativeAccuracy must be in (0, 1)');
    this.relativeAccuracy = relativeAccuracy;
    this.gamma = (1 + relativeAccuracy) / (1 - relativeAccuracy);
    this.inverseLogGamma = 1 / Math.log(this.gamma);
  }

  /** Number of values added. */
  get count(): number {
    return this.zero + this.positive.total + this.negative.total;
  }

  /** Adds a finite value (infinities are clamped by the caller's min/max, not sketched). */
  add(value: number, count = 1): void {
    if (value > MIN_INDEXABLE) this.positive.add(Math.ceil(Math.log(value) * this.inverseLogGamma), count);
    else if (value < -MIN_INDEXABLE)
      this.negative.add(Math.ceil(Math.log(-value) * this.inverseLogGamma), count);
    else this.zero += count;
  }

  /** Adds every bucket of another sketch with the same accuracy. */
  merge(other: DDSketch): void {
    if (other.relativeAccuracy !== this.relativeAccuracy)
      throw new RangeError('cannot merge sketches of different accuracy');
    for (const [index, count] of other.positive.entries()) this.positive.add(index, count);
    for (const [index, count] of other.negative.entries()) this.negative.add(index, count);
    this.zero += other.zero;
  }

  private representative(index: number): number {
    return (2 * this.gamma ** index) / (this.gamma + 1);
  }

  /**
   * Buckets in ascending order of value, as [representative value, count]: the fixed-edge
   * histogram the sketch is.
   */
  buckets(): [number, number][] {
    const out: [number, number][] = [];
    const negative = this.negative.entries();
    for (let i = negative.length - 1; i >= 0; i--)
      out.push([-this.representative(negative[i][0]), negative[i][1]]);
    if (this.zero > 0) out.push([0, this.zero]);
    for (const [index, count] of this.positive.entries()) out.push([this.representative(index), count]);
    return out;
  }

  /**
   * The value at quantile q (0 ≤ q ≤ 1): the representative of the bucket holding the value of
   * rank ⌊q (n − 1)⌋, within relative error α of a true value of that rank.
   */
  quantile(q: number): number {
    const n = this.count;
    if (n === 0) return Number.NaN;
    const rank = Math.floor(q * (n - 1));
    let seen = 0;
    for (const [value, count] of this.buckets()) {
      seen += count;
      if (seen > rank) return value;
    }
    return Number.NaN;
  }

  /** Share of values ≤ x, counting whole buckets whose representative is ≤ x. */
  cumulativeShare(x: number): number {
    const n = this.count;
    if (n === 0) return Number.NaN;
    let below = 0;
    for (const [value, count] of this.buckets()) {
      if (value > x) break;
      below += count;
    }
    return below / n;
  }

  toJSON(): DDSketchState {
    return {
      relativeAccuracy: this.relativeAccuracy,
      zero: this.zero,
      positive: this.positive.entries(),
      negative: this.negative.entries(),
    };
  }

  static fromJSON(state: DDSketchState): DDSketch {
    const sketch = new DDSketch(state.relativeAccuracy);
    sketch.zero = state.zero;
    for (const [index, count] of state.positive) sketch.positive.add(index, count);
    for (const [index, count] of state.negative) sketch.negative.add(index, count);
    return sketch;
  }
}
