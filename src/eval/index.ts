// eval: the evaluator's public face. `EvalState` (one session: global scope, imports, host),
// `printValue`/`printJSON`/`printXML`, `forceDeep`, the value classes, and the builtins table.
// Everything IO-related goes through the `EvalHost` that the caller provides.

export { EvalState, type EvalHost, type EvalOptions, type EvalExtension, type FileType, type SearchPathEntry } from './state.js';
export { printValue, printJSON, printXML, forceDeep, escapeNixString } from './print.js';
export { ALL_BUILTINS, GLOBAL_NAMES } from './builtins/index.js';
export { ContextBuilder, callValue, coerceToString } from './ops.js';
export * from './value.js';
