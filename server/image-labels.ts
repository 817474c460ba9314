/**
 * The 80 COCO object classes in the detector's class order (class 0 is "person"): the names a
 * label can have, and so what the `label_keep` setting may list. At the base, beside the settings
 * that validate against it.
 */
export const COCO_LABELS = [
  'person', 'bicycle', 'car', 'motorcycle', 'airplane', 'bus', 'train', 'truck', 'boat', 'traffic light',
  'fire hydrant', 'stop sign', 'parking meter', 'bench', 'bird', 'cat', 'dog', 'horse', 'sheep', 'cow',
  'elephant', 'bear', 'zebra', 'giraffe', 'backpack', 'umbrella', 'handbag', 'tie', 'suitcase', 'frisbee',
  'skis', 'snowboard', 'sports ball', 'kite', 'baseball bat', 'baseball glove', 'skateboard', 'surfboard', 'tennis racket', 'bottle',
  'wine glass', 'cup', 'fork', 'knife', 'spoon', 'bowl', 'banana', 'apple', 'sandwich', 'orange',
  'broccoli', 'carrot', 'hot dog', 'pizza', 'donut', 'cake', 'chair', 'couch', 'potted plant', 'bed',
  'dining table', 'toilet', 'tv', 'laptop', 'mouse', 'remote', 'keyboard', 'cell phone', 'microwave', 'oven',
  'toaster', 'sink', 'refrigerator', 'book', 'clock', 'vase', 'scissors', 'teddy bear', 'hair drier', 'toothbrush',
] as const;

/** One COCO class name. */
export type CocoLabel = (typeof COCO_LABELS)[number];

/** One thing found in a stored image. */
export interface ImageLabel {
  name: CocoLabel;
  /** The detector's confidence, 0 to 1, to three decimals. */
  score: number;
  /** Where: [x, y, width, height] in the stored image's pixels. */
  box: [number, number, number, number];
}
