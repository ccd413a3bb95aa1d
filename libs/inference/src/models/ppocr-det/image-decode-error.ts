/**
 * The bytes given as an image could not be decoded. Its `name` is `BadInputError` on purpose:
 * callers classify failures by name (a bad input is a 4xx in the API and unrecoverable in the
 * worker) without importing this class.
 */
export class ImageDecodeError extends Error {
  override name = 'BadInputError' as const;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
