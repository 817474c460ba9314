import { IMAGE_SCHEMAS } from '../messages/image-schemas';
import { RAW_ENCODINGS } from '../pipeline/raw-encodings';

/**
 * The OpenAPI parts for raw camera frames and protobuf image messages, kept apart from
 * openapi.ts so that the upload routes take them with one spread each.
 */

const binary = { schema: { type: 'string', format: 'binary' } };

/** Query parameters of a raw frame or a protobuf message, on POST /images and /upload. */
export const RAW_FRAME_PARAMETERS = [
  {
    name: 'encoding', in: 'query', required: false,
    description: 'Raw frame pixel layout (ROS / Foxglove names). Makes an application/octet-stream body a raw frame; required for image/x-raw.',
    schema: { enum: RAW_ENCODINGS },
  },
  { name: 'width', in: 'query', required: false, description: 'Raw frame width in pixels', schema: { type: 'integer', minimum: 1 } },
  { name: 'height', in: 'query', required: false, description: 'Raw frame height in pixels', schema: { type: 'integer', minimum: 1 } },
  {
    name: 'step', in: 'query', required: false,
    description: 'Bytes per row, padding included; default width x bytes per pixel. The body must be exactly step x height bytes.',
    schema: { type: 'integer', minimum: 1 },
  },
  {
    name: 'schema', in: 'query', required: false,
    description: 'The message type of an application/x-protobuf body (or header X-Schema); eCAL\'s "proto:" prefix is accepted.',
    schema: { enum: IMAGE_SCHEMAS },
  },
  {
    name: 'X-Schema', in: 'header', required: false,
    description: 'Same as ?schema=', schema: { type: 'string' },
  },
];

/** Request body types of a raw frame and of a protobuf message. */
export const RAW_FRAME_CONTENT = {
  'image/x-raw': {
    ...binary,
    description: 'Raw pixels, step x height bytes, described by ?encoding=&width=&height=&step=. mono16/16UC1 are little-endian and stored as 16-bit grey PNG; 8UC3 is bgr8; Bayer is demosaiced bilinearly.',
  },
  'application/x-protobuf': {
    ...binary,
    description: `One protobuf message: ${IMAGE_SCHEMAS.join(', ')}. Its timestamp becomes captured_at and its frame_id the source when none is given.`,
  },
};
