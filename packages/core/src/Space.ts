/**
 * Typed, declarative search spaces. The config type is inferred from the space.
 *
 * @example
 * import { Space } from "@tunekit/core"
 *
 * const space = Space.struct({
 *   learningRate: Space.float(1e-5, 1e-2, { log: true }),
 *   hiddenSize: Space.categorical([64, 128, 256] as const),
 *   optimizer: Space.branch({
 *     sgd: Space.struct({ momentum: Space.float(0.5, 0.99) }),
 *     adam: Space.struct({ beta1: Space.float(0.8, 0.999) })
 *   })
 * })
 * type Config = Space.Type<typeof space>
 * // { readonly learningRate: number; readonly hiddenSize: 64 | 128 | 256;
 * //   readonly optimizer: { readonly _tag: "sgd"; readonly momentum: number } | { ... } }
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import * as Distribution from "./Distribution.js"
import { InvalidSpace } from "./Errors.js"
import * as Options from "./Options.js"

const TypeId: unique symbol = Symbol.for("@tunekit/core/Space")

type Node =
  | { readonly _tag: "Float"; readonly low: number; readonly high: number; readonly opts: Distribution.NumericOptions }
  | { readonly _tag: "Int"; readonly low: number; readonly high: number; readonly opts: Distribution.NumericOptions }
  | { readonly _tag: "Categorical"; readonly choices: ReadonlyArray<Distribution.Choice> }
  | { readonly _tag: "Struct"; readonly fields: Readonly<Record<string, Space<unknown>>> }
  | { readonly _tag: "Branch"; readonly cases: Readonly<Record<string, Space<unknown>>> }

/** A search space whose configs have type `A`. */
export interface Space<out A> {
  readonly [TypeId]: { readonly _A: (_: never) => A }
  readonly node: Node
}

/** The config type of a space. */
export type Type<S> = S extends Space<infer A> ? A : never

type Simplify<T> = { [K in keyof T]: T[K] } & {}

const make = <A>(node: Node): Space<A> => ({ [TypeId]: { _A: (_: never) => _ as A }, node })

/** Whether a value is a space. */
export const isSpace = (u: unknown): u is Space<unknown> => typeof u === "object" && u !== null && TypeId in u

// The constructors check their arguments where they are written (the parameter's name is not
// known yet: the error names the call), and `compile` checks them again under their names.
const call = (name: string, args: ReadonlyArray<unknown>) => `Space.${name}(${args.map((a) => Options.show(a)).join(", ")})`

/**
 * A float in [low, high]; `log` samples uniformly in log space, `step` on a grid. Throws
 * `InvalidSpace` at once when the bounds or options are invalid.
 *
 * @example
 * import { Space } from "@tunekit/core"
 * const dropout = Space.float(0, 0.5, { step: 0.1 })
 * Space.float(1, 0) // throws InvalidSpace: "Space.float(1, 0): low (1) must be below high (0)"
 */
export const float = (low: number, high: number, opts: Distribution.NumericOptions = {}): Space<number> => {
  Distribution.float(call("float", [low, high]), low, high, opts)
  return make({ _tag: "Float", low, high, opts })
}

/**
 * An integer in [low, high]; `log` samples uniformly in log space, `step` on a grid. Throws
 * `InvalidSpace` at once when the bounds or options are invalid.
 *
 * @example
 * import { Space } from "@tunekit/core"
 * const layers = Space.int(1, 6)
 */
export const int = (low: number, high: number, opts: Distribution.NumericOptions = {}): Space<number> => {
  Distribution.int(call("int", [low, high]), low, high, opts)
  return make({ _tag: "Int", low, high, opts })
}

/**
 * One of a list of choices; the config type is the union of the literal choices. Throws
 * `InvalidSpace` at once for no choices, a choice twice, or a choice that is not a string, finite
 * number, boolean or null.
 *
 * @example
 * import { Space } from "@tunekit/core"
 * const activation = Space.categorical(["relu", "tanh", "gelu"])  // "relu" | "tanh" | "gelu"
 */
export const categorical = <const A extends Distribution.Choice>(choices: ReadonlyArray<A>): Space<A> => {
  Distribution.categorical("Space.categorical", choices)
  return make({ _tag: "Categorical", choices })
}

const isEmptyStruct = (s: Space<unknown>) => s.node._tag === "Struct" && Object.keys(s.node.fields).length === 0

/**
 * A record of sub-spaces; nesting is allowed. Throws `InvalidSpace` at once when a field is not a
 * space, or is an empty struct (it would hold no parameter). An empty struct is a branch case
 * without parameters; as a study's whole space it is refused by `compile`.
 *
 * @example
 * import { Space } from "@tunekit/core"
 * const space = Space.struct({ lr: Space.float(1e-4, 1e-1, { log: true }), units: Space.int(8, 64) })
 */
export const struct = <F extends Record<string, Space<any>>>(
  fields: F
): Space<Simplify<{ readonly [K in keyof F]: Type<F[K]> }>> => {
  if (typeof fields !== "object" || fields === null) throw new InvalidSpace({ param: "Space.struct", reason: `expected an object of spaces, got ${Options.show(fields)}` })
  for (const [k, f] of Object.entries(fields)) {
    if (!isSpace(f)) throw new InvalidSpace({ param: k, reason: `is not a space (use Space.float, Space.int, ...), got ${Options.show(f)}` })
    if (isEmptyStruct(f)) throw new InvalidSpace({ param: k, reason: "an empty Space.struct has no parameters" })
  }
  return make({ _tag: "Struct", fields })
}

/**
 * Conditional sub-spaces: one case is chosen (a categorical parameter), then only that case's
 * parameters are sampled. The config is a discriminated union on `_tag`.
 *
 * @example
 * import { Space } from "@tunekit/core"
 * const optimizer = Space.branch({
 *   sgd: Space.struct({ momentum: Space.float(0.5, 0.99) }),
 *   adam: Space.struct({ beta1: Space.float(0.8, 0.999) })
 * })
 */
export const branch = <C extends Record<string, Space<Record<string, unknown>>>>(
  cases: C
): Space<{ [K in keyof C & string]: Simplify<{ readonly _tag: K } & Type<C[K]>> }[keyof C & string]> => {
  const keys = typeof cases === "object" && cases !== null ? Object.keys(cases) : []
  if (keys.length === 0) throw new InvalidSpace({ param: "Space.branch", reason: "a branch needs at least one case" })
  for (const k of keys) {
    const c = cases[k]
    if (!isSpace(c) || c.node._tag !== "Struct") throw new InvalidSpace({ param: k, reason: "each branch case must be a Space.struct" })
    if ("_tag" in c.node.fields) throw new InvalidSpace({ param: k, reason: "_tag is reserved for the branch's case" })
  }
  return make({ _tag: "Branch", cases })
}

/** Picks the internal value of a parameter; the run loop asks the sampler, a replay reads storage. */
export type Pick = (name: string, distribution: Distribution.Distribution) => number

/** A validated space: every parameter it may produce, and a builder of configs. */
export interface Compiled<A> {
  readonly space: Space<A>
  /** Every parameter that some config may contain, with its distribution, in declaration order. */
  readonly params: ReadonlyMap<string, Distribution.Distribution>
  /** Builds one config, asking `pick` for each parameter on the chosen path. */
  readonly build: (pick: Pick) => { readonly config: A; readonly params: Record<string, number> }
  /**
   * The parameters (external values by name) of a given config; throws InvalidSpace when it does
   * not fit. (Method syntax: a `Compiled<A>` is usable wherever a `Compiled<unknown>` is asked.)
   */
  flatten(config: A): Record<string, unknown>
}

const ROOT = "value"
const join = (prefix: string, key: string) => (prefix === "" ? key : `${prefix}.${key}`)

const leafDistribution = (name: string, node: Node): Distribution.Distribution | undefined => {
  switch (node._tag) {
    case "Float":
      return Distribution.float(name, node.low, node.high, node.opts)
    case "Int":
      return Distribution.int(name, node.low, node.high, node.opts)
    case "Categorical":
      return Distribution.categorical(name, node.choices)
    default:
      return undefined
  }
}

/**
 * Validates a space and compiles it. Throws `InvalidSpace` naming the parameter and the problem;
 * `validate` is the Effect form.
 */
export const compile = <A>(space: Space<A>): Compiled<A> => {
  const params = new Map<string, Distribution.Distribution>()
  const register = (name: string, d: Distribution.Distribution) => {
    if (params.has(name)) throw new InvalidSpace({ param: name, reason: "the name is used twice" })
    params.set(name, d)
  }
  const walk = (path: string, s: Space<unknown>): void => {
    if (!isSpace(s)) throw new InvalidSpace({ param: path || ROOT, reason: "is not a space (use Space.float, Space.int, ...)" })
    const node = s.node
    if (node._tag === "Struct") {
      const keys = Object.keys(node.fields)
      for (const k of keys) walk(join(path, k), node.fields[k])
      return
    }
    if (node._tag === "Branch") {
      const keys = Object.keys(node.cases)
      if (keys.length === 0) throw new InvalidSpace({ param: path || ROOT, reason: "a branch needs at least one case" })
      register(path || ROOT, Distribution.categorical(path || ROOT, keys))
      for (const k of keys) {
        const c = node.cases[k]
        if (!isSpace(c) || c.node._tag !== "Struct") {
          throw new InvalidSpace({ param: join(path, k), reason: "each branch case must be a Space.struct" })
        }
        if ("_tag" in c.node.fields) throw new InvalidSpace({ param: join(path, k), reason: "_tag is reserved for the branch's case" })
        walk(join(path, k), c)
      }
      return
    }
    register(path || ROOT, leafDistribution(path || ROOT, node)!)
  }
  walk("", space)
  if (params.size === 0) throw new InvalidSpace({ param: ROOT, reason: "the space has no parameters (an empty Space.struct)" })

  const build = (pick: Pick) => {
    const out: Record<string, number> = {}
    const go = (path: string, s: Space<unknown>): unknown => {
      const node = s.node
      switch (node._tag) {
        case "Struct": {
          const r: Record<string, unknown> = {}
          for (const k of Object.keys(node.fields)) r[k] = go(join(path, k), node.fields[k])
          return r
        }
        case "Branch": {
          const name = path || ROOT
          const d = params.get(name)!
          const v = pick(name, d)
          out[name] = v
          const key = Distribution.toExternal(d, v) as string
          return { _tag: key, ...(go(join(path, key), node.cases[key]) as object) }
        }
        default: {
          const name = path || ROOT
          const d = params.get(name)!
          const v = pick(name, d)
          out[name] = v
          return Distribution.toExternal(d, v)
        }
      }
    }
    const config = go("", space) as A
    return { config, params: out }
  }

  const flatten = (config: A): Record<string, unknown> => {
    const out: Record<string, unknown> = {}
    const go = (path: string, s: Space<unknown>, value: unknown): void => {
      const node = s.node
      const name = path || ROOT
      if (node._tag === "Struct") {
        if (typeof value !== "object" || value === null) throw new InvalidSpace({ param: name, reason: `expected an object, got ${JSON.stringify(value)}` })
        for (const k of Object.keys(node.fields)) go(join(path, k), node.fields[k], (value as Record<string, unknown>)[k])
        return
      }
      if (node._tag === "Branch") {
        const tag = (value as { _tag?: unknown } | null)?._tag
        if (typeof tag !== "string" || !(tag in node.cases)) {
          throw new InvalidSpace({ param: name, reason: `_tag must be one of ${JSON.stringify(Object.keys(node.cases))}, got ${JSON.stringify(tag)}` })
        }
        out[name] = tag
        go(join(path, tag), node.cases[tag], value)
        return
      }
      const d = params.get(name)!
      let internal: number
      try {
        internal = Distribution.toInternal(d, value)
      } catch (e) {
        throw new InvalidSpace({ param: name, reason: (e as Error).message })
      }
      if (!Distribution.contains(d, internal)) {
        throw new InvalidSpace({ param: name, reason: `${JSON.stringify(value)} is outside ${Distribution.describe(d)}` })
      }
      out[name] = value
    }
    go("", space, config)
    return out
  }

  return { space, params, build, flatten }
}

/**
 * Validates a space, failing with `InvalidSpace`.
 *
 * @example
 * import { Effect } from "effect"
 * import { Space } from "@tunekit/core"
 * const result = Effect.runSync(Effect.either(Space.validate(Space.float(0, 1, { step: 0.3 }))))
 */
export const validate = <A>(space: Space<A>): Effect.Effect<Compiled<A>, InvalidSpace> =>
  Effect.try({
    try: () => compile(space),
    catch: (e) => (e instanceof InvalidSpace ? e : new InvalidSpace({ param: ROOT, reason: String(e) }))
  })
