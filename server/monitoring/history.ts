/**
 * A fixed number of the latest samples, one column of numbers per series, so that a page opened
 * now starts with a chart of the last minutes. Memory is allocated once: `capacity` doubles per
 * column, whatever the uptime.
 */
export class History<K extends string> {
  private readonly columns: Record<K, Float64Array>;
  /** Where the next sample goes. */
  private next = 0;
  private count = 0;

  constructor(readonly names: readonly K[], readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`History capacity must be a positive integer, got ${capacity}`);
    this.columns = Object.fromEntries(names.map((name) => [name, new Float64Array(capacity)])) as Record<K, Float64Array>;
  }

  /** How many samples are held, at most `capacity`. */
  get length(): number {
    return this.count;
  }

  /** Adds a sample, dropping the oldest when full; a missing or null value is kept as NaN. */
  push(sample: { [name in K]?: number | null }): void {
    for (const name of this.names) this.columns[name][this.next] = sample[name] ?? NaN;
    this.next = (this.next + 1) % this.capacity;
    this.count = Math.min(this.count + 1, this.capacity);
  }

  /**
   * Every series, oldest sample first, as plain arrays: the shape a chart takes. NaN becomes null
   * so that the result survives JSON.
   */
  toColumns(): Record<K, Array<number | null>> {
    const start = (this.next - this.count + this.capacity) % this.capacity;
    const result = {} as Record<K, Array<number | null>>;
    for (const name of this.names) {
      const column = this.columns[name];
      const values = new Array<number | null>(this.count);
      for (let i = 0; i < this.count; i++) {
        const value = column[(start + i) % this.capacity];
        values[i] = Number.isNaN(value) ? null : value;
      }
      result[name] = values;
    }
    return result;
  }
}
