import { z } from 'zod';
import { ImageRecordSchema, integer } from './images';

/** An ORB comparison as /compare-features and /compare-images report it. */
export const ComparisonSchema = z.strictObject({
  similarity_score: integer.min(0).max(100),
  good_matches: integer.describe('ORB matches passing the ratio test'),
  inliers: integer.describe('Good matches consistent with one RANSAC homography'),
  match_ratio: z.number().describe('good_matches / keypoints of the poorer image'),
  confidence: z.enum(['high', 'medium', 'low']),
  same_object: z.boolean(),
});

/** GET /images/{id}/similar and POST /search: stored images, nearest first. */
export const SimilarAnswerSchema = z.strictObject({
  query: z.string().nullable().describe('The query image id; null for POST /search; the text for GET /search?text='),
  by: z.enum(['content', 'text']).optional().describe('content: results are by the content embedding; text: by CLIP, for GET /search?text='),
  results: z.array(z.strictObject({
    image: ImageRecordSchema,
    distance: integer.min(0).max(64).optional().describe('Differing bits of the 64-bit perceptual hash (by hash, the default)'),
    similarity: z.number().min(0).max(1).describe('By hash: 1 - distance / 64; by content or text: the cosine of the two embeddings, below 0 shown as 0'),
    verified: ComparisonSchema.optional().describe('With ?verify=true: the ORB comparison with the query image'),
  })),
});

/** POST /compare: the comparison and how far apart the two hashes are. */
export const CompareAnswerSchema = ComparisonSchema.extend({ phash_distance: integer.nullable() });

const FeaturesSchema = z.strictObject({
  keypoints_count: integer,
  descriptors: z.string().describe('base64 of keypoints_count x 32 bytes of ORB descriptors'),
  descriptors_shape: z.tuple([integer, z.literal(32)]),
  keypoints: z.array(z.strictObject({ x: z.number(), y: z.number(), size: z.number(), angle: z.number(), response: z.number(), octave: integer })),
  image_shape: z.tuple([integer, integer]).describe('[height, width] of the reduced image'),
});

/** POST /extract-features (the lost-and-found matcher's shape). */
export const ExtractedFeaturesSchema = z.strictObject({ success: z.literal(true), features: FeaturesSchema });

/** POST /compare-features and /compare-images (the lost-and-found matcher's shape). */
export const MatcherComparisonSchema = z.strictObject({ success: z.literal(true), comparison: ComparisonSchema });

/** The components of similar images, search and comparison, spread into API_SCHEMAS. */
export const SIMILARITY_SCHEMAS = {
  SimilarAnswer: SimilarAnswerSchema,
  CompareAnswer: CompareAnswerSchema,
  FeatureSet: FeaturesSchema,
  ExtractedFeatures: ExtractedFeaturesSchema,
  MatcherComparison: MatcherComparisonSchema,
};

/** The similarity part of GET /memory_status. */
export const SimilarityStatusSchema = z.strictObject({
  indexed_images: integer,
  index_bytes: integer,
  backfill: z.strictObject({ pending: integer, done: integer, failed: integer }),
  hashing: z.strictObject({ pending: integer, done: integer, failed: integer })
    .describe('New images, hashed after their upload was answered once uploads have paused: pending, done and failed since start'),
  duplicates: z.record(z.string(), integer).describe('Uploads not stored as near-duplicates, by source'),
  feature_worker: z.strictObject({ running: z.boolean(), starts: integer }),
});
