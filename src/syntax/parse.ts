// syntax/parse: the front end's one entry point. Lexes (tokens.ts), parses (fast-parser.ts; an
// input it rejects goes to parser.ts, the one CstParser instance, whose messages are reported)
// and lowers with static name resolution (lower.ts), returning the core AST or every error
// found. The lexer and parser are built once, on first use.
// Never throws for user errors (an internal bug is a plain Error); never evaluates.

import type { IRecognitionException } from 'chevrotain';
import { chevrotain } from './chevrotain.js';
import { ImgError } from '../base/error.js';
import type { SourceFile, Span } from '../base/source.js';
import type { Expr } from './ast.js';
import { Lowerer } from './lower.js';
import { readCst } from './fast-parser.js';
import { getParser, resetParser } from './parser.js';
import { tokenize } from './tokens.js';

export interface ParseOptions {
  /**
   * The names bound in the outer scopes, outermost first. scopes[0] is the global scope
   * (builtins and constants, slot i = name i); a scopedImport adds one more scope. A variable
   * resolved there gets Var{level = distance, slot = index, global = (it is scopes[0])}.
   */
  scopes: readonly (readonly string[])[];
  /** $HOME for `~/` paths (default process.env.HOME), as a byte string. */
  home?: string;
}

export type ParseResult = { ok: true; expr: Expr } | { ok: false; errors: ImgError[] };

function homeDir(): string {
  return Buffer.from(process.env.HOME ?? '', 'utf8').toString('latin1');
}

export function parse(file: SourceFile, opts: ParseOptions): ParseResult {
  const text = file.text;
  const lexed = tokenize(text);
  if (lexed.errors.length > 0) {
    return {
      ok: false,
      errors: lexed.errors.map((e) => new ImgError('E_LEX', e.message, spanAt(file, e.offset, e.offset + e.length))),
    };
  }
  let parser: ReturnType<typeof getParser> | undefined;
  try {
    // The hand-written reader builds the CST of a well-formed input; only an input it rejects
    // goes through Chevrotain's CstParser, the grammar's reference, for its error messages.
    let cst = readCst(lexed.tokens);
    if (!cst) {
      parser = getParser();
      parser.input = lexed.tokens;
      cst = parser.start();
      if (parser.errors.length > 0) {
        return { ok: false, errors: parser.errors.map((e) => syntaxError(file, e)) };
      }
    }
    const lowerer = new Lowerer(file, { scopes: opts.scopes, home: opts.home ?? homeDir() });
    const expr = lowerer.lowerStart(cst);
    if (lowerer.errors.length > 0) return { ok: false, errors: lowerer.errors };
    return { ok: true, expr };
  } catch (e) {
    // Recursive descent over absurdly deep nesting can exhaust the JS stack: a user error.
    // (If it happened inside Chevrotain, whose rule stack may then be left unbalanced, the next
    // parse builds a fresh CstParser; the hand-written reader keeps no state between parses.)
    if (e instanceof RangeError) {
      if (parser) resetParser();
      return { ok: false, errors: [new ImgError('E_PARSE', 'expression nested too deeply (the parser ran out of stack)', spanAt(file, 0, 0))] };
    }
    throw e;
  } finally {
    if (parser) parser.input = [];
  }
}

function spanAt(file: SourceFile, start: number, end: number): Span {
  const len = file.text.length;
  const s = Math.min(start, len);
  return { file, start: s, end: Math.max(s, Math.min(end, len)) };
}

function syntaxError(file: SourceFile, e: IRecognitionException): ImgError {
  const t = e.token;
  let start = file.text.length;
  let end = start;
  if (t.tokenType !== chevrotain.EOF && !Number.isNaN(t.startOffset)) {
    start = t.startOffset;
    end = t.startOffset + t.image.length;
  }
  return new ImgError('E_PARSE', `syntax error, ${e.message}`, spanAt(file, start, end));
}
