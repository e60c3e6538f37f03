// syntax/ast: the core AST that lowering produces and the evaluator compiles. It is small and
// already resolved: every variable knows where its value lives, nested attribute paths are
// merged, operators that Nix desugars to calls (`-` `*` `/` `<` …) carry the resolved variable
// they call, and `<p>` search paths are calls to `__findFile __nixPath "p"`.
// Never evaluates anything.
//
// Strings here are byte strings: each JS char code is one byte (0..255), as Nix strings are
// bytes. Source text is decoded as latin1 so that UTF-8 passes through unchanged.
//
// Environments (scopes) at run time: an Env is an array of slots plus a parent pointer. These
// nodes create one Env each: Let (its bindings in order), Attrs with rec=true (its static
// attributes in order), Lambda (simple: [arg]; with formals: the formals in source order, then
// the @-name if any), With (one slot: the with-expression). The outermost Env is the global
// scope (builtins and constants, in the order given to the resolver); a scopedImport adds one
// Env of its names between the global scope and the file.

import type { Span } from '../base/source.js';

export type Expr =
  | IntLit
  | FloatLit
  | StrLit
  | PathLit
  | Interp
  | Var
  | WithVar
  | Select
  | HasAttr
  | Attrs
  | List
  | Let
  | Lambda
  | Call
  | If
  | Assert
  | With
  | Not
  | Neg
  | Arith
  | Compare
  | Add
  | Eq
  | And
  | Or
  | Impl
  | Update
  | Concat
  | CurPos;

interface Base {
  readonly span: Span;
}

/** An integer literal; a JS number when it is a safe integer, else a bigint (always int64). */
export interface IntLit extends Base {
  readonly kind: 'Int';
  readonly value: number | bigint;
}
export interface FloatLit extends Base {
  readonly kind: 'Float';
  readonly value: number;
}
/** A string (or URI) literal with no interpolation. */
export interface StrLit extends Base {
  readonly kind: 'Str';
  readonly value: string;
}
/**
 * A path literal, already absolute and canonical (`.`/`..` resolved, no trailing slash). Two
 * exceptions copied from Nix 2.8: a `~/…` path is $HOME followed by the literal text, not
 * canonicalised (`~/a/../b` stays so); and the first part of an interpolated path keeps its
 * trailing slash (`./a/${x}` starts with Path "/dir/a/"), the evaluator canonicalises the result.
 */
export interface PathLit extends Base {
  readonly kind: 'Path';
  readonly value: string;
}
/**
 * An interpolated string or path: the parts are concatenated. `isPath` when the first part is a
 * path literal (`./a/${x}`), so the result is a path; otherwise every part is coerced to a
 * string (Nix's ExprConcatStrings with forceString). `parts` may be empty (`''''` gives an
 * Interp with no parts, as Nix 2.8 does): the result is then "". A one-part Interp (`"${x}"`)
 * still coerces its part to a string.
 */
export interface Interp extends Base {
  readonly kind: 'Interp';
  readonly parts: readonly Expr[];
  readonly isPath: boolean;
}
/**
 * A lexically bound variable: its value is slot `slot` of the Env `level` steps up from the
 * current one. `global` is true when that Env is the global scope (level = depth of the
 * current scope), which lets the evaluator use a builtin directly.
 */
export interface Var extends Base {
  readonly kind: 'Var';
  readonly name: string;
  readonly level: number;
  readonly slot: number;
  readonly global: boolean;
}
/**
 * A name with no lexical binding under one or more `with`: looked up at run time in the `with`
 * Envs, innermost first. `withLevels` are the levels (steps up from the current Env) of those
 * With Envs, innermost first.
 */
export interface WithVar extends Base {
  readonly kind: 'WithVar';
  readonly name: string;
  readonly withLevels: readonly number[];
}

/** One step of an attribute path: a static name, or an expression giving the name. */
export type AttrName = { readonly name: string; readonly span: Span } | { readonly expr: Expr; readonly span: Span };

export interface Select extends Base {
  readonly kind: 'Select';
  readonly target: Expr;
  readonly path: readonly AttrName[];
  readonly fallback: Expr | undefined;
}
export interface HasAttr extends Base {
  readonly kind: 'HasAttr';
  readonly target: Expr;
  readonly path: readonly AttrName[];
}

/**
 * A static binding in a set or let. `inherited` (from a plain `inherit x;`) means `value` is a
 * Var resolved in the Env *enclosing* the set or let and must be evaluated there.
 */
export interface Binding {
  readonly name: string;
  readonly value: Expr;
  readonly inherited: boolean;
  /** Span of the attribute name, for errors and unsafeGetAttrPos. */
  readonly span: Span;
}
/**
 * `{ ${name} = value; }` — evaluated after the static attributes, in the enclosing scope; for a
 * `rec` set (as in Nix 2.8) both `name` and `value` are resolved in, and must be evaluated in,
 * the set's own Env (they see its static attributes; the dynamic names are never in scope).
 */
export interface DynamicBinding {
  readonly name: Expr;
  readonly value: Expr;
  readonly span: Span;
}
/**
 * An attribute set literal. Static names are unique (duplicates are syntax errors); nested
 * paths are already merged into nested Attrs nodes. When `rec`, the static bindings are the
 * slots of the set's own Env, in this order, and values see them.
 */
export interface Attrs extends Base {
  readonly kind: 'Attrs';
  readonly rec: boolean;
  readonly attrs: readonly Binding[];
  readonly dynamic: readonly DynamicBinding[];
}
export interface List extends Base {
  readonly kind: 'List';
  readonly items: readonly Expr[];
}
/** `let` bindings (the slots of one Env, in order) and a body evaluated in that Env. */
export interface Let extends Base {
  readonly kind: 'Let';
  readonly attrs: readonly Binding[];
  readonly body: Expr;
}
export interface Formal {
  readonly name: string;
  readonly default: Expr | undefined;
  readonly span: Span;
}
/**
 * A function. Simple (`x: body`): `arg` is set, `formals` undefined. Pattern
 * (`{ a, b ? 1, ... } @ args: body`): `formals` in source order, `ellipsis`, `arg` is the
 * @-name or undefined. Env slots: simple → [arg]; pattern → formals…, then the @-name if any.
 */
export interface Lambda extends Base {
  readonly kind: 'Lambda';
  readonly arg: string | undefined;
  readonly formals: readonly Formal[] | undefined;
  readonly ellipsis: boolean;
  readonly body: Expr;
  /** A name for traces when the lambda is bound directly to an attribute or let name. */
  name: string | undefined;
}
/** Application `f a b …`, flattened: `fn` applied to `args` left to right. */
export interface Call extends Base {
  readonly kind: 'Call';
  readonly fn: Expr;
  readonly args: readonly Expr[];
}
export interface If extends Base {
  readonly kind: 'If';
  readonly cond: Expr;
  readonly then: Expr;
  readonly else: Expr;
}
export interface Assert extends Base {
  readonly kind: 'Assert';
  readonly cond: Expr;
  readonly body: Expr;
  /** The condition's source text, for `assertion '<text>' failed`. */
  readonly text: string;
}
export interface With extends Base {
  readonly kind: 'With';
  readonly env: Expr;
  readonly body: Expr;
}
export interface Not extends Base {
  readonly kind: 'Not';
  readonly expr: Expr;
}
/** `-e`: Nix calls `__sub 0 e`; `fn` is the resolved `__sub`. */
export interface Neg extends Base {
  readonly kind: 'Neg';
  readonly expr: Expr;
  readonly fn: Var | WithVar;
}
/** `-` `*` `/`: calls `__sub` / `__mul` / `__div` (the resolved `fn`) on lhs and rhs. */
export interface Arith extends Base {
  readonly kind: 'Arith';
  readonly op: '-' | '*' | '/';
  readonly lhs: Expr;
  readonly rhs: Expr;
  readonly fn: Var | WithVar;
}
/**
 * `<` `>` `<=` `>=` through the resolved `__lessThan`:
 * a<b = lt a b; a>b = lt b a; a<=b = !(lt b a); a>=b = !(lt a b).
 */
export interface Compare extends Base {
  readonly kind: 'Compare';
  readonly op: '<' | '>' | '<=' | '>=';
  readonly lhs: Expr;
  readonly rhs: Expr;
  readonly fn: Var | WithVar;
}
/** `+`: numbers add, a path on the left gives a path, otherwise string concatenation. */
export interface Add extends Base {
  readonly kind: 'Add';
  readonly lhs: Expr;
  readonly rhs: Expr;
}
/** `==` (negated: `!=`). */
export interface Eq extends Base {
  readonly kind: 'Eq';
  readonly lhs: Expr;
  readonly rhs: Expr;
  readonly negated: boolean;
}
export interface And extends Base {
  readonly kind: 'And';
  readonly lhs: Expr;
  readonly rhs: Expr;
}
export interface Or extends Base {
  readonly kind: 'Or';
  readonly lhs: Expr;
  readonly rhs: Expr;
}
export interface Impl extends Base {
  readonly kind: 'Impl';
  readonly lhs: Expr;
  readonly rhs: Expr;
}
/** `//` */
export interface Update extends Base {
  readonly kind: 'Update';
  readonly lhs: Expr;
  readonly rhs: Expr;
}
/** `++` */
export interface Concat extends Base {
  readonly kind: 'Concat';
  readonly lhs: Expr;
  readonly rhs: Expr;
}
/** `__curPos`: `{ file; line; column; }` of its own position. */
export interface CurPos extends Base {
  readonly kind: 'CurPos';
}
