/**
 * CLIP's text tokenizer, read from a Hugging Face `tokenizer.json`: the text cleaned (NFC,
 * whitespace runs made one space, trimmed, lower-cased), split into words, letter runs, single
 * digits and punctuation runs as CLIP's pattern does, each word's UTF-8 bytes mapped to GPT-2's
 * printable byte alphabet, merged by byte-level BPE with `</w>` on its last symbol, then wrapped
 * in `<|startoftext|>` … `<|endoftext|>` and padded or cut to the context length (77).
 */

/** The context length of every CLIP text model. */
export const CLIP_CONTEXT_LENGTH = 77;

const START = '<|startoftext|>';
const END = '<|endoftext|>';
const WORD_END = '</w>';
/** CLIP's pre-tokenizer: contractions, letter runs, one digit, runs of other non-space characters. */
const WORDS = /'s|'t|'re|'ve|'m|'ll|'d|\p{L}+|\p{N}|[^\s\p{L}\p{N}]+/gu;

/** The parts of tokenizer.json the tokenizer reads. */
interface TokenizerJson {
  model?: { vocab?: Record<string, number>; merges?: (string | [string, string])[]; unk_token?: string | null };
  padding?: { pad_id?: number } | null;
}

/** GPT-2's byte → printable character table: printable bytes map to themselves, the rest past U+0100. */
function byteAlphabet(): string[] {
  const table: string[] = new Array(256);
  let next = 256;
  for (let byte = 0; byte < 256; byte++) {
    const printable = (byte >= 0x21 && byte <= 0x7e) || (byte >= 0xa1 && byte <= 0xac) || (byte >= 0xae && byte <= 0xff);
    table[byte] = String.fromCodePoint(printable ? byte : next++);
  }
  return table;
}

/** A CLIP tokenizer over one tokenizer.json's vocabulary and merges. */
export class ClipTokenizer {
  private readonly vocab: Map<string, number>;
  /** Merge ranks, keyed "left right". */
  private readonly ranks = new Map<string, number>();
  private readonly bytes = byteAlphabet();
  private readonly cache = new Map<string, number[]>();
  private readonly startId: number;
  private readonly endId: number;
  private readonly padId: number;
  private readonly unkId: number | undefined;

  /** @throws Error when the file has no BPE vocabulary or lacks CLIP's start and end tokens. */
  constructor(json: unknown) {
    const model = (json as TokenizerJson).model;
    if (!model?.vocab || !model.merges) throw new Error('tokenizer.json has no BPE vocabulary and merges');
    this.vocab = new Map(Object.entries(model.vocab));
    model.merges.forEach((merge, rank) => this.ranks.set(typeof merge === 'string' ? merge : merge.join(' '), rank));
    const start = this.vocab.get(START);
    const end = this.vocab.get(END);
    if (start === undefined || end === undefined) throw new Error(`tokenizer.json has no ${START} or ${END}`);
    this.startId = start;
    this.endId = end;
    // CLIP pads with <|endoftext|> unless the file names another pad token.
    this.padId = (json as TokenizerJson).padding?.pad_id ?? end;
    this.unkId = model.unk_token ? this.vocab.get(model.unk_token) : undefined;
  }

  /**
   * The ids of `text`: start, the tokens (cut to fit), end, then padding to 77; and the attention
   * mask, 1 on each id up to the end token, 0 on the padding.
   */
  encode(text: string): { ids: number[]; mask: number[] } {
    const tokens: number[] = [];
    const clean = text.normalize('NFC').replace(/\s+/g, ' ').trim().toLowerCase();
    for (const [word] of clean.matchAll(WORDS)) tokens.push(...this.word(word));
    const ids = [this.startId, ...tokens.slice(0, CLIP_CONTEXT_LENGTH - 2), this.endId];
    const mask = ids.map(() => 1);
    while (ids.length < CLIP_CONTEXT_LENGTH) {
      ids.push(this.padId);
      mask.push(0);
    }
    return { ids, mask };
  }

  /** One word's ids by byte-level BPE: the lowest-ranked adjacent pair merged until none is left. */
  private word(word: string): number[] {
    const cached = this.cache.get(word);
    if (cached) return cached;
    const symbols = Array.from(Buffer.from(word, 'utf8'), (byte) => this.bytes[byte]);
    symbols[symbols.length - 1] += WORD_END;
    for (;;) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i < symbols.length - 1; i++) {
        const rank = this.ranks.get(`${symbols[i]} ${symbols[i + 1]}`);
        if (rank !== undefined && rank < bestRank) {
          best = i;
          bestRank = rank;
        }
      }
      if (best < 0) break;
      // Every occurrence of the pair, left to right, as BPE does.
      const [left, right] = [symbols[best], symbols[best + 1]];
      for (let i = 0; i < symbols.length - 1; i++) {
        if (symbols[i] === left && symbols[i + 1] === right) symbols.splice(i, 2, left + right);
      }
    }
    const ids = symbols.flatMap((symbol) => {
      const id = this.vocab.get(symbol) ?? this.unkId;
      return id === undefined ? [] : [id];
    });
    // A bounded cache: queries repeat, but a stream of new words must not grow it without end.
    if (this.cache.size < 10_000) this.cache.set(word, ids);
    return ids;
  }
}
