import { normalizeEmail } from '../render/links.js';
import { ERASED_PREFIX, erasedKey } from '../store/erased-address.js';

/**
 * A set of email addresses that stores 8 bytes per address (a 64-bit hash of the normalized
 * address) in an open-addressing table of typed arrays. A million addresses take 16-32 MB instead
 * of the ~100 MB of a Set of strings, so dedupe, suppressions and the journal stay flat while a
 * list streams by. Two different addresses share a key with probability about n²/2⁶⁵: 3 in 100
 * million for a list of a million. The hash is two 32-bit multiply-xorshift lanes over the UTF-16
 * code units (cyrb53's mixing, both lanes kept): no allocation per address, unlike a crypto digest.
 */

let keyHi = 0;
let keyLo = 0;

function hashAddress(email: string): void {
  const text = normalizeEmail(email);
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  keyHi = h1 >>> 0;
  // 0/0 marks an empty slot.
  keyLo = h2 >>> 0 || 1;
}

export class AddressSet {
  private hi: Uint32Array;
  private lo: Uint32Array;
  private count = 0;
  /** Members that are erased addresses (`sha256:…`): `has` then also asks for an address's hash. */
  private erased = 0;

  constructor(capacity = 1024) {
    let size = 16;
    while (size < capacity * 2) size *= 2;
    this.hi = new Uint32Array(size);
    this.lo = new Uint32Array(size);
  }

  get size(): number {
    return this.count;
  }

  has(email: string): boolean {
    hashAddress(email);
    if (this.find(keyHi, keyLo) >= 0) return true;
    // Erasures are rare: a set without one pays nothing for them.
    if (this.erased === 0 || email.startsWith(ERASED_PREFIX)) return false;
    hashAddress(erasedKey(normalizeEmail(email)));
    return this.find(keyHi, keyLo) >= 0;
  }

  /** Adds the address; false when it was already there. */
  add(email: string): boolean {
    hashAddress(email);
    if (this.find(keyHi, keyLo) >= 0) return false;
    if ((this.count + 1) * 2 > this.hi.length) this.grow();
    this.insert(keyHi, keyLo);
    this.count++;
    if (email.startsWith(ERASED_PREFIX)) this.erased++;
    return true;
  }
  /** Removes the address; false when it was not there. */
  delete(email: string): boolean {
    hashAddress(email);
    let i = this.find(keyHi, keyLo);
    if (i < 0) return false;
    // Backward-shift deletion keeps every probe chain unbroken without tombstones.
    const mask = this.hi.length - 1;
    for (let j = (i + 1) & mask; this.lo[j] !== 0; j = (j + 1) & mask) {
      const home = this.hi[j]! & mask;
      const between = i <= j ? i < home && home <= j : i < home || home <= j;
      if (between) continue;
      this.hi[i] = this.hi[j]!;
      this.lo[i] = this.lo[j]!;
      i = j;
    }
    this.hi[i] = 0;
    this.lo[i] = 0;
    this.count--;
    if (email.startsWith(ERASED_PREFIX)) this.erased--;
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
