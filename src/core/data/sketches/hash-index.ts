/**
 * Maps 52-bit hashes to small integer indexes (open addressing, linear probing). The profile's
 * exact distinct counting looks up every cell: a `Map` keyed by non-Smi doubles costs several
 * times more per lookup than this table.
 */
export class HashIndex {
  /** hash + 1 per slot (0 = empty; hashes are below 2^52, so + 1 is exact). */
  private keys: Float64Array;
  private indexes: Int32Array;
  private mask: number;
  size = 0;

  constructor(capacity = 1024) {
    this.keys = new Float64Array(capacity);
    this.indexes = new Int32Array(capacity);
    this.mask = capacity - 1;
  }

  /** The index stored for `hash`, or -1. */
  get(hash: number): number {
    const key = hash + 1;
    const keys = this.keys;
    let slot = (hash >>> 0) & this.mask;
    for (;;) {
      const stored = keys[slot];
      if (stored === key) return this.indexes[slot];
      if (stored === 0) return -1;
      slot = (slot + 1) & this.mask;
    }
  }

  /** Stores `index` for a hash that is not in the table yet. */
  insert(hash: number, index: number): void {
    if ((this.size + 1) * 2 > this.keys.length) this.grow();
    const key = hash + 1;
    let slot = (hash >>> 0) & this.mask;
    while (this.keys[slot] !== 0) slot = (slot + 1) & this.mask;
    this.keys[slot] = key;
    this.indexes[slot] = index;
    this.size++;
  }

  /** Every [hash, index] pair, in table order. */
  *entries(): IterableIterator<[number, number]> {
    for (let slot = 0; slot < this.keys.length; slot++) {
      if (this.keys[slot] !== 0) yield [this.keys[slot] - 1, this.indexes[slot]];
    }
  }

  private grow(): void {
    const { keys, indexes } = this;
    this.keys = new Float64Array(keys.length * 2);
    this.indexes = new Int32Array(keys.length * 2);
    this.mask = this.keys.length - 1;
    this.size = 0;
    for (let slot = 0; slot < keys.length; slot++)
      if (keys[slot] !== 0) this.insert(keys[slot] - 1, indexes[slot]);
  }
}
