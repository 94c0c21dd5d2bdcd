// Errors are values with a stable code: callers branch on `code`, operators grep for it,
// and the CLI maps it to an exit status. The message is for humans and may change.

import type { ErrorCode } from './error-codes.js';

export type { ErrorCode } from './error-codes.js';
export type Details = Readonly<Record<string, unknown>>;

export class MssError extends Error {
  readonly code: ErrorCode;
  readonly details: Details;

  /** `code`: one of the lists of ./error-codes.ts. */
  constructor(code: ErrorCode, message: string, details: Details = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MssError';
    this.code = code;
    this.details = details;
  }

  /** A JSON-safe view for logs and `--json` output (never includes the stack). */
  toJSON(): { code: ErrorCode; message: string; details: Details } {
    return { code: this.code, message: this.message, details: this.details };
  }
}

export function isMssError(value: unknown, code?: ErrorCode): value is MssError {
  return value instanceof MssError && (code === undefined || value.code === code);
}

/** Wrap anything thrown into an MssError so that every failure carries a code. */
export function asMssError(value: unknown, fallbackCode: ErrorCode = 'INTERNAL'): MssError {
  if (value instanceof MssError) return value;
  if (value instanceof Error) {
    const sys = value as NodeJS.ErrnoException;
    return new MssError(sys.code ? `SYSTEM_${sys.code}` : fallbackCode, value.message, {}, { cause: value });
  }
  return new MssError(fallbackCode, String(value));
}

/** Outcome of an operation that can legitimately refuse (verification, policy...). */
export type Result<T, E = MssError> = { ok: true; value: T } | { ok: false; error: E };

export const ok = <T>(value: T): Result<T, never> => ({ ok: true, value });
export const fail = <E>(error: E): Result<never, E> => ({ ok: false, error });
