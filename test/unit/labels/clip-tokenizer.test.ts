import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClipTokenizer, CLIP_CONTEXT_LENGTH } from '../../../server/labels/clip-tokenizer';
import { tinyTokenizerJson } from '../../helpers/tiny-clip';

const START = 16;
const END = 17;

/** `tokens` between start and end, padded with end to 77, as CLIP's tokenizer pads. */
function padded(...tokens: number[]): number[] {
  const ids = [START, ...tokens, END];
  return [...ids, ...new Array<number>(CLIP_CONTEXT_LENGTH - ids.length).fill(END)];
}

describe('CLIP tokenizer (byte-level BPE from tokenizer.json)', () => {
  const tokenizer = new ClipTokenizer(tinyTokenizerJson());

  // Each expectation worked out by hand from the tiny vocabulary and merges (test/helpers/tiny-clip.ts).
  it('merges each word by rank: "a red car"', () => {
    // a → a</w> (1); red → r e d</w> → re d</w> → red</w> (6); car → c a r</w> → ca r</w> → car</w> (15)
    assert.deepEqual(tokenizer.encode('a red car').ids, padded(1, 6, 15));
  });

  it('lower-cases, makes runs of white space one and trims', () => {
    assert.deepEqual(tokenizer.encode('  RED\t\n Car ').ids, padded(6, 15));
  });

  it('splits punctuation from letters and keeps a run of it as one word', () => {
    // blue → b l u e</w> → bl u e</w> → blu e</w> → blue</w> (13); !! → ! !</w>, no merge: 19, 18
    assert.deepEqual(tokenizer.encode('Blue!!').ids, padded(13, 19, 18));
  });

  it('leaves a word in pieces where no merge applies', () => {
    // bed → b e d</w>: neither "b e" nor "e d</w>" is a merge: 7, 3, 4
    assert.deepEqual(tokenizer.encode('bed').ids, padded(7, 3, 4));
  });

  it('maps UTF-8 bytes to the byte alphabet before merging', () => {
    // é is 0xC3 0xA9, printed Ã ©; with </w>: "Ã ©</w>" merges to Ã©</w> (20)
    assert.deepEqual(tokenizer.encode('é').ids, padded(20));
  });

  it('gives a symbol outside the vocabulary the unknown token', () => {
    // z is not in the vocabulary; the unknown token is <|endoftext|>, as in CLIP's own file
    assert.deepEqual(tokenizer.encode('z').ids, padded(END));
  });

  it('cuts a long text to 75 tokens between start and end, and masks the padding', () => {
    const long = tokenizer.encode('a '.repeat(100));
    assert.equal(long.ids.length, CLIP_CONTEXT_LENGTH);
    assert.deepEqual(long.ids, [START, ...new Array<number>(75).fill(1), END]);
    assert.deepEqual(long.mask, new Array<number>(77).fill(1));
    const short = tokenizer.encode('red');
    assert.deepEqual(short.mask, [1, 1, 1, ...new Array<number>(74).fill(0)]);
  });

  it('reads merges written as pairs too, and refuses a file without start and end tokens', () => {
    const json = tinyTokenizerJson() as { model: { merges: unknown[] } };
    const pairs = new ClipTokenizer({ ...json, model: { ...json.model, merges: json.model.merges.map((merge) => (merge as string).split(' ')) } });
    assert.deepEqual(pairs.encode('a red car').ids, padded(1, 6, 15));
    assert.throws(() => new ClipTokenizer({ model: { vocab: { a: 0 }, merges: [] } }), /<\|startoftext\|>/);
  });
});
