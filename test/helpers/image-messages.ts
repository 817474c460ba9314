import protobuf from 'protobufjs';

/**
 * Builds the protobuf image messages a publisher sends. The definitions are transcribed here
 * again, on their own, from foxglove/foxglove-sdk schemas/proto/foxglove/*.proto and
 * eclipse-ecal/ecal-camera-samples datatypes_collection/ros/*_pb2.py, so that a wrong field number
 * in the daemon's copy shows up as a failing test rather than agreeing with itself.
 */
const SOURCE = `
syntax = "proto3";
package test;
message Timestamp { int64 seconds = 1; int32 nanos = 2; }
message FoxgloveCompressedImage { Timestamp timestamp = 1; string frame_id = 4; bytes data = 2; string format = 3; string message_id = 100; }
message FoxgloveRawImage { Timestamp timestamp = 1; string frame_id = 7; fixed32 width = 2; fixed32 height = 3; string encoding = 4; fixed32 step = 5; bytes data = 6; }
message RosTime { fixed32 sec = 1; fixed32 nsec = 2; }
message RosHeader { uint32 seq = 1; RosTime stamp = 2; string frame_id = 3; }
message RosCompressedImage { RosHeader header = 1; string format = 2; bytes data = 3; }
message RosImage { RosHeader header = 1; uint32 height = 2; uint32 width = 3; string encoding = 4; int32 is_bigendian = 5; uint32 step = 6; bytes data = 7; }
`;

const root = protobuf.parse(SOURCE, { keepCase: true }).root;

const TYPES = {
  'foxglove.CompressedImage': 'FoxgloveCompressedImage',
  'foxglove.RawImage': 'FoxgloveRawImage',
  'ros.sensor_msgs.CompressedImage': 'RosCompressedImage',
  'ros.sensor_msgs.Image': 'RosImage',
} as const;

/** The wire bytes of one message of `schema` with the given fields (protobufjs object form). */
export function encodeMessage(schema: keyof typeof TYPES, fields: Record<string, unknown>): Buffer {
  const type = root.lookupType(`test.${TYPES[schema]}`);
  const problem = type.verify(fields);
  if (problem) throw new Error(problem);
  return Buffer.from(type.encode(type.fromObject(fields)).finish());
}
