// Checks of model hyperparameters, each throwing InvalidModelConfig naming the model and the
// parameter.
import { InvalidModelConfig } from "../Errors.js"

export const checker = (model: string) => {
  const fail = (param: string, reason: string): never => {
    throw new InvalidModelConfig({ model, param, reason })
  }
  /** An integer in min..max; `unbounded` also accepts Infinity (no limit, as a depth). */
  const int = (param: string, v: number | undefined, def: number, min: number, max = Infinity, unbounded = false): number => {
    const x = v ?? def
    if (unbounded && x === Infinity) return x
    if (typeof x !== "number" || !Number.isInteger(x) || x < min || x > max) {
      fail(param, `must be an integer ${max === Infinity ? `>= ${min}` : `in ${min}..${max}`}, got ${String(x)}`)
    }
    return x
  }
  /** A number in a range; `open` excludes the low end. */
  const float = (param: string, v: number | undefined, def: number, low: number, high: number, open = false): number => {
    const x = v ?? def
    if (typeof x !== "number" || Number.isNaN(x) || (open ? x <= low : x < low) || x > high) {
      fail(param, `must be in ${open ? "(" : "["}${low}, ${high}], got ${String(x)}`)
    }
    return x
  }
  return { fail, int, float }
}
