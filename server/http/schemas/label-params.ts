import { COCO_LABELS, type CocoLabel } from '../../image-labels';
import type { StoredImage } from '../../storage/image-store';
import { readParam, type ParamSpec } from './params';

type Raw = string | string[] | undefined;

/** `?label=`: a COCO class name, such as `person` or `traffic light`. */
export const LABEL_PARAM: ParamSpec<CocoLabel> = {
  name: 'label', in: 'query', description: 'Only images labelled with this COCO class (docs/labels.md)',
  schema: { type: 'string', enum: [...COCO_LABELS] }, expected: 'a COCO class name such as person',
  read: (text) => COCO_LABELS.find((name) => name === text),
};

/** `?min_score=`: the lowest score a label filter accepts, 0 to 1. */
export const MIN_SCORE_PARAM: ParamSpec<number> = {
  name: 'min_score', in: 'query', description: 'With label: only labels scored this high or higher',
  schema: { type: 'number', minimum: 0, maximum: 1 }, expected: 'number between 0 and 1',
  read: (text) => {
    const score = /^(0(\.\d+)?|1(\.0+)?|\.\d+)$/.test(text) ? Number(text) : NaN;
    return Number.isNaN(score) ? undefined : score;
  },
};

/** `?boxes=1`: the PNG with its labels' boxes drawn. */
export const BOXES_PARAM: ParamSpec<boolean> = {
  name: 'boxes', in: 'query', description: 'Draw the labels\' boxes and names on the PNG', schema: { type: 'string', enum: ['0', '1'] },
  expected: '0 or 1', read: (text) => (text === '1' ? true : text === '0' ? false : undefined),
};

/**
 * The listing's label filter from `?label=` and `?min_score=`: undefined when no label is named.
 * @throws AppError invalid_parameter for a bad value, or min_score without label.
 */
export function parseLabelFilter(label: Raw, minScore: Raw): ((image: StoredImage) => boolean) | undefined {
  const name = readParam(LABEL_PARAM, label);
  const score = readParam(MIN_SCORE_PARAM, minScore);
  if (name === undefined) {
    if (score !== undefined) readParam({ ...LABEL_PARAM, required: true }, label);
    return undefined;
  }
  return (image) => image.labels?.some((found) => found.name === name && found.score >= (score ?? 0)) ?? false;
}
