// base/error: the one error type for everything a user can cause (syntax, evaluation, store,
// build, image). It carries a stable code, a one-line message, an optional span, notes and a
// trace of frames (calls, attribute forcings, imports, built-ins, derivations), innermost first.
// An internal bug is not an ImgError: the CLI reports it as "internal error".

import type { Span } from './source.js';

export type ErrorCode =
  // syntax
  | 'E_LEX'
  | 'E_PARSE'
  | 'E_DUP_ATTR'
  | 'E_DUP_FORMAL'
  | 'E_UNDEFINED_VAR'
  | 'E_BAD_LITERAL'
  // evaluation
  | 'E_TYPE'
  | 'E_MISSING_ATTR'
  | 'E_THROW'
  | 'E_ASSERT'
  | 'E_ABORT'
  | 'E_INF_REC'
  | 'E_STACK'
  | 'E_CALL'
  | 'E_DIV_ZERO'
  | 'E_COERCE'
  | 'E_EVAL'
  | 'E_IO'
  | 'E_SEARCH_PATH'
  // store, build, image, CLI
  | 'E_DERIVATION'
  | 'E_STORE'
  | 'E_BUILD'
  | 'E_HASH_MISMATCH'
  | 'E_IMAGE'
  | 'E_ARCHIVE'
  | 'E_REGISTRY'
  | 'E_USAGE'
  | (string & {});

export interface TraceFrame {
  /** e.g. `while calling 'f'`, `while evaluating the attribute 'a.b'`, `while importing './x.img'`. */
  readonly message: string;
  readonly span?: Span;
}

export interface ErrorNote {
  readonly message: string;
  readonly span?: Span;
}

export class ImgError extends Error {
  readonly code: ErrorCode;
  span: Span | undefined;
  readonly notes: ErrorNote[];
  readonly trace: TraceFrame[];
  constructor(code: ErrorCode, message: string, span?: Span, notes: ErrorNote[] = []) {
    super(message);
    this.name = 'ImgError';
    this.code = code;
    this.span = span;
    this.notes = notes;
    this.trace = [];
  }

  /** Adds an outer frame (Nix's addTrace). Returns `this` so it can be rethrown. */
  addTrace(message: string, span?: Span): this {
    this.trace.push({ message, span });
    return this;
  }

  /** Sets the span if none is set yet (the innermost position wins). */
  at(span: Span | undefined): this {
    if (!this.span && span) this.span = span;
    return this;
  }
}

export function isImgError(e: unknown): e is ImgError {
  return e instanceof ImgError;
}
