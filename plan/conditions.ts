/**
 * Analysis conditions as rollout controllers write them: `result == 0`, `result < 5 && result >= 1`. A tiny,
 * closed grammar (no code is ever evaluated): comparisons of `result` with a number, joined by `&&` or `||`
 * (`&&` binds tighter). Pure, so the workflow evaluates the plan's conditions itself.
 */
type Op = '==' | '!=' | '<=' | '>=' | '<' | '>';
interface Comparison {
  readonly op: Op;
  readonly value: number;
}
/** Disjunction of conjunctions. */
export type Condition = readonly (readonly Comparison[])[];

const COMPARISON = /^result\s*(==|!=|<=|>=|<|>)\s*(-?\d+(?:\.\d+)?)$/;

/** Parses a condition; throws an Error whose message says what is wrong. */
export function parseCondition(text: string): Condition {
  const src = text.trim();
  if (src === '') throw new Error('must not be empty (e.g. "result == 0")');
  return src.split('||').map((alternative) =>
    alternative.split('&&').map((part) => {
      const m = COMPARISON.exec(part.trim());
      if (!m)
        throw new Error(
          `"${part.trim()}" is not a comparison of result with a number (e.g. "result == 0", "result >= 5"; join with && or ||)`,
        );
      return { op: m[1] as Op, value: Number(m[2]) };
    }),
  );
}

export function conditionHolds(condition: Condition, result: number): boolean {
  return condition.some((all) => all.every(({ op, value }) => compare(result, op, value)));
}

function compare(a: number, op: Op, b: number): boolean {
  switch (op) {
    case '==':
      return a === b;
    case '!=':
      return a !== b;
    case '<=':
      return a <= b;
    case '>=':
      return a >= b;
    case '<':
      return a < b;
    case '>':
      return a > b;
  }
}
