/**
 * HyperLogLog (Flajolet et al. 2007) over the 52-bit hashes of cells.ts, with linear counting
 * for small cardinalities (Heule et al. 2013). Relative standard error ≈ 1.04 / √(2^p).
 * Merging is the register-wise maximum, so it is exact: merge(A, B) = sketch(A ∪ B).
 */

export class HyperLogLog {
  readonly precision: number;
  readonly registers: Uint8Array;

  constructor(precision: number, registers?: Uint8Array) {
    if (!(precision >= 4 && precision <= 18)) throw new RangeError('HyperLogLog precision must be in 4…18');
    this.precision = precision;
    this.registers = registers ?? new Uint8Array(1 << precision);
  }

  /** Relative standard error of the estimate. */
  get relativeError(): number {
    return 1.04 / Math.sqrt(this.registers.length);
  }

  /** Adds a 52-bit hash (as made by cells.ts: 32 high bits, then 20 low bits). */
  add(hash: number): void {
    // Bit arithmetic instead of divisions: this runs once per cell. Multiplying by 2^-20 is exact.
    const high = (hash * 9.5367431640625e-7) >>> 0; // top 32 of the 52 bits
    const index = high >>> (32 - this.precision);
    const rest = (high << this.precision) >>> 0; // the remaining 32 - p high bits, left-aligned
    let rank: number;
    if (rest !== 0) rank = Math.clz32(rest) + 1;
    else {
      const low = ((hash - high * 1048576) << 12) >>> 0; // the 20 low bits, left-aligned
      rank = 32 - this.precision + (low === 0 ? 20 : Math.clz32(low)) + 1;
    }
    if (rank > this.registers[index]) this.registers[index] = rank;
  }

  merge(other: HyperLogLog): void {
    if (other.precision !== this.precision)
      throw new RangeError('cannot merge HyperLogLogs of different precision');
    for (let i = 0; i < this.registers.length; i++)
      if (other.registers[i] > this.registers[i]) this.registers[i] = other.registers[i];
  }

  /** The cardinality estimate. */
  estimate(): number {
    const m = this.registers.length;
    let sum = 0;
    let zeros = 0;
    for (let i = 0; i < m; i++) {
      sum += 2 ** -this.registers[i];
      if (this.registers[i] === 0) zeros++;
    }
    const alpha = m >= 128 ? 0.7213 / (1 + 1.079 / m) : m === 64 ? 0.709 : m === 32 ? 0.697 : 0.673;
    const raw = (alpha * m * m) / sum;
    if (raw <= 2.5 * m && zeros > 0) return Math.round(m * Math.log(m / zeros));
    return Math.round(raw);
  }

  toBase64(): string {
    return Buffer.from(this.registers.buffer, this.registers.byteOffset, this.registers.byteLength).toString(
      'base64',
    );
  }

  static fromBase64(precision: number, text: string): HyperLogLog {
    const bytes = Buffer.from(text, 'base64');
    if (bytes.length !== 1 << precision)
      throw new RangeError('HyperLogLog registers do not match the precision');
    return new HyperLogLog(precision, new Uint8Array(bytes));
  }
}
