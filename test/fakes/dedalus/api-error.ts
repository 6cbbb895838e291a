/** An error answer of the fake, in the documented shape `{error_code, message, retryable, retry_after_ms?, details?}`. */
export class FakeApiError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
    readonly retryable = false,
    readonly retryAfterMs?: number,
    /** The documented `details` map: strings only (the OpenAPI types it so). */
    readonly details?: Record<string, string>,
  ) {
    super(message);
  }

  body(): Record<string, unknown> {
    const b: Record<string, unknown> = {
      error_code: this.errorCode,
      message: this.message,
      retryable: this.retryable,
    };
    if (this.retryAfterMs !== undefined) b.retry_after_ms = this.retryAfterMs;
    if (this.details !== undefined) b.details = this.details;
    return b;
  }
}

export const notFound = (what: string) => new FakeApiError(404, 'NOT_FOUND', `${what} not found`);
