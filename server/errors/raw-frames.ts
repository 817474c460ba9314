// Raw frames and protobuf image messages.
import { AppError, describeInvalid } from './app-error';

/** 400 for a body that is not a valid message of `typeName`; the reason is cut to 200 characters. */
export function malformedMessage(typeName: string, reason: string, cause?: unknown): AppError {
  return new AppError('invalid_parameter', `The body is not a valid ${typeName} message: ${reason.slice(0, 200)}`, { cause });
}

/** 400 for an image message whose data field is missing or empty. */
export function messageWithoutImage(typeName: string): AppError {
  return new AppError('invalid_parameter', `The ${typeName} message has no image data`);
}

/** 400 for an image message whose timestamp no date can hold. */
export function invalidMessageTime(typeName: string, seconds: number, nanos: number): AppError {
  return new AppError('invalid_parameter', `The ${typeName} message's timestamp (${seconds} s, ${nanos} ns) is not a valid time`);
}

/** 400 for a raw frame whose length is not the `expected` one (stated with its layout). */
export function frameLengthMismatch(expected: string, received: number): AppError {
  const reason = describeInvalid('body length', expected, received);
  return new AppError('invalid_parameter', reason, { fields: { body: reason } });
}
