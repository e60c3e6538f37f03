// Helpers for the syntax tests: parsing with Nix 2.8's global names, and the AST without spans.
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { SourceFile } from '../../src/base/source.js';
import { parse, type ParseResult } from '../../src/syntax/index.js';
import { NIX_2_8_GLOBAL_NAMES } from '../../src/syntax/globals.js';

export const HOME = '/fake-home';

export function parseText(text: string, name = '(string)', dir = '/pwd'): ParseResult {
  return parse(new SourceFile(name, text, dir), { scopes: [NIX_2_8_GLOBAL_NAMES], home: HOME });
}

/** Parses a file as the CLI does: latin1 text, relative paths against its folder. */
export function parseFile(path: string, name = path): ParseResult {
  return parseText(readFileSync(path).toString('latin1'), name, dirname(path));
}

/** The AST as plain data without spans and assertion texts (for comparing two parses). */
export function stripSpans(e: unknown): unknown {
  return JSON.parse(
    JSON.stringify(e, (k, v: unknown) => (k === 'span' || k === 'text' ? undefined : typeof v === 'bigint' ? `${v}n` : v)),
  );
}
