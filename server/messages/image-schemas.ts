import type { Root, Type } from 'protobufjs';
import { invalidParam } from '../errors';

/**
 * The protobuf image messages the daemon decodes, written from their published field numbers and
 * types (facts of the wire format), kept as strings so the compiled daemon needs no .proto files:
 * - foxglove.CompressedImage and foxglove.RawImage: foxglove/foxglove-sdk,
 *   schemas/proto/foxglove/{CompressedImage,RawImage}.proto (@foxglove/schemas); width, height and
 *   step are fixed32, and frame_id is field 7 of RawImage but 4 of CompressedImage.
 * - ros.*: eclipse-ecal/ecal-camera-samples, ecal_camera_snd_python/datatypes_collection/ros
 *   (builtins_pb2.py, std_msgs/Header_pb2.py, sensor_msgs/{Image,CompressedImage}_pb2.py), where
 *   ros.Time has sec and nsec as fixed32 and is_bigendian is an int32.
 * Fields these messages carry that the daemon has no use for (lineage, message_id) are left out:
 * protobuf skips unknown fields.
 */
const PROTO_FILES = [
  `syntax = "proto3";
  package google.protobuf;
  message Timestamp { int64 seconds = 1; int32 nanos = 2; }`,
  `syntax = "proto3";
  package foxglove;
  message CompressedImage {
    google.protobuf.Timestamp timestamp = 1;
    bytes data = 2;
    string format = 3;
    string frame_id = 4;
  }
  message RawImage {
    google.protobuf.Timestamp timestamp = 1;
    fixed32 width = 2;
    fixed32 height = 3;
    string encoding = 4;
    fixed32 step = 5;
    bytes data = 6;
    string frame_id = 7;
  }`,
  `syntax = "proto3";
  package ros;
  message Time { fixed32 sec = 1; fixed32 nsec = 2; }`,
  `syntax = "proto3";
  package ros.std_msgs;
  message Header { uint32 seq = 1; ros.Time stamp = 2; string frame_id = 3; }`,
  `syntax = "proto3";
  package ros.sensor_msgs;
  message CompressedImage { ros.std_msgs.Header header = 1; string format = 2; bytes data = 3; }
  message Image {
    ros.std_msgs.Header header = 1;
    uint32 height = 2;
    uint32 width = 3;
    string encoding = 4;
    int32 is_bigendian = 5;
    uint32 step = 6;
    bytes data = 7;
  }`,
];

/** The message types a body may be, by their full protobuf names. */
export const IMAGE_SCHEMAS = [
  'foxglove.CompressedImage',
  'foxglove.RawImage',
  'ros.sensor_msgs.CompressedImage',
  'ros.sensor_msgs.Image',
] as const;

/** One of {@link IMAGE_SCHEMAS}. */
export type ImageSchema = (typeof IMAGE_SCHEMAS)[number];

/**
 * A schema name as a client gives it: the full name, or eCAL's topic type form
 * `proto:foxglove.CompressedImage`.
 * @throws AppError invalid_parameter for a missing or unknown schema, listing the known ones.
 */
export function parseImageSchema(value: string | undefined): ImageSchema {
  const name = value?.trim().replace(/^proto:/, '');
  const schema = IMAGE_SCHEMAS.find((known) => known === name);
  if (!schema) throw invalidParam('schema', `one of ${IMAGE_SCHEMAS.join(', ')} (optionally prefixed with proto:)`, value ?? null);
  return schema;
}

let root: Root | undefined;

/**
 * The decoder of one message type. protobufjs and the parsed schemas are loaded at the first
 * message: a daemon that is only sent encoded images never pays for them.
 */
export function messageType(schema: ImageSchema): Type {
  if (!root) {
    const protobuf = require('protobufjs') as typeof import('protobufjs');
    const parsed = new protobuf.Root();
    for (const source of PROTO_FILES) protobuf.parse(source, parsed, { keepCase: true });
    root = parsed;
  }
  return root.lookupType(schema);
}
