// Speck64/128 (Beaulieu et al., "The SIMON and SPECK Families of Lightweight Block Ciphers", 2013):
// a 64-bit block cipher on two 32-bit words, 27 rounds of add-rotate-xor. Used to turn the gateway's
// ordered message numbers into ids that say nothing about its traffic; 32-bit integer arithmetic
// only, so one id costs well under a microsecond.

const ROUNDS = 27;

const ror = (x: number, r: number): number => ((x >>> r) | (x << (32 - r))) >>> 0;
const rol = (x: number, r: number): number => ((x << r) | (x >>> (32 - r))) >>> 0;

export class Speck64 {
  private readonly keys = new Uint32Array(ROUNDS);

  /** `key`: 16 bytes, the words (l2, l1, l0, k0) big-endian, as the paper writes its test vectors. */
  constructor(key: Uint8Array) {
    if (key.length !== 16) throw new RangeError(`a Speck64/128 key is 16 bytes, not ${key.length}`);
    const word = (i: number): number => ((key[i]! << 24) | (key[i + 1]! << 16) | (key[i + 2]! << 8) | key[i + 3]!) >>> 0;
    const l = [word(8), word(4), word(0)];
    let k = word(12);
    for (let i = 0; i < ROUNDS; i++) {
      this.keys[i] = k;
      const li = (((ror(l[i]!, 8) + k) >>> 0) ^ i) >>> 0;
      l.push(li);
      k = (rol(k, 3) ^ li) >>> 0;
    }
  }

  /** The last block encryptWords produced (kept here so the hot path allocates nothing). */
  x = 0;
  y = 0;

  /** Encrypts the block (x, y), x the high word, into this.x and this.y. */
  encryptWords(x: number, y: number): void {
    for (let i = 0; i < ROUNDS; i++) {
      x = (((ror(x, 8) + y) >>> 0) ^ this.keys[i]!) >>> 0;
      y = (rol(y, 3) ^ x) >>> 0;
    }
    this.x = x;
    this.y = y;
  }

  /** Encrypts the block (x, y): x the high word. Returns [x, y]. */
  encrypt(x: number, y: number): [number, number] {
    this.encryptWords(x, y);
    return [this.x, this.y];
  }

  decrypt(x: number, y: number): [number, number] {
    for (let i = ROUNDS - 1; i >= 0; i--) {
      y = ror((y ^ x) >>> 0, 3);
      x = rol((((x ^ this.keys[i]!) >>> 0) - y) >>> 0, 8);
    }
    return [x, y];
  }
}
