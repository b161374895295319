// Sweep files: every key and distribution against W&B's documented meaning (a table test), the
// errors and warnings of the decoder with their line and column, and the published JSON Schema.
import { Effect, Either, Layer, Option } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import { Executor, Rng, Sampler, Scheduler, Space, Storage, type Trial } from "@tunekit/core"
import { Sweep } from "../src/index.js"
import { expand } from "../src/internal/sweepCommand.js"
import * as SweepPlan from "../src/internal/sweepPlan.js"
import { bands, hyperband } from "../src/internal/sweepStop.js"

const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.join(here, "..", "..", "..")

const head = "program: train.py\nmetric: {name: loss}\n"
const decode = (yaml: string) => {
  const r = Sweep.parse(yaml, "sweep.yaml")
  if (Either.isLeft(r)) throw new Error(r.left.message)
  return r.right
}
const planOf = (yaml: string, seed = 1) => SweepPlan.make(decode(yaml).input, { file: "/tmp/sweep.yaml", dir: "/tmp" }, seed)

/** N configs of a sweep as random search draws them (Sampler.random on the sweep's Space). */
const draw = (yaml: string, n = 4000): Array<Record<string, unknown>> => {
  const plan = planOf(`method: random\n${head}${yaml}`)
  const compiled = Space.compile(plan.searched.space)
  const rng = Rng.generator(7, "table")
  return Array.from({ length: n }, () => plan.searched.config(compiled.build((_, d) => Sampler.sampleUniform(rng, d)).config))
}
// (with another parameter, so that a constant is not all there is to search)
const values = (yaml: string, n?: number) => draw(`parameters:\n  x:\n${yaml.replace(/^/gm, "    ")}\n  other: {values: [1, 2]}\n`, n).map((c) => c.x as number)

const mean = (xs: ReadonlyArray<number>) => xs.reduce((a, b) => a + b, 0) / xs.length
const sd = (xs: ReadonlyArray<number>) => {
  const m = mean(xs)
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1))
}
const freq = (xs: ReadonlyArray<unknown>, v: unknown) => xs.filter((x) => JSON.stringify(x) === JSON.stringify(v)).length / xs.length
const isMultiple = (x: number, q: number) => Math.abs(x / q - Math.round(x / q)) < 1e-9
const within = (xs: ReadonlyArray<number>, lo: number, hi: number) => xs.every((x) => x >= lo - 1e-12 && x <= hi + 1e-12)
/** A uniform sample of [lo, hi]: its range, mean and standard deviation (of a uniform: (hi - lo) / sqrt(12)). */
const uniform = (xs: ReadonlyArray<number>, lo: number, hi: number) => {
  expect(within(xs, lo, hi)).toBe(true)
  expect(Math.min(...xs)).toBeLessThan(lo + (hi - lo) * 0.01)
  expect(Math.max(...xs)).toBeGreaterThan(hi - (hi - lo) * 0.01)
  expect(Math.abs(mean(xs) - (lo + hi) / 2)).toBeLessThan(0.03 * (hi - lo))
  expect(Math.abs(sd(xs) / ((hi - lo) / Math.sqrt(12)) - 1)).toBeLessThan(0.05)
}

// Each distribution of W&B's documentation ("Sweep configuration options", and wandb/sweeps for
// beta), with what its values must be.
const table: ReadonlyArray<readonly [string, string, (xs: Array<number>) => void]> = [
  ["constant", "value: 7", (xs) => expect(new Set(xs)).toEqual(new Set([7]))],
  ["constant (distribution)", "distribution: constant\nvalue: 7", (xs) => expect(new Set(xs)).toEqual(new Set([7]))],
  ["int_uniform: integers in [min, max], each equally likely", "distribution: int_uniform\nmin: 2\nmax: 5", (xs) => {
    expect(new Set(xs)).toEqual(new Set([2, 3, 4, 5]))
    for (const v of [2, 3, 4, 5]) expect(Math.abs(freq(xs, v) - 0.25)).toBeLessThan(0.03)
  }],
  ["int_uniform inferred from integer min and max", "min: 2\nmax: 5", (xs) => expect(new Set(xs)).toEqual(new Set([2, 3, 4, 5]))],
  ["uniform: real numbers in [min, max]", "distribution: uniform\nmin: 1.5\nmax: 4", (xs) => uniform(xs, 1.5, 4)],
  ["uniform inferred from min and max written as floats", "min: 1.0\nmax: 3.0", (xs) => {
    expect(xs.some((x) => !Number.isInteger(x))).toBe(true)
    uniform(xs, 1, 3)
  }],
  ["q_uniform: round(X / q) * q with X uniform", "distribution: q_uniform\nmin: 0\nmax: 1\nq: 0.25", (xs) => {
    expect(new Set(xs)).toEqual(new Set([0, 0.25, 0.5, 0.75, 1]))
    // The end points take half a step each: P(0) = P(X < 0.125) = 1/8.
    for (const [v, p] of [[0, 0.125], [0.25, 0.25], [0.5, 0.25], [0.75, 0.25], [1, 0.125]]) expect(Math.abs(freq(xs, v) - p)).toBeLessThan(0.025)
  }],
  ["q_uniform: q defaults to 1", "distribution: q_uniform\nmin: 0\nmax: 3", (xs) => expect(new Set(xs)).toEqual(new Set([0, 1, 2, 3]))],
  ["log_uniform: ln X uniform in [min, max] (min and max are exponents)", "distribution: log_uniform\nmin: -9.21\nmax: -2.3", (xs) => {
    uniform(xs.map(Math.log), -9.21, -2.3)
  }],
  ["log_uniform_values: ln X uniform in [ln min, ln max]", "distribution: log_uniform_values\nmin: 0.0001\nmax: 0.1", (xs) => {
    expect(within(xs, 0.0001, 0.1)).toBe(true)
    uniform(xs.map(Math.log), Math.log(0.0001), Math.log(0.1))
  }],
  ["q_log_uniform: round(X / q) * q with X log_uniform", "distribution: q_log_uniform\nmin: 0\nmax: 6.907755\nq: 10", (xs) => {
    expect(xs.every((x) => isMultiple(x, 10))).toBe(true)
    expect(within(xs, 0, 1000)).toBe(true)
    // ln X uniform in [0, ln 1000]: half the values are below sqrt(1000) = 31.6 (rounded to 30).
    expect(Math.abs(xs.filter((x) => x <= 30).length / xs.length - 0.5)).toBeLessThan(0.03)
  }],
  ["q_log_uniform_values: round(X / q) * q with X log_uniform_values", "distribution: q_log_uniform_values\nmin: 1\nmax: 1000\nq: 5", (xs) => {
    expect(xs.every((x) => isMultiple(x, 5))).toBe(true)
    expect(within(xs, 0, 1000)).toBe(true)
    expect(Math.abs(xs.filter((x) => x <= 30).length / xs.length - 0.5)).toBeLessThan(0.03)
  }],
  ["inv_log_uniform: ln(1/X) uniform in [min, max]", "distribution: inv_log_uniform\nmin: 1\nmax: 5", (xs) => {
    uniform(xs.map((x) => Math.log(1 / x)), 1, 5)
  }],
  ["inv_log_uniform_values: ln(1/X) uniform in [ln(1/max), ln(1/min)]", "distribution: inv_log_uniform_values\nmin: 0.01\nmax: 1", (xs) => {
    expect(within(xs, 0.01, 1)).toBe(true)
    uniform(xs.map((x) => Math.log(1 / x)), 0, Math.log(100))
  }],
  ["normal: mean mu, standard deviation sigma", "distribution: normal\nmu: 3\nsigma: 2", (xs) => {
    expect(Math.abs(mean(xs) - 3)).toBeLessThan(0.1)
    expect(Math.abs(sd(xs) / 2 - 1)).toBeLessThan(0.05)
    // 68% within one standard deviation
    expect(Math.abs(xs.filter((x) => Math.abs(x - 3) < 2).length / xs.length - 0.6827)).toBeLessThan(0.025)
  }],
  ["normal: mu 0 and sigma 1 by default", "distribution: normal", (xs) => {
    expect(Math.abs(mean(xs))).toBeLessThan(0.05)
    expect(Math.abs(sd(xs) - 1)).toBeLessThan(0.05)
  }],
  ["q_normal: round(X / q) * q with X normal", "distribution: q_normal\nmu: 0\nsigma: 5\nq: 2", (xs) => {
    expect(xs.every((x) => isMultiple(x, 2))).toBe(true)
    expect(Math.abs(mean(xs))).toBeLessThan(0.25)
    expect(Math.abs(sd(xs) / Math.sqrt(25 + 4 / 12) - 1)).toBeLessThan(0.05)
  }],
  ["log_normal: ln X normal with mean mu, standard deviation sigma", "distribution: log_normal\nmu: 1\nsigma: 0.5", (xs) => {
    expect(xs.every((x) => x > 0)).toBe(true)
    expect(Math.abs(mean(xs.map(Math.log)) - 1)).toBeLessThan(0.03)
    expect(Math.abs(sd(xs.map(Math.log)) / 0.5 - 1)).toBeLessThan(0.05)
  }],
  ["q_log_normal: round(X / q) * q with X log_normal", "distribution: q_log_normal\nmu: 2\nsigma: 0.5\nq: 1", (xs) => {
    expect(xs.every(Number.isInteger)).toBe(true)
    // E[X] = exp(mu + sigma^2 / 2)
    expect(Math.abs(mean(xs) / Math.exp(2.125) - 1)).toBeLessThan(0.03)
  }],
  ["beta: Beta(a, b) on [0, 1]", "distribution: beta\na: 2\nb: 5", (xs) => {
    expect(within(xs, 0, 1)).toBe(true)
    expect(Math.abs(mean(xs) - 2 / 7)).toBeLessThan(0.01)
    expect(Math.abs(sd(xs) ** 2 / (10 / (49 * 8)) - 1)).toBeLessThan(0.08)
  }],
  ["beta: a and b default to 1 (uniform)", "distribution: beta", (xs) => uniform(xs, 0, 1)],
  ["q_beta: round(X / q) * q with X beta", "distribution: q_beta\na: 2\nb: 2\nq: 0.1", (xs) => {
    expect(xs.every((x) => isMultiple(x, 0.1) && x >= 0 && x <= 1)).toBe(true)
    expect(Math.abs(mean(xs) - 0.5)).toBeLessThan(0.01)
  }]
]

describe("sweep parameters: each distribution means what W&B's documentation says", () => {
  for (const [what, yaml, check] of table) it(what, () => check(values(yaml)))

  it("categorical: values equally likely; with probabilities, each as often as its probability", () => {
    const plain = draw("parameters:\n  x: {values: [a, b, c]}\n").map((c) => c.x)
    for (const v of ["a", "b", "c"]) expect(Math.abs(freq(plain, v) - 1 / 3)).toBeLessThan(0.03)
    const weighted = draw("parameters:\n  x: {values: [a, b, c], probabilities: [0.6, 0.3, 0.1]}\n").map((c) => c.x)
    for (const [v, p] of [["a", 0.6], ["b", 0.3], ["c", 0.1]] as const) expect(Math.abs(freq(weighted, v) - p)).toBeLessThan(0.025)
  })

  it("categorical values may be lists, objects and repeated values, passed as they are", () => {
    const xs = draw("parameters:\n  x: {values: [[1, 2], {a: 1}, 3, 3]}\n", 2000).map((c) => c.x)
    expect(freq(xs, [1, 2])).toBeGreaterThan(0.2)
    expect(freq(xs, { a: 1 })).toBeGreaterThan(0.2)
    expect(Math.abs(freq(xs, 3) - 0.5)).toBeLessThan(0.04)
  })

  it("nested parameters reach the program as one object, with constants", () => {
    const [c] = draw("parameters:\n  optimizer:\n    parameters:\n      name: {value: adam}\n      lr: {distribution: log_uniform_values, min: 0.001, max: 0.1}\n  epochs: {value: 3}\n", 1)
    expect(Object.keys(c)).toEqual(["optimizer", "epochs"])
    expect((c.optimizer as { name: string }).name).toBe("adam")
    expect((c.optimizer as { lr: number }).lr).toBeGreaterThanOrEqual(0.001)
    expect(c.epochs).toBe(3)
  })

  it("grid search takes every combination once, with q_uniform as W&B's arange(min, max, q)", () => {
    const plan = planOf(`method: grid\n${head}parameters:\n  a: {values: [x, y]}\n  b: {distribution: int_uniform, min: 1, max: 3}\n  c: {distribution: q_uniform, min: 0, max: 1, q: 0.25}\n  d: {value: 5}\n`)
    const points = Sampler.enumerate("grid", Space.compile(plan.searched.space)).map((p) => p)
    expect(points.length).toBe(2 * 3 * 4)
    const c = Space.compile(plan.searched.space)
    const configs = points.map((p) => plan.searched.config(c.build((name) => p[name]).config))
    expect(new Set(configs.map((x) => JSON.stringify(x))).size).toBe(24)
    expect(new Set(configs.map((x) => x.c))).toEqual(new Set([0, 0.25, 0.5, 0.75]))
    expect(configs.every((x) => x.d === 5)).toBe(true)
  })
})

describe("sweep keys: what each means", () => {
  const base = `${head}parameters:\n  x: {values: [1, 2]}\n`

  it("method: grid, random, bayes (a Gaussian process) and tunekit's tpe, gp, cmaes, qmc, auto", () => {
    const names = Object.fromEntries(Sweep.METHODS.map((m) => [m, Effect.runSync(Effect.provide(Sampler.Sampler, planOf(`method: ${m}\n${base}`).sampler)).name]))
    expect(names.grid).toBe("grid")
    expect(names.random).toBe("random")
    expect(names.bayes).toBe(names.gp)
    expect(names.bayes).toMatch(/gp/i)
    expect(names.tpe).toMatch(/tpe/i)
    expect(names.cmaes).toMatch(/cma/i)
    expect(names.qmc).toMatch(/qmc|sobol/i)
    expect(names.auto).toMatch(/auto/i)
  })

  it("metric: name and goal (default minimize) are the study's objective", () => {
    expect(planOf(`method: random\n${base}`).direction).toBe("minimize")
    const p = planOf(`method: random\nprogram: t.py\nmetric: {name: acc, goal: maximize}\nparameters:\n  x: {values: [1]}\n`)
    expect([p.metric, p.direction]).toEqual(["acc", "maximize"])
  })

  it("run_cap and metric.target: no new run once the sweep has run_cap runs, or a run reached the target", () => {
    const sampler = (yaml: string) => Effect.runSync(Effect.provide(Sampler.Sampler, planOf(yaml).sampler))
    const trial = (n: number, value: number): Trial.FrozenTrial => ({
      id: n, number: n, state: "Complete", params: {}, distributions: {}, values: [value], intermediate: [], userAttrs: {}, systemAttrs: {}
    } as unknown as Trial.FrozenTrial)
    const ctx = (history: Array<Trial.FrozenTrial>) => ({ history, space: undefined, derive: Rng.generator.bind(null, 1) }) as never
    const capped = sampler(`method: random\n${base}run_cap: 2\n`)
    expect(capped.isExhausted!(ctx([trial(0, 5)]))).toBe(false)
    expect(capped.isExhausted!(ctx([trial(0, 5), trial(1, 4)]))).toBe(true)
    const target = sampler(`method: random\nprogram: t.py\nmetric: {name: loss, target: 0.1}\nparameters:\n  x: {values: [1, 2]}\n`)
    expect(target.isExhausted!(ctx([trial(0, 0.5)]))).toBe(false)
    expect(target.isExhausted!(ctx([trial(0, 0.5), trial(1, 0.1)]))).toBe(true)
    const up = sampler(`method: random\nprogram: t.py\nmetric: {name: acc, goal: maximize, target: 0.9}\nparameters:\n  x: {values: [1, 2]}\n`)
    expect(up.isExhausted!(ctx([trial(0, 0.95)]))).toBe(true)
  })

  it("early_terminate hyperband: the brackets from min_iter, or from max_iter and s", () => {
    expect(bands({ type: "hyperband", min_iter: 3, eta: 3 }).slice(0, 3)).toEqual([3, 9, 27])
    expect(bands({ type: "hyperband", min_iter: 1 }).slice(0, 4)).toEqual([1, 3, 9, 27])
    // W&B's documentation: max_iter 27, s 2 gives [27/eta, 27/eta/eta] = [9, 3]
    expect(bands({ type: "hyperband", max_iter: 27, s: 2 })).toEqual([3, 9])
    expect(bands({ type: "hyperband", max_iter: 18, s: 2, eta: 3 })).toEqual([2, 6])
    expect(bands({ type: "hyperband", max_iter: 81, s: 3, eta: 3 })).toEqual([3, 9, 27])
  })

  it("early_terminate hyperband: a run worse than the top 1/eta at its bracket stops (best so far; strict: at the bracket)", () => {
    const t = (id: number, state: Trial.State, losses: Array<number>, metric = "loss"): Trial.FrozenTrial => ({
      id, number: id, state, params: {}, distributions: {}, userAttrs: {}, systemAttrs: {},
      intermediate: losses.map((v, i) => ({ step: i * 10, values: { [metric]: v } }))
    } as unknown as Trial.FrozenTrial)
    const decide = (o: Parameters<typeof hyperband>[0], trial: Trial.FrozenTrial, history: Array<Trial.FrozenTrial>, direction: Trial.Direction = "minimize", metric = "loss") =>
      hyperband(o).decide({ trial, history, metric: trial.intermediate[trial.intermediate.length - 1], objective: { metric, direction } })._tag
    const et = { type: "hyperband" as const, max_iter: 18, s: 2, eta: 3 }
    // one run alone never stops
    expect(decide(et, t(1, "Running", [10, 9, 8, 7, 6, 5, 4, 3, 2, 1]), [])).toBe("Continue")
    // a flat run beside an improving one stops at bracket 2 (its step numbers do not matter: iterations count)
    const flat = t(1, "Running", [10, 10, 10, 10])
    const better = t(2, "Running", [10, 9, 8, 7, 6, 5, 4, 3, 2, 1])
    expect(decide(et, flat, [flat, better])).toBe("Prune")
    expect(decide(et, better, [flat, better])).toBe("Continue")
    // best so far (default) against the value at the bracket (strict)
    const late = t(3, "Running", [10, 6, 10, 10, 10, 10])
    const peers = [t(4, "Complete", [10, 7, 7, 7, 7, 7]), t(5, "Complete", [10, 8, 8, 8, 8, 8]), late]
    expect(decide(et, late, peers)).toBe("Continue")
    expect(decide({ ...et, strict: true }, late, peers)).toBe("Prune")
    // a maximized metric: higher is better
    const lowAcc = t(6, "Running", [0.1, 0.1, 0.1], "acc")
    const highAcc = t(7, "Complete", [0.1, 0.5, 0.9], "acc")
    expect(decide(et, lowAcc, [lowAcc, highAcc], "maximize", "acc")).toBe("Prune")
  })

  it("command: W&B's macros, each an argv item of its own, values as W&B's agent writes them", () => {
    const config = { lr: 0.01, layers: 3, act: "relu", bn: true, skip: false, opt: { name: "adam" }, none: null }
    const x = { program: "train.py", config, jsonFile: () => "/tmp/params.json" }
    expect(expand(["${env}", "${interpreter}", "${program}", "${args}"], x).slice(2)).toEqual([
      "train.py", "--lr=0.01", "--layers=3", "--act=relu", "--bn=True", "--skip=False", "--opt={\"name\":\"adam\"}", "--none=None"
    ])
    expect(expand(["${env}"], x)).toEqual(process.platform === "win32" ? [] : ["/usr/bin/env"])
    expect(expand(["${interpreter}"], x)[0]).toMatch(/^python3?$/)
    expect(expand(["${interpreter}"], { ...x, program: "train.mjs" })).toEqual([process.execPath])
    expect(expand(["${args_no_hyphens}"], x)).toEqual(["lr=0.01", "layers=3", "act=relu", "bn=True", "skip=False", "opt={\"name\":\"adam\"}", "none=None"])
    expect(expand(["${args_no_boolean_flags}"], x)).toEqual(["--lr=0.01", "--layers=3", "--act=relu", "--bn", "--opt={\"name\":\"adam\"}", "--none=None"])
    expect(JSON.parse(expand(["${args_json}"], x)[0])).toEqual(config)
    expect(expand(["--params=${args_json_file}"], x)).toEqual(["--params=/tmp/params.json"])
    process.env.TUNEKIT_SWEEP_TEST = "set"
    expect(expand(["${envvar:TUNEKIT_SWEEP_TEST}", "${envvar:TUNEKIT_NOT_SET}"], x)).toEqual(["set", "TUNEKIT_NOT_SET"])
  })

  it("tunekit's keys: name (default the file's), concurrency, executor, seed, timeout, trial_timeout, scheduler", async () => {
    const p = planOf(`method: random\n${base}concurrency: 3\nexecutor: {slots: 4, grace: 2 seconds}\ntimeout: 2 hours\ntrial_timeout: 90\n`, 42)
    expect(p.name).toBe("sweep")
    expect(planOf(`method: random\nname: mine\n${base}`).name).toBe("mine")
    expect(p.concurrency).toBe(3)
    expect(Effect.runSync(Effect.provide(Executor.Executor, p.executor)).capacity).toEqual({ slots: 4 })
    expect(Effect.runSync(Effect.provide(Rng.Rng, p.rng)).seed).toBe(42)
    expect(p.timeout && p.timeout.toJSON()).toEqual({ _id: "Duration", _tag: "Millis", millis: 7_200_000 })
    expect(p.trialTimeout && p.trialTimeout.toJSON()).toEqual({ _id: "Duration", _tag: "Millis", millis: 90_000 })
    const scheduler = async (yaml: string) =>
      (await Effect.runPromise(Effect.scoped(Effect.provide(Scheduler.Scheduler, Layer.provide(planOf(`method: random\n${base}${yaml}`).scheduler, Storage.layerMemory))))).name
    expect(await scheduler("scheduler: {type: asha, minResource: 1, maxResource: 9, reductionFactor: 3}\n")).toMatch(/asha/)
    expect(await scheduler("scheduler: {type: median}\n")).toMatch(/median/)
    expect(await scheduler("early_terminate: {type: hyperband, min_iter: 1}\n")).toMatch(/hyperband \(W&B\)/)
    expect(await scheduler("")).toBe(Scheduler.none.name)
  })
})

describe("sweep file errors name the line, the column and the key", () => {
  const error = (yaml: string) => {
    const r = Sweep.parse(yaml, "sweep.yaml")
    if (Either.isRight(r)) throw new Error("decoded")
    return r.left
  }

  it("a bad key, with the closest valid one", () => {
    const e = error(`method: random\n${head}parameters:\n  lr:\n    distribution: uniform\n    mn: 0.1\n    max: 1\n`)
    expect([e.line, e.column, e.key]).toEqual([7, 5, "parameters.lr.mn"])
    expect(e.message).toBe("sweep.yaml:7:5: parameters.lr.mn: is not a key here; did you mean min?")
    expect(error(`methd: random\n${head}parameters:\n  x: {values: [1]}\n`).message).toBe("sweep.yaml:1:1: methd: is not a key here; did you mean method?")
    const nested = error(`method: random\n${head}parameters:\n  opt:\n    parameters:\n      lr: {vlues: [1, 2]}\n`)
    expect([nested.line, nested.column, nested.key, nested.reason]).toEqual([7, 12, "parameters.opt.parameters.lr.vlues", "is not a key here; did you mean values?"])
    // a W&B key that tunekit does not take says so
    const wandb = error(`method: random\ncontroller: {type: local}\n${head}parameters:\n  x: {values: [1]}\n`)
    expect([wandb.line, wandb.column, wandb.key]).toEqual([2, 1, "controller"])
    expect(wandb.reason).toMatch(/^is a W&B key that tunekit does not take/)
  })

  it("a bad value", () => {
    const e = error(`method: random\n${head}concurrency: -2\nparameters:\n  x: {values: [1]}\n`)
    expect(e.message).toBe("sweep.yaml:4:14: concurrency: expected a positive integer, got -2")
    const m = error(`method: bayess\n${head}parameters:\n  x: {values: [1]}\n`)
    expect([m.line, m.column, m.key]).toEqual([1, 9, "method"])
    expect(m.reason).toMatch(/did you mean bayes\?$/)
    const range = error(`method: random\n${head}parameters:\n  x:\n    min: 5\n    max: 1\n`)
    expect(range.message).toBe("sweep.yaml:7:10: parameters.x.max: must be above min (5), got 1")
  })

  it("a bad distribution: misspelled, given keys it does not take, or one the method cannot use", () => {
    const typo = error(`method: random\n${head}parameters:\n  lr:\n    distribution: log_unifrom\n    min: 0.001\n    max: 0.1\n`)
    expect([typo.line, typo.column, typo.key]).toEqual([6, 19, "parameters.lr.distribution"])
    expect(typo.reason).toMatch(/did you mean log_uniform\?$/)
    const stray = error(`method: random\n${head}parameters:\n  lr:\n    distribution: normal\n    min: 0.001\n`)
    expect(stray.message).toBe("sweep.yaml:7:10: parameters.lr.min: is not a key of normal (it takes mu, sigma)")
    const grid = error(`method: grid\n${head}parameters:\n  lr:\n    distribution: uniform\n    min: 0.001\n    max: 0.1\n`)
    expect([grid.line, grid.column, grid.key]).toEqual([6, 19, "parameters.lr.distribution"])
    expect(grid.reason).toMatch(/^grid search takes constant, categorical, int_uniform and q_uniform parameters, and lr is uniform/)
    const weights = error(`method: grid\n${head}parameters:\n  a: {values: [1, 2], probabilities: [0.5, 0.5]}\n`)
    expect(weights.key).toBe("parameters.a.probabilities")
    const values = error(`method: random\n${head}parameters:\n  lr: {distribution: log_uniform_values, min: -9.2, max: -2.3}\n`)
    expect(values.reason).toMatch(/look like natural-log exponents: use log_uniform for values in \[0.000101039, 0.100259\]/)
  })

  it("W&B's `command` macros are checked, and a YAML syntax error has its position", () => {
    const macro = error(`method: random\nprogram: t.py\ncommand: [python, "\${program}", "\${ags}"]\nmetric: {name: loss}\nparameters:\n  x: {values: [1]}\n`)
    expect([macro.line, macro.key]).toEqual([3, "command[2]"])
    expect(macro.reason).toMatch(/^unknown macro \$\{ags\} \(did you mean \$\{args\}\?\)/)
    const syntax = error(`method: random\nparameters: [1, 2\n`)
    expect(syntax.line).toBeGreaterThan(1)
  })

  it("a log-scale range whose bounds look like values where W&B takes exponents gets a warning with the resulting range", () => {
    const { warnings } = decode(`method: random\n${head}parameters:\n  lr:\n    distribution: log_uniform\n    min: 0.0001\n    max: 0.1\n`)
    expect(warnings).toEqual([{
      line: 7,
      column: 10,
      key: "parameters.lr.min",
      message: "lr: log_uniform takes natural-log exponents, so min 0.0001 and max 0.1 give values in [1.0001, 1.10517]; for values in [0.0001, 0.1] use log_uniform_values"
    }])
    expect(decode(`method: random\n${head}parameters:\n  lr:\n    distribution: log_uniform\n    min: -9.21\n    max: -2.3\n`).warnings).toEqual([])
  })
})

describe("the JSON Schema of sweep files", () => {
  it("docs/sweep.schema.json is the one `tunekit sweep schema` prints", () => {
    const published = JSON.parse(fs.readFileSync(path.join(root, "docs", "sweep.schema.json"), "utf8"))
    expect(published).toEqual(JSON.parse(JSON.stringify(Sweep.jsonSchema())))
  })

  it("describes every top-level key and every distribution", () => {
    const js = Sweep.jsonSchema() as { properties: Record<string, unknown>; $defs: { Parameter: { anyOf: Array<{ properties?: { distribution?: { const: string } } }> } } }
    expect(Object.keys(js.properties).sort()).toEqual([
      "command", "concurrency", "description", "early_terminate", "entity", "executor", "method", "metric", "name", "parameters",
      "program", "project", "run_cap", "scheduler", "seed", "storage", "timeout", "trial_timeout"
    ])
    const ds = js.$defs.Parameter.anyOf.flatMap((p) => p.properties?.distribution?.const ?? [])
    expect(ds).toEqual([...Sweep.DISTRIBUTIONS])
  })

  it("the example that `tunekit sweep init` writes decodes without warnings", () => {
    expect(decode(Sweep.example).warnings).toEqual([])
    expect(Option.isSome(Option.some(planOf(Sweep.example)))).toBe(true)
  })
})
