import { expect } from 'vitest';

/**
 * The error `promise` rejects with, checked to be an instance of `errorClass`, so a test can look
 * at its fields (problems, code, reason) and not only its message.
 */
export async function rejectionOf<ErrorType extends Error>(promise: Promise<unknown>, errorClass: abstract new (...args: never[]) => ErrorType): Promise<ErrorType> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(errorClass);
  return error as ErrorType;
}
