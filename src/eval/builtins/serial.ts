// eval/builtins/serial: serialisation to JSON and XML (toJSON, toXML), sharing the printers of
// --json and --xml; the results carry the context of the strings (and copied paths) inside.
// Never does IO (copying a path to the store goes through the host).

import { ContextBuilder } from '../ops.js';
import { printJSON, printXML } from '../print.js';
import type { EvalState } from '../state.js';
import { mkString, type BuiltinDef } from '../value.js';

export const SERIAL_BUILTINS: BuiltinDef[] = [
  {
    name: 'toJSON',
    arity: 1,
    doc: 'toJSON x: x as compact JSON (attrs sorted, paths copied to the store, sets with outPath or __toString as strings).',
    impl: (st: EvalState, span, a) => {
      const ctx = new ContextBuilder();
      const s = printJSON(st, a, ctx, span);
      return mkString(s, ctx.set);
    },
  },
  {
    name: 'toXML',
    arity: 1,
    doc: 'toXML x: x as the XML document that --xml prints (<expr>…</expr>).',
    impl: (_st, _span, a) => {
      const ctx = new ContextBuilder();
      const s = printXML(a, { strict: true, location: false, ctx });
      return mkString(s, ctx.set);
    },
  },
];
