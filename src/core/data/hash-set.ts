/**
 * A set of 52-bit hashes (non-negative integers below 2^52, as made by `hashBytes`, `hashNumber`
 * and `combineHashes` in cells.ts), stored in one Float64Array with open addressing and linear
 * probing: 8 bytes per slot and at most 70% of the slots used, so a million rows take 12–24 MB
 * instead of the ~80 MB of a `Set<number>`.
 */

const MIN_CAPACITY = 1024;
// Linear probing stays fast (≈ 2 probes per hit, ≈ 6 per miss) up to this load.
const MAX_LOAD = 0.7;

/** An open-addressing set of 52-bit hashes. Slot value 0 means empty; hash 0 is tracked apart. */
export class HashSet52 {
  private slots: Float64Array;
  private mask: number;
  private shift: number;
  private limit: number;
  private hasZero = false;
  private count = 0;

  /** `expected`: the number of hashes to size for (the set grows as needed anyway). */
  constructor(expected = 0) {
    let capacity = MIN_CAPACITY;
    while (capacity * MAX_LOAD < expected) capacity *= 2;
    this.slots = new Float64Array(capacity);
    this.mask = capacity - 1;
    this.shift = 32 - Math.log2(capacity);
    this.limit = Math.floor(capacity * MAX_LOAD);
  }

  /** Number of distinct hashes in the set. */
  get size(): number {
    return this.count;
  }

  /** Bytes held by the table. */
  get byteLength(): number {
    return this.slots.byteLength;
  }

  /** Adds `hash`; returns true when it was new, false when it was already in the set. */
  add(hash: number): boolean {
    if (hash === 0) {
      if (this.hasZero) return false;
      this.hasZero = true;
      this.count++;
      return true;
    }
    const slots = this.slots;
    const mask = this.mask;
    let i = slotOf(hash, this.shift);
    for (;;) {
      const slot = slots[i];
      if (slot === 0) break;
      if (slot === hash) return false;
      i = (i + 1) & mask;
    }
    slots[i] = hash;
    this.count++;
    if (this.count > this.limit) this.grow();
    return true;
  }

  /** True when `hash` is in the set. */
  has(hash: number): boolean {
    if (hash === 0) return this.hasZero;
    const slots = this.slots;
    const mask = this.mask;
    let i = slotOf(hash, this.shift);
    for (;;) {
      const slot = slots[i];
      if (slot === 0) return false;
      if (slot === hash) return true;
      i = (i + 1) & mask;
    }
  }

  private grow(): void {
    const old = this.slots;
    const capacity = old.length * 2;
    const slots = new Float64Array(capacity);
    const mask = capacity - 1;
    const shift = 32 - Math.log2(capacity);
    for (let k = 0; k < old.length; k++) {
      const hash = old[k];
      if (hash === 0) continue;
      let i = slotOf(hash, shift);
      while (slots[i] !== 0) i = (i + 1) & mask;
      slots[i] = hash;
    }
    this.slots = slots;
    this.mask = mask;
    this.shift = shift;
    this.limit = Math.floor(capacity * MAX_LOAD);
  }
}

/**
 * The home slot of a hash: both 32-bit halves folded, then Fibonacci hashing (the top bits of a
 * multiplication by 2^32/φ), so the set stays fast even for hashes whose low bits repeat.
 */
function slotOf(hash: number, shift: number): number {
  return Math.imul((hash >>> 0) ^ ((hash / 4294967296) >>> 0), 0x9e3779b1) >>> shift;
}
