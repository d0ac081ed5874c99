import { hash } from 'node:crypto';
import { normalizeEmail } from '../render/links.js';

/**
 * A set of email addresses that stores 8 bytes per address (the first 64 bits of the SHA-1 of
 * the normalized address) in an open-addressing table of typed arrays. A million addresses take
 * 16-32 MB instead of the ~100 MB of a Set of strings, so dedupe, suppressions and the journal
 * stay flat while a list streams by. Two different addresses share a key with probability
 * n²/2⁶⁵: about 3 in 100 million for a list of a million.
 */
export class AddressSet {
  private hi: Uint32Array;
  private lo: Uint32Array;
  private count = 0;

  constructor(capacity = 1024) {
    let size = 16;
    while (size < capacity * 2) size *= 2;
    this.hi = new Uint32Array(size);
    this.lo = new Uint32Array(size);
  }

  get size(): number {
    return this.count;
  }

  static key(email: string): [number, number] {
    const digest = hash('sha1', normalizeEmail(email), 'buffer') as unknown as Buffer;
    const hi = digest.readUInt32LE(0);
    // 0/0 marks an empty slot.
    const lo = digest.readUInt32LE(4) || 1;
    return [hi, lo];
  }

  has(email: string): boolean {
    const [hi, lo] = AddressSet.key(email);
    return this.find(hi, lo) >= 0;
  }

  /** Adds the address; false when it was already there. */
  add(email: string): boolean {
    const [hi, lo] = AddressSet.key(email);
    if (this.find(hi, lo) >= 0) return false;
    if ((this.count + 1) * 2 > this.hi.length) this.grow();
    this.insert(hi, lo);
    this.count++;
    return true;
  }

  private find(hi: number, lo: number): number {
    const mask = this.hi.length - 1;
    for (let i = hi & mask; ; i = (i + 1) & mask) {
      if (this.lo[i] === 0) return -1;
      if (this.hi[i] === hi && this.lo[i] === lo) return i;
    }
  }

  private insert(hi: number, lo: number): void {
    const mask = this.hi.length - 1;
    let i = hi & mask;
    while (this.lo[i] !== 0) i = (i + 1) & mask;
    this.hi[i] = hi;
    this.lo[i] = lo;
  }

  private grow(): void {
    const oldHi = this.hi;
    const oldLo = this.lo;
    this.hi = new Uint32Array(oldHi.length * 2);
    this.lo = new Uint32Array(oldLo.length * 2);
    for (let i = 0; i < oldHi.length; i++) if (oldLo[i] !== 0) this.insert(oldHi[i]!, oldLo[i]!);
  }
}
