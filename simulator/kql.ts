/**
 * A small, strict Kusto (KQL) interpreter for the Log Analytics query API: a table name, then `|`-separated
 * `where`, `extend`, `summarize … by …`, `order by` / `sort by`, `take` / `limit` and `project` over scalar
 * expressions (comparisons, `and` / `or` / `not()`, `in` / `!in`, `toint`, `tolong`, `tostring`, `parse_json(x).f`,
 * `isempty`, `isnotempty`, `ago`, `now`, `datetime()`), typed statically like Kusto so that a query comparing a
 * string with a number fails. Anything outside this subset is refused with Log Analytics' 400 error body naming
 * what is not supported: `SyntaxError` (SYN0002, with line and position) or `SemanticError` (SEM0100).
 */

export type KqlType = 'string' | 'datetime' | 'long' | 'int' | 'real' | 'bool' | 'dynamic';

export interface KqlTable {
  columns: { name: string; type: KqlType }[];
  rows: Record<string, unknown>[];
}

export interface KqlResult {
  columns: { name: string; type: KqlType }[];
  rows: unknown[][];
}

/** Why a query was refused; `kind` selects Log Analytics' inner error code. */
export class KqlError extends Error {
  constructor(
    readonly kind: 'SyntaxError' | 'SemanticError',
    message: string,
    readonly where?: { line: number; pos: number; token: string },
  ) {
    super(message);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Tokens

type TokKind = 'ident' | 'number' | 'string' | 'timespan' | 'op' | 'raw' | 'eof';
interface Tok {
  kind: TokKind;
  text: string;
  value?: number | string;
  at: number;
}

const TIMESPAN_UNITS: Record<string, number> = {
  d: 86_400_000,
  h: 3_600_000,
  m: 60_000,
  s: 1000,
  ms: 1,
};

function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  const ops = ['==', '!=', '=~', '!~', '>=', '<=', '!in', '|', '(', ')', ',', '.', '=', '<', '>', '[', ']'];
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '/' && src[i + 1] === '/') {
      while (i < src.length && src[i] !== '\n') i++;
      continue;
    }
    const start = i;
    if (/[A-Za-z_]/.test(c)) {
      while (i < src.length && /[A-Za-z0-9_]/.test(src[i])) i++;
      const text = src.slice(start, i);
      out.push({ kind: 'ident', text, at: start });
      // datetime(...) takes a raw literal.
      if (text === 'datetime') {
        let j = i;
        while (j < src.length && /\s/.test(src[j])) j++;
        if (src[j] === '(') {
          const close = src.indexOf(')', j);
          if (close < 0) throw syntax(src, j, '(');
          out.push({ kind: 'op', text: '(', at: j });
          out.push({ kind: 'raw', text: src.slice(j + 1, close).trim(), at: j + 1 });
          out.push({ kind: 'op', text: ')', at: close });
          i = close + 1;
        }
      }
      continue;
    }
    if (/[0-9]/.test(c)) {
      while (i < src.length && /[0-9.]/.test(src[i])) i++;
      const num = src.slice(start, i);
      const unit = /^(ms|d|h|m|s)(?![A-Za-z0-9_])/.exec(src.slice(i));
      if (unit) {
        i += unit[1].length;
        out.push({
          kind: 'timespan',
          text: src.slice(start, i),
          value: Number(num) * TIMESPAN_UNITS[unit[1]],
          at: start,
        });
      } else {
        if (!/^\d+(\.\d+)?$/.test(num)) throw syntax(src, start, num);
        out.push({ kind: 'number', text: num, value: Number(num), at: start });
      }
      continue;
    }
    if (c === "'" || c === '"') {
      let j = i + 1;
      let s = '';
      while (j < src.length && src[j] !== c) {
        if (src[j] === '\\' && j + 1 < src.length) {
          const e = src[j + 1];
          s += e === 'n' ? '\n' : e === 't' ? '\t' : e;
          j += 2;
        } else s += src[j++];
      }
      if (j >= src.length) throw syntax(src, start, src.slice(start, start + 10));
      out.push({ kind: 'string', text: src.slice(start, j + 1), value: s, at: start });
      i = j + 1;
      continue;
    }
    const op = ops.find((o) => src.startsWith(o, i) && !(o === '!in' && /[A-Za-z0-9_]/.test(src[i + 3] ?? '')));
    if (!op) throw syntax(src, start, c);
    out.push({ kind: 'op', text: op, at: start });
    i += op.length;
  }
  out.push({ kind: 'eof', text: '<EOF>', at: src.length });
  return out;
}

function lineAndPos(src: string, at: number): { line: number; pos: number } {
  const before = src.slice(0, at).split('\n');
  return { line: before.length, pos: before[before.length - 1].length };
}

function syntax(src: string, at: number, token: string): KqlError {
  const { line, pos } = lineAndPos(src, at);
  return new KqlError('SyntaxError', `Query could not be parsed at '${token}' on line [${line},${pos}]`, {
    line,
    pos,
    token,
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Expressions

type Expr =
  | { k: 'col'; name: string }
  | { k: 'lit'; type: KqlType; v: unknown }
  | { k: 'call'; fn: string; args: Expr[] }
  | { k: 'member'; obj: Expr; field: string }
  | { k: 'bin'; op: string; l: Expr; r: Expr }
  | { k: 'in'; neg: boolean; l: Expr; list: Expr[] }
  | { k: 'not'; e: Expr };

type Operator =
  | { op: 'where'; pred: Expr }
  | { op: 'extend'; items: { name: string; e: Expr }[] }
  | { op: 'summarize'; aggs: { name: string; fn: string; arg?: Expr }[]; by: string[] }
  | { op: 'order'; keys: { name: string; desc: boolean }[] }
  | { op: 'take'; n: number }
  | { op: 'project'; cols: string[] };

const SCALAR_FUNCTIONS: Record<string, number> = {
  toint: 1,
  tolong: 1,
  tostring: 1,
  parse_json: 1,
  todynamic: 1,
  isempty: 1,
  isnotempty: 1,
  ago: 1,
  now: 0,
  datetime: 1,
  not: 1,
  tolower: 1,
  toupper: 1,
};
const AGGREGATES = ['count', 'countif', 'max', 'min', 'dcount'];

class Parser {
  private i = 0;
  constructor(
    private readonly src: string,
    private readonly toks: Tok[],
  ) {}

  private get t(): Tok {
    return this.toks[this.i];
  }
  private fail(t: Tok = this.t): never {
    throw syntax(this.src, t.at, t.text);
  }
  private next(): Tok {
    return this.toks[this.i++];
  }
  private isOp(text: string): boolean {
    return this.t.kind === 'op' && this.t.text === text;
  }
  private isWord(text: string): boolean {
    return this.t.kind === 'ident' && this.t.text === text;
  }
  private expectOp(text: string): void {
    if (!this.isOp(text)) this.fail();
    this.i++;
  }
  private ident(): string {
    if (this.t.kind !== 'ident') this.fail();
    return this.next().text;
  }

  query(): { table: string; ops: Operator[]; tableTok: Tok } {
    const tableTok = this.t;
    const table = this.ident();
    const ops: Operator[] = [];
    while (this.isOp('|')) {
      this.i++;
      ops.push(this.operator());
    }
    if (this.t.kind !== 'eof') this.fail();
    return { table, ops, tableTok };
  }

  private operator(): Operator {
    const t = this.t;
    const word = this.ident();
    switch (word) {
      case 'where':
      case 'filter':
        return { op: 'where', pred: this.expr() };
      case 'extend': {
        const items = [this.assignment()];
        while (this.isOp(',')) {
          this.i++;
          items.push(this.assignment());
        }
        return { op: 'extend', items };
      }
      case 'summarize': {
        const aggs: { name: string; fn: string; arg?: Expr }[] = [];
        if (!this.isWord('by')) {
          aggs.push(this.aggregate());
          while (this.isOp(',')) {
            this.i++;
            aggs.push(this.aggregate());
          }
        }
        const by: string[] = [];
        if (this.isWord('by')) {
          this.i++;
          by.push(this.ident());
          while (this.isOp(',')) {
            this.i++;
            by.push(this.ident());
          }
        }
        if (aggs.length === 0 && by.length === 0) this.fail();
        return { op: 'summarize', aggs, by };
      }
      case 'order':
      case 'sort': {
        if (!this.isWord('by')) this.fail();
        this.i++;
        const keys = [this.orderKey()];
        while (this.isOp(',')) {
          this.i++;
          keys.push(this.orderKey());
        }
        return { op: 'order', keys };
      }
      case 'take':
      case 'limit': {
        if (this.t.kind !== 'number' || !Number.isInteger(this.t.value)) this.fail();
        return { op: 'take', n: Number(this.next().value) };
      }
      case 'project': {
        const cols = [this.ident()];
        while (this.isOp(',')) {
          this.i++;
          cols.push(this.ident());
        }
        if (this.isOp('=')) throw unsupported("'project' with computed columns (use 'extend' first)");
        return { op: 'project', cols };
      }
      default:
        throw new KqlError(
          'SemanticError',
          `'${word}' is not supported by the simulator's Log Analytics (supported operators: where, extend, summarize, order by, sort by, take, limit, project)`,
          { ...lineAndPos(this.src, t.at), token: word },
        );
    }
  }

  private assignment(): { name: string; e: Expr } {
    const name = this.ident();
    this.expectOp('=');
    return { name, e: this.expr() };
  }

  private aggregate(): { name: string; fn: string; arg?: Expr } {
    let name: string | undefined;
    if (this.t.kind === 'ident' && this.toks[this.i + 1]?.text === '=' && this.toks[this.i + 1].kind === 'op') {
      name = this.ident();
      this.i++;
    }
    const fnTok = this.t;
    const fn = this.ident();
    if (!AGGREGATES.includes(fn))
      throw new KqlError(
        'SemanticError',
        `'summarize' operator: aggregation '${fn}' is not supported by the simulator (supported: ${AGGREGATES.join(', ')})`,
        { ...lineAndPos(this.src, fnTok.at), token: fn },
      );
    this.expectOp('(');
    let arg: Expr | undefined;
    if (!this.isOp(')')) arg = this.expr();
    this.expectOp(')');
    if (fn === 'count' && arg) this.fail(fnTok);
    if (fn !== 'count' && !arg) this.fail(fnTok);
    const defaultName =
      fn === 'count' ? 'count_' : arg?.k === 'col' && fn !== 'countif' ? `${fn}_${arg.name}` : `${fn}_`;
    return { name: name ?? defaultName, fn, ...(arg ? { arg } : {}) };
  }

  private orderKey(): { name: string; desc: boolean } {
    const name = this.ident();
    let desc = true;
    if (this.isWord('asc') || this.isWord('desc')) desc = this.next().text === 'desc';
    if (this.isWord('nulls')) throw unsupported("'nulls first|last' in 'order by'");
    return { name, desc };
  }

  expr(): Expr {
    let l = this.andExpr();
    while (this.isWord('or')) {
      this.i++;
      l = { k: 'bin', op: 'or', l, r: this.andExpr() };
    }
    return l;
  }

  private andExpr(): Expr {
    let l = this.comparison();
    while (this.isWord('and')) {
      this.i++;
      l = { k: 'bin', op: 'and', l, r: this.comparison() };
    }
    return l;
  }

  private comparison(): Expr {
    const l = this.operand();
    const t = this.t;
    if (t.kind === 'op' && ['==', '!=', '=~', '!~', '<', '<=', '>', '>='].includes(t.text)) {
      this.i++;
      return { k: 'bin', op: t.text, l, r: this.operand() };
    }
    if ((t.kind === 'ident' && t.text === 'in') || (t.kind === 'op' && t.text === '!in')) {
      this.i++;
      if (this.isOp('~')) this.fail();
      this.expectOp('(');
      const list = [this.operand()];
      while (this.isOp(',')) {
        this.i++;
        list.push(this.operand());
      }
      this.expectOp(')');
      return { k: 'in', neg: t.text === '!in', l, list };
    }
    if (t.kind === 'ident' && ['contains', 'has', 'startswith', 'endswith', 'matches', 'between'].includes(t.text))
      throw unsupported(`the '${t.text}' operator`);
    return l;
  }

  private operand(): Expr {
    let e = this.primary();
    while (this.isOp('.') || this.isOp('[')) {
      if (this.isOp('.')) {
        this.i++;
        e = { k: 'member', obj: e, field: this.ident() };
      } else {
        this.i++;
        if (this.t.kind !== 'string') this.fail();
        const field = String(this.next().value);
        this.expectOp(']');
        e = { k: 'member', obj: e, field };
      }
    }
    return e;
  }

  private primary(): Expr {
    const t = this.t;
    if (t.kind === 'string') {
      this.i++;
      return { k: 'lit', type: 'string', v: t.value };
    }
    if (t.kind === 'number') {
      this.i++;
      return { k: 'lit', type: Number.isInteger(t.value) && !t.text.includes('.') ? 'long' : 'real', v: t.value };
    }
    if (t.kind === 'timespan') throw unsupported('timespan values outside ago()');
    if (this.isOp('(')) {
      this.i++;
      const e = this.expr();
      this.expectOp(')');
      return e;
    }
    if (t.kind === 'ident') {
      this.i++;
      if (t.text === 'true' || t.text === 'false') return { k: 'lit', type: 'bool', v: t.text === 'true' };
      if (!this.isOp('(')) return { k: 'col', name: t.text };
      if (!(t.text in SCALAR_FUNCTIONS))
        throw new KqlError('SemanticError', `Function '${t.text}' is not supported by the simulator`, {
          ...lineAndPos(this.src, t.at),
          token: t.text,
        });
      this.i++;
      if (t.text === 'datetime') {
        const raw = this.t;
        if (raw.kind !== 'raw') this.fail();
        this.i++;
        this.expectOp(')');
        const ms = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(raw.text) ? raw.text : `${raw.text}Z`);
        if (Number.isNaN(ms)) this.fail(raw);
        return { k: 'lit', type: 'datetime', v: ms };
      }
      if (t.text === 'ago') {
        const span = this.t;
        if (span.kind !== 'timespan') this.fail();
        this.i++;
        this.expectOp(')');
        return { k: 'call', fn: 'ago', args: [{ k: 'lit', type: 'long', v: span.value }] };
      }
      const args: Expr[] = [];
      if (!this.isOp(')')) {
        args.push(this.expr());
        while (this.isOp(',')) {
          this.i++;
          args.push(this.expr());
        }
      }
      this.expectOp(')');
      if (args.length !== SCALAR_FUNCTIONS[t.text])
        throw new KqlError(
          'SemanticError',
          `Function '${t.text}' expects ${SCALAR_FUNCTIONS[t.text]} argument(s), got ${args.length}`,
        );
      if (t.text === 'not') return { k: 'not', e: args[0] };
      return { k: 'call', fn: t.text, args };
    }
    this.fail();
  }
}

function unsupported(what: string): KqlError {
  return new KqlError('SemanticError', `${what} is not supported by the simulator's Log Analytics`);
}

// ---------------------------------------------------------------------------------------------------------------
// Types

type Schema = Map<string, KqlType>;
const NUMERIC: KqlType[] = ['int', 'long', 'real'];

function comparable(a: KqlType, b: KqlType): boolean {
  if (a === 'dynamic' || b === 'dynamic') return true;
  if (NUMERIC.includes(a) && NUMERIC.includes(b)) return true;
  return a === b;
}

function typeOf(e: Expr, schema: Schema): KqlType {
  switch (e.k) {
    case 'col': {
      const t = schema.get(e.name);
      if (!t) throw new KqlError('SemanticError', `Failed to resolve scalar expression named '${e.name}'`);
      return t;
    }
    case 'lit':
      return e.type;
    case 'member':
      if (typeOf(e.obj, schema) !== 'dynamic')
        throw new KqlError('SemanticError', `Member access ('.${e.field}') needs a dynamic value (use parse_json)`);
      return 'dynamic';
    case 'not': {
      if (typeOf(e.e, schema) !== 'bool') throw new KqlError('SemanticError', "'not' expects a boolean argument");
      return 'bool';
    }
    case 'in': {
      const l = typeOf(e.l, schema);
      for (const x of e.list) {
        if (x.k !== 'lit') throw unsupported("non-literal values in 'in (…)'");
        if (!comparable(l, x.type))
          throw new KqlError('SemanticError', `'in' operator: cannot compare values of types ${l} and ${x.type}`);
      }
      return 'bool';
    }
    case 'bin': {
      const l = typeOf(e.l, schema);
      const r = typeOf(e.r, schema);
      if (e.op === 'and' || e.op === 'or') {
        if (l !== 'bool' || r !== 'bool')
          throw new KqlError('SemanticError', `'${e.op}' expects boolean operands, got ${l} and ${r}`);
        return 'bool';
      }
      const textual = (x: KqlType) => x === 'string' || x === 'dynamic';
      if ((e.op === '=~' || e.op === '!~') && !(textual(l) && textual(r)))
        throw new KqlError('SemanticError', `'${e.op}' compares strings, got ${l} and ${r}`);
      if (!comparable(l, r))
        throw new KqlError('SemanticError', `Cannot compare values of types ${l} and ${r}. Try adding explicit casts`);
      if (['<', '<=', '>', '>='].includes(e.op) && (l === 'string' || l === 'bool'))
        throw new KqlError('SemanticError', `'${e.op}' does not apply to ${l} values`);
      return 'bool';
    }
    case 'call': {
      const args = e.args.map((a) => typeOf(a, schema));
      switch (e.fn) {
        case 'toint':
          return 'int';
        case 'tolong':
          return 'long';
        case 'tostring':
        case 'tolower':
        case 'toupper':
          return 'string';
        case 'parse_json':
        case 'todynamic':
          return 'dynamic';
        case 'isempty':
        case 'isnotempty':
          return 'bool';
        case 'ago':
        case 'now':
          return 'datetime';
        default:
          throw new KqlError('SemanticError', `Function '${e.fn}' is not supported (${args.join(', ')})`);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Evaluation (datetimes are epoch milliseconds inside; rendered ISO 8601 in the answer)

type Row = Record<string, unknown>;

function asText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

function evaluate(e: Expr, row: Row, now: number): unknown {
  switch (e.k) {
    case 'col':
      return row[e.name] ?? null;
    case 'lit':
      return e.v;
    case 'member': {
      const o = evaluate(e.obj, row, now);
      return o !== null && typeof o === 'object' && !Array.isArray(o) ? ((o as Row)[e.field] ?? null) : null;
    }
    case 'not':
      return evaluate(e.e, row, now) !== true;
    case 'in': {
      const l = evaluate(e.l, row, now);
      if (l === null) return false;
      const hit = e.list.some((x) => equal(l, x.k === 'lit' ? x.v : null));
      return e.neg ? !hit : hit;
    }
    case 'bin': {
      if (e.op === 'and') return evaluate(e.l, row, now) === true && evaluate(e.r, row, now) === true;
      if (e.op === 'or') return evaluate(e.l, row, now) === true || evaluate(e.r, row, now) === true;
      const l = evaluate(e.l, row, now);
      const r = evaluate(e.r, row, now);
      switch (e.op) {
        case '==':
          return l !== null && r !== null && equal(l, r);
        case '!=':
          return l !== null && r !== null && !equal(l, r);
        case '=~':
          return asText(l).toLowerCase() === asText(r).toLowerCase();
        case '!~':
          return asText(l).toLowerCase() !== asText(r).toLowerCase();
        default: {
          if (typeof l !== 'number' || typeof r !== 'number') return false;
          return e.op === '<' ? l < r : e.op === '<=' ? l <= r : e.op === '>' ? l > r : l >= r;
        }
      }
    }
    case 'call': {
      const a = e.args.map((x) => evaluate(x, row, now));
      switch (e.fn) {
        case 'toint':
        case 'tolong': {
          const v = a[0];
          if (typeof v === 'number') return Math.trunc(v);
          if (typeof v === 'string' && /^\s*[-+]?\d+(\.\d+)?\s*$/.test(v)) return Math.trunc(Number(v));
          return null;
        }
        case 'tostring':
          return asText(a[0]);
        case 'tolower':
          return asText(a[0]).toLowerCase();
        case 'toupper':
          return asText(a[0]).toUpperCase();
        case 'parse_json':
        case 'todynamic': {
          if (typeof a[0] !== 'string') return a[0] ?? null;
          try {
            return JSON.parse(a[0]) as unknown;
          } catch {
            return a[0];
          }
        }
        case 'isempty':
          return a[0] === null || a[0] === '';
        case 'isnotempty':
          return !(a[0] === null || a[0] === '');
        case 'ago':
          return now - Number(a[0]);
        case 'now':
          return now;
        default:
          return null;
      }
    }
  }
}

function equal(l: unknown, r: unknown): boolean {
  if (typeof l === 'number' || typeof r === 'number') return Number(l) === Number(r);
  return asText(l) === asText(r);
}

function compare(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return asText(a) < asText(b) ? -1 : 1;
}

/** Runs a query over the named tables (`tables` keyed by name), `now` for ago()/now(). */
export function runKql(query: string, tables: Record<string, KqlTable>, now: number): KqlResult {
  const parsed = new Parser(query, tokenize(query)).query();
  const table = tables[parsed.table];
  if (!table)
    throw new KqlError('SemanticError', `Failed to resolve table or column expression named '${parsed.table}'`, {
      ...lineAndPos(query, parsed.tableTok.at),
      token: parsed.table,
    });
  let schema: Schema = new Map(table.columns.map((c) => [c.name, c.type]));
  let order = table.columns.map((c) => c.name);
  let rows: Row[] = table.rows;
  const plan: ((rs: Row[]) => Row[])[] = [];
  for (const op of parsed.ops) {
    switch (op.op) {
      case 'where': {
        if (typeOf(op.pred, schema) !== 'bool')
          throw new KqlError('SemanticError', "'where' operator: the predicate must be a boolean expression");
        const pred = op.pred;
        plan.push((rs) => rs.filter((r) => evaluate(pred, r, now) === true));
        break;
      }
      case 'extend': {
        const next = new Map(schema);
        for (const it of op.items) next.set(it.name, typeOf(it.e, next));
        for (const it of op.items) if (!order.includes(it.name)) order = [...order, it.name];
        schema = next;
        const items = op.items;
        plan.push((rs) =>
          rs.map((r) => {
            const out = { ...r };
            for (const it of items) out[it.name] = evaluate(it.e, out, now);
            return out;
          }),
        );
        break;
      }
      case 'summarize': {
        const next: Schema = new Map();
        for (const b of op.by) next.set(b, typeOf({ k: 'col', name: b }, schema));
        for (const a of op.aggs) {
          const argType = a.arg ? typeOf(a.arg, schema) : undefined;
          if (a.fn === 'countif' && argType !== 'bool')
            throw new KqlError('SemanticError', "'countif' expects a boolean predicate");
          if (next.has(a.name))
            throw new KqlError('SemanticError', `'summarize' operator: column '${a.name}' is defined twice`);
          next.set(a.name, a.fn === 'max' || a.fn === 'min' ? argType! : 'long');
        }
        schema = next;
        order = [...op.by, ...op.aggs.map((a) => a.name)];
        const { by, aggs } = op;
        plan.push((rs) => {
          const groups = new Map<string, Row[]>();
          for (const r of rs) {
            const k = JSON.stringify(by.map((b) => r[b] ?? null));
            const g = groups.get(k);
            if (g) g.push(r);
            else groups.set(k, [r]);
          }
          if (by.length === 0 && groups.size === 0) groups.set('[]', []);
          return [...groups.values()].map((g) => {
            const out: Row = {};
            for (const b of by) out[b] = g[0]?.[b] ?? null;
            for (const a of aggs) {
              const vals = a.arg ? g.map((r) => evaluate(a.arg!, r, now)) : [];
              const present = vals.filter((v) => v !== null && v !== undefined && v !== '');
              if (a.fn === 'count') out[a.name] = g.length;
              else if (a.fn === 'countif') out[a.name] = vals.filter((v) => v === true).length;
              else if (a.fn === 'dcount') out[a.name] = new Set(present.map((v) => JSON.stringify(v))).size;
              else if (present.length === 0) out[a.name] = null;
              else
                out[a.name] = present.reduce((m, v) =>
                  (a.fn === 'max' ? compare(v, m) > 0 : compare(v, m) < 0) ? v : m,
                );
            }
            return out;
          });
        });
        break;
      }
      case 'order': {
        for (const k of op.keys) typeOf({ k: 'col', name: k.name }, schema);
        const keys = op.keys;
        plan.push((rs) =>
          [...rs].sort((a, b) => {
            for (const k of keys) {
              const c = compare(a[k.name], b[k.name]);
              if (c !== 0) return k.desc ? -c : c;
            }
            return 0;
          }),
        );
        break;
      }
      case 'take': {
        const n = op.n;
        plan.push((rs) => rs.slice(0, n));
        break;
      }
      case 'project': {
        const next: Schema = new Map();
        for (const c of op.cols) next.set(c, typeOf({ k: 'col', name: c }, schema));
        schema = next;
        order = [...op.cols];
        break;
      }
    }
  }
  for (const step of plan) rows = step(rows);
  const columns = order.map((name) => ({ name, type: schema.get(name)! }));
  return {
    columns,
    rows: rows.map((r) => columns.map((c) => render(r[c.name], c.type))),
  };
}

function render(v: unknown, type: KqlType): unknown {
  if (v === null || v === undefined) return type === 'string' ? '' : null;
  if (type === 'datetime') return typeof v === 'number' ? new Date(v).toISOString() : v;
  if (type === 'dynamic') return typeof v === 'string' ? v : JSON.stringify(v);
  return v;
}
