// The character tables of 3GPP TS 23.038 (GSM 03.38) for the 7-bit alphabet: the default
// alphabet (§6.2.1), its extension table (§6.2.1.1), and the national language shift tables of
// Annex A for Turkish, Spanish and Portuguese: single shift tables (A.2.x, used after ESC when
// UDH IE 0x24 names the language) and locking shift tables (A.3.x, replacing the default alphabet
// when UDH IE 0x25 names it). Dense tables are written one row of 16 septets a line; sparse ones
// as [septet, character] pairs. Every character is one UTF-16 code unit.

/** National language identifiers of 3GPP TS 23.038 §6.2.1.2.4 that we carry. */
export const LANGUAGE = { turkish: 1, spanish: 2, portuguese: 3 } as const;

type Entry = readonly [septet: number, char: string];

/** Stands for ESC (0x1B) in the dense tables below; it is not a character, so the table holds ''. */
const ESC_MARK = '\u001b';

/** 8 rows of 16 septets → 128 entries, index = septet; ESC's position becomes ''. */
function dense(name: string, rows: readonly string[]): readonly string[] {
  const table = rows.join('').split('');
  if (rows.length !== 8 || table.length !== 128 || table[0x1b] !== ESC_MARK) throw new Error(`${name}: malformed table`);
  return Object.freeze(table.map((ch) => (ch === ESC_MARK ? '' : ch)));
}

/** [septet, character] pairs → map. ESC (0x1B, reserved for a further extension) and CR2 (0x0D) stay absent. */
function sparse(name: string, entries: readonly Entry[]): ReadonlyMap<number, string> {
  const map = new Map<number, string>();
  for (const [septet, ch] of entries) {
    if (septet < 0 || septet > 0x7f || septet === 0x1b || septet === 0x0d || ch.length !== 1 || map.has(septet)) {
      throw new Error(`${name}: bad entry 0x${septet.toString(16)}`);
    }
    map.set(septet, ch);
  }
  return map;
}

/** The default alphabet: 128 code points, index = septet. Position 0x1B (ESC) is '': not a character. */
export const DEFAULT_ALPHABET: readonly string[] = dense('default alphabet', [
  '@\u00a3$\u00a5\u00e8\u00e9\u00f9\u00ec\u00f2\u00c7\n\u00d8\u00f8\r\u00c5\u00e5', // 0x00 @ £ $ ¥ è é ù ì ò Ç LF Ø ø CR Å å
  '\u0394_\u03a6\u0393\u039b\u03a9\u03a0\u03a8\u03a3\u0398\u039e\u001b\u00c6\u00e6\u00df\u00c9', // 0x10 Δ _ Φ Γ Λ Ω Π Ψ Σ Θ Ξ ESC Æ æ ß É
  ' !"#\u00a4%&\'()*+,-./', // 0x20 ¤ at 0x24
  '0123456789:;<=>?', // 0x30
  '\u00a1ABCDEFGHIJKLMNO', // 0x40 ¡
  'PQRSTUVWXYZ\u00c4\u00d6\u00d1\u00dc\u00a7', // 0x50 Ä Ö Ñ Ü §
  '\u00bfabcdefghijklmno', // 0x60 ¿
  'pqrstuvwxyz\u00e4\u00f6\u00f1\u00fc\u00e0', // 0x70 ä ö ñ ü à
]);

// §6.2.1.1 GSM 7 bit default alphabet extension table. Every single shift table of Annex A used
// here repeats these ten characters at the same positions.
const DEFAULT_EXTENSION_ENTRIES: readonly Entry[] = [
  [0x0a, '\f'], // form feed (page break)
  [0x14, '^'],
  [0x28, '{'],
  [0x29, '}'],
  [0x2f, '\\'],
  [0x3c, '['],
  [0x3d, '~'],
  [0x3e, ']'],
  [0x40, '|'],
  [0x65, '\u20ac'], // €
];

/** The default extension table (after ESC): septet -> character; undefined positions absent. */
export const DEFAULT_EXTENSION: ReadonlyMap<number, string> = sparse('default extension', DEFAULT_EXTENSION_ENTRIES);

// A.2.1 Turkish national language single shift table.
const TURKISH_SINGLE = sparse('Turkish single shift', [
  ...DEFAULT_EXTENSION_ENTRIES,
  [0x47, '\u011e'], // Ğ
  [0x49, '\u0130'], // İ
  [0x53, '\u015e'], // Ş
  [0x63, '\u00e7'], // ç
  [0x67, '\u011f'], // ğ
  [0x69, '\u0131'], // ı
  [0x73, '\u015f'], // ş
]);

// A.2.2 Spanish national language single shift table.
const SPANISH_SINGLE = sparse('Spanish single shift', [
  ...DEFAULT_EXTENSION_ENTRIES,
  [0x09, '\u00e7'], // ç
  [0x41, '\u00c1'], // Á
  [0x49, '\u00cd'], // Í
  [0x4f, '\u00d3'], // Ó
  [0x55, '\u00da'], // Ú
  [0x61, '\u00e1'], // á
  [0x69, '\u00ed'], // í
  [0x6f, '\u00f3'], // ó
  [0x75, '\u00fa'], // ú
]);

// A.2.3 Portuguese national language single shift table.
const PORTUGUESE_SINGLE = sparse('Portuguese single shift', [
  ...DEFAULT_EXTENSION_ENTRIES,
  [0x05, '\u00ea'], // ê
  [0x09, '\u00e7'], // ç
  [0x0b, '\u00d4'], // Ô
  [0x0c, '\u00f4'], // ô
  [0x0e, '\u00c1'], // Á
  [0x0f, '\u00e1'], // á
  [0x12, '\u03a6'], // Φ
  [0x13, '\u0393'], // Γ
  [0x15, '\u03a9'], // Ω
  [0x16, '\u03a0'], // Π
  [0x17, '\u03a8'], // Ψ
  [0x18, '\u03a3'], // Σ
  [0x19, '\u0398'], // Θ
  [0x1f, '\u00ca'], // Ê
  [0x41, '\u00c0'], // À
  [0x49, '\u00cd'], // Í
  [0x4f, '\u00d3'], // Ó
  [0x55, '\u00da'], // Ú
  [0x5b, '\u00c3'], // Ã
  [0x5c, '\u00d5'], // Õ
  [0x61, '\u00c2'], // Â
  [0x69, '\u00ed'], // í
  [0x6f, '\u00f3'], // ó
  [0x75, '\u00fa'], // ú
  [0x7b, '\u00e3'], // ã
  [0x7c, '\u00f5'], // õ
  [0x7f, '\u00e2'], // â
]);

/** Single shift tables by language id: septet -> character (positions the table leaves undefined are absent). */
export const SINGLE_SHIFT: ReadonlyMap<number, ReadonlyMap<number, string>> = new Map([
  [LANGUAGE.turkish, TURKISH_SINGLE],
  [LANGUAGE.spanish, SPANISH_SINGLE],
  [LANGUAGE.portuguese, PORTUGUESE_SINGLE],
]);

// A.3.1 Turkish national language locking shift table: the default alphabet but for 0x04 €,
// 0x07 ı, 0x0B Ğ, 0x0C ğ, 0x1C Ş, 0x1D ş, 0x40 İ and 0x60 ç.
const TURKISH_LOCKING = dense('Turkish locking shift', [
  '@\u00a3$\u00a5\u20ac\u00e9\u00f9\u0131\u00f2\u00c7\n\u011e\u011f\r\u00c5\u00e5', // 0x00 @ £ $ ¥ € é ù ı ò Ç LF Ğ ğ CR Å å
  '\u0394_\u03a6\u0393\u039b\u03a9\u03a0\u03a8\u03a3\u0398\u039e\u001b\u015e\u015f\u00df\u00c9', // 0x10 Δ _ Φ Γ Λ Ω Π Ψ Σ Θ Ξ ESC Ş ş ß É
  ' !"#\u00a4%&\'()*+,-./', // 0x20 ¤ at 0x24
  '0123456789:;<=>?', // 0x30
  '\u0130ABCDEFGHIJKLMNO', // 0x40 İ
  'PQRSTUVWXYZ\u00c4\u00d6\u00d1\u00dc\u00a7', // 0x50 Ä Ö Ñ Ü §
  '\u00e7abcdefghijklmno', // 0x60 ç
  'pqrstuvwxyz\u00e4\u00f6\u00f1\u00fc\u00e0', // 0x70 ä ö ñ ü à
]);

// A.3.2 is void: 3GPP TS 23.038 defines no Spanish locking shift table (Spanish has a single
// shift table only), so LOCKING_SHIFT has no entry for LANGUAGE.spanish.

// A.3.3 Portuguese national language locking shift table.
const PORTUGUESE_LOCKING = dense('Portuguese locking shift', [
  '@\u00a3$\u00a5\u00ea\u00e9\u00fa\u00ed\u00f3\u00e7\n\u00d4\u00f4\r\u00c1\u00e1', // 0x00 @ £ $ ¥ ê é ú í ó ç LF Ô ô CR Á á
  '\u0394_\u00aa\u00c7\u00c0\u221e^\\\u20ac\u00d3|\u001b\u00c2\u00e2\u00ca\u00c9', // 0x10 Δ _ ª Ç À ∞ ^ \ € Ó | ESC Â â Ê É
  ' !"#\u00ba%&\'()*+,-./', // 0x20 º at 0x24
  '0123456789:;<=>?', // 0x30
  '\u00cdABCDEFGHIJKLMNO', // 0x40 Í
  'PQRSTUVWXYZ\u00c3\u00d5\u00da\u00dc\u00a7', // 0x50 Ã Õ Ú Ü §
  '~abcdefghijklmno', // 0x60
  'pqrstuvwxyz\u00e3\u00f5`\u00fc\u00e0', // 0x70 ã õ ` ü à
]);

/** Locking shift tables by language id: 128 entries, index = septet ('' where the table defines nothing). */
export const LOCKING_SHIFT: ReadonlyMap<number, readonly string[]> = new Map([
  [LANGUAGE.turkish, TURKISH_LOCKING],
  [LANGUAGE.portuguese, PORTUGUESE_LOCKING],
]);
