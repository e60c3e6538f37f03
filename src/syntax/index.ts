// syntax: the language front end's public face — parse() and the core AST types. Everything
// else in src/syntax is an implementation detail (tokens, the CST parser, lowering).
// Never evaluates anything.

export { parse, type ParseOptions, type ParseResult } from './parse.js';
export type * from './ast.js';
export { NIX_2_8_GLOBAL_NAMES } from './globals.js';
