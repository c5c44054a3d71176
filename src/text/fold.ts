// "Smart" folding of typographic characters to their GSM look-alikes: one apostrophe pasted from a
// word processor turns a 160-character GSM message into a 3-part UCS2 one. An account opts in.
import { isGsm } from './gsm.js';

const FOLDS: ReadonlyMap<string, string> = new Map([
  ['\u2018', "'"], // ‘
  ['\u2019', "'"], // ’
  ['\u201a', "'"], // ‚
  ['\u2032', "'"], // ′
  ['\u201c', '"'], // “
  ['\u201d', '"'], // ”
  ['\u201e', '"'], // „
  ['\u2033', '"'], // ″
  ['\u2013', '-'], // –
  ['\u2014', '-'], // —
  ['\u2212', '-'], // −
  ['\u2026', '...'], // …
  ['\u00a0', ' '], // no-break space
  ['\u2009', ' '], // thin space
  ['\u202f', ' '], // narrow no-break space
  ['\u200b', ''], // zero-width space
  ['\u00ad', ''], // soft hyphen
  ['\u2022', '-'], // •
]);

const FOLDABLE = new RegExp(`[${[...FOLDS.keys()].join('')}]`, 'gu');

/**
 * `text` with its typographic characters folded, if that makes it GSM text; otherwise undefined
 * (a text with other characters stays as it is: folding would change it and win nothing).
 */
export function foldToGsm(text: string): string | undefined {
  const folded = text.replace(FOLDABLE, (ch) => FOLDS.get(ch) ?? ch);
  return folded !== text && isGsm(folded) ? folded : undefined;
}
