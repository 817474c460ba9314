import type { ImageSchema } from './image-schemas';
import { readImageMessage } from './image-message';
import type { ImageInput } from '../pipeline/image-input';
import type { RawFrameSpec } from '../pipeline/raw-encodings';

/**
 * What an upload's body holds, as its way in (HTTP headers, a topic's type) declares it: encoded
 * image files (sniffed later), one raw camera frame, or one protobuf image message.
 */
export type UploadKind =
  | { kind: 'encoded' }
  | { kind: 'raw'; raw: RawFrameSpec }
  | { kind: 'message'; schema: ImageSchema };

/**
 * Turns the received files into inputs for `UploadFlow.receive`: raw frames get their
 * description; a message is decoded, its raw pixels left in place in the file, or its encoded
 * image streamed to a file of its own in `dir`. Free of HTTP, so that other ways in can use it.
 * @throws AppError invalid_parameter for a malformed message.
 */
export async function unpackUpload(kind: UploadKind, files: readonly string[], dir: string): Promise<{
  inputs: ImageInput[]; capturedAt: string | null; frameId?: string;
}> {
  if (kind.kind === 'encoded') return { inputs: [...files], capturedAt: null };
  if (kind.kind === 'raw') return { inputs: files.map((file) => ({ file, raw: kind.raw })), capturedAt: null };
  const message = await readImageMessage(files[0], kind.schema, dir);
  return { inputs: [message.input], capturedAt: message.capturedAt, frameId: message.frameId };
}
