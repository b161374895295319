/**
 * Parameter axes, as the plots of parameters carry them: a linear or log scale of numbers, or the
 * choices of a categorical (a trial's value on a categorical axis is the index of its choice).
 *
 * @since 0.1.0
 */
import * as internal from "./internal/params.js"

/** How an axis is drawn: "linear", "log" or "categorical". */
export type Scale = internal.Scale

/**
 * A parameter's axis.
 *
 * @example
 * import type { Axis } from "@tunekit/plots"
 * const lr: Axis.Axis = { name: "lr", scale: "log", range: [1e-5, 1e-1] }
 * const act: Axis.Axis = { name: "activation", scale: "categorical", range: [0, 1], choices: ["relu", "tanh"] }
 */
export type Axis = internal.ParamAxis

/**
 * The label of a value on an axis: the choice's label on a categorical axis, the number otherwise.
 *
 * @example
 * import { Axis } from "@tunekit/plots"
 * Axis.format({ name: "act", scale: "categorical", range: [0, 1], choices: ["relu", "tanh"] }, 1) // "tanh"
 */
export const format = (axis: Axis, value: number): string =>
  axis.choices !== undefined ? axis.choices[value] ?? String(value) : String(Number(value.toPrecision(6)))
