import { IMAGE_SCHEMAS } from '../../messages/image-schemas';
import { RAW_ENCODINGS } from '../../pipeline/raw-encodings';
import { BINARY, type ParameterDoc, type RequestBodyDoc } from '../documented-route';
import { CAPTURED_AT_PARAM, SOURCE_PARAM } from './params';

/** What an upload (POST /images, POST /upload) takes: its query parameters and its body types. */

/** Query parameters that describe a raw frame or a protobuf message. */
const RAW_FRAME_PARAMS: readonly ParameterDoc[] = [
  {
    name: 'encoding', in: 'query',
    description: 'Raw frame pixel layout (ROS / Foxglove names). Makes an application/octet-stream body a raw frame; required for image/x-raw.',
    schema: { enum: RAW_ENCODINGS },
  },
  { name: 'width', in: 'query', description: 'Raw frame width in pixels', schema: { type: 'integer', minimum: 1 } },
  { name: 'height', in: 'query', description: 'Raw frame height in pixels', schema: { type: 'integer', minimum: 1 } },
  {
    name: 'step', in: 'query',
    description: 'Bytes per row, padding included; default width x bytes per pixel. The body must be exactly step x height bytes.',
    schema: { type: 'integer', minimum: 1 },
  },
  {
    name: 'schema', in: 'query',
    description: 'The message type of an application/x-protobuf body (or header X-Schema); eCAL\'s "proto:" prefix is accepted.',
    schema: { enum: IMAGE_SCHEMAS },
  },
  { name: 'X-Schema', in: 'header', description: 'Same as ?schema=', schema: { type: 'string' } },
];

/** The query parameters of an upload. */
export const UPLOAD_PARAMS: readonly ParameterDoc[] = [SOURCE_PARAM, CAPTURED_AT_PARAM, ...RAW_FRAME_PARAMS];

/** An upload's body: image bytes, a raw frame, a protobuf message, or a form of images. */
export const UPLOAD_BODY: RequestBodyDoc = {
  required: true,
  description: 'An image (image/* or application/octet-stream); a raw frame (image/x-raw): step x height bytes of pixels, described by '
    + '?encoding=&width=&height=&step=, mono16/16UC1 little-endian and stored as 16-bit grey PNG, 8UC3 as bgr8, Bayer demosaiced bilinearly; '
    + `a protobuf message (application/x-protobuf): one of ${IMAGE_SCHEMAS.join(', ')}, whose timestamp becomes captured_at and frame_id the source when none is given; `
    + 'or a form of images.',
  content: {
    'image/*': { schema: BINARY },
    'application/octet-stream': { schema: BINARY },
    'image/x-raw': { schema: BINARY },
    'application/x-protobuf': { schema: BINARY },
    'multipart/form-data': {
      schema: {
        type: 'object',
        properties: { image: { type: 'array', items: BINARY }, source: SOURCE_PARAM.schema, captured_at: CAPTURED_AT_PARAM.schema },
      },
    },
  },
};
