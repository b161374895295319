import { fc, test } from "@fast-check/vitest"
import { Checkpoint, Distribution, Rng, Scheduler, Space, Storage, Study, type Trial } from "@tunekit/core"
import { Effect, Layer, Option } from "effect"
import { describe, expect, it } from "vitest"
import * as internal from "../src/internal/pbt.js"
import { Pbt } from "../src/index.js"
import { startPopulation } from "./toyTraining.js"

// Arbitrary spaces: floats (plain, log, stepped), ints (plain, log, stepped), categoricals, and a
// branch whose cases have parameters of their own.
const leaf: fc.Arbitrary<Space.Space<unknown>> = fc.oneof(
  fc.tuple(fc.double({ min: -100, max: 100, noNaN: true }), fc.double({ min: 0.01, max: 100, noNaN: true }))
    .map(([lo, w]) => Space.float(lo, lo + w)),
  fc.tuple(fc.double({ min: 1e-6, max: 1, noNaN: true }), fc.double({ min: 1.5, max: 1e4, noNaN: true }))
    .map(([lo, r]) => Space.float(lo, lo * r, { log: true })),
  fc.tuple(fc.integer({ min: -5, max: 5 }), fc.integer({ min: 1, max: 10 })).map(([lo, n]) => Space.float(lo, lo + n * 0.25, { step: 0.25 })),
  fc.tuple(fc.integer({ min: -50, max: 50 }), fc.integer({ min: 1, max: 40 })).map(([lo, w]) => Space.int(lo, lo + w)),
  fc.tuple(fc.integer({ min: 1, max: 16 }), fc.integer({ min: 2, max: 64 })).map(([lo, r]) => Space.int(lo, lo * r, { log: true })),
  fc.tuple(fc.integer({ min: 0, max: 10 }), fc.integer({ min: 1, max: 6 })).map(([lo, n]) => Space.int(lo, lo + 3 * n, { step: 3 })),
  fc.integer({ min: 1, max: 5 }).map((n) => Space.categorical(Array.from({ length: n }, (_, i) => `c${i}`)))
)
const spaceArb = fc.tuple(fc.array(leaf, { minLength: 1, maxLength: 4 }), fc.boolean(), leaf, leaf).map(([leaves, withBranch, a, b]) => {
  const fields: Record<string, Space.Space<unknown>> = {}
  leaves.forEach((l, i) => (fields[`p${i}`] = l))
  if (withBranch) fields.opt = Space.branch({ a: Space.struct({ x: a }), b: Space.struct({ y: b }) })
  return Space.compile(Space.struct(fields)) as Space.Compiled<unknown>
})

const trialWith = (number: number, params: Record<string, number>, dists: Record<string, Distribution.Distribution>): Trial.FrozenTrial => ({
  id: number + 1,
  number,
  state: "Running",
  params,
  distributions: dists,
  values: undefined,
  intermediate: [{ step: 4, values: { loss: 1 } }],
  userAttrs: {},
  systemAttrs: {},
  startedAt: 0,
  finishedAt: undefined,
  worker: undefined,
  reason: undefined
})

const sampleDonor = (space: Space.Compiled<unknown>, seed: number) => {
  const rng = Rng.generator(seed, "donor")
  const dists: Record<string, Distribution.Distribution> = {}
  const { params } = space.build((name, d) => {
    dists[name] = d
    return Distribution.fromUnit(d, rng.next())
  })
  return trialWith(0, params, dists)
}

describe("Pbt laws: explore", () => {
  test.prop([
    spaceArb,
    fc.integer(),
    fc.integer(),
    fc.double({ min: 0, max: 1, noNaN: true }),
    fc.tuple(fc.double({ min: 0.1, max: 0.99, noNaN: true }), fc.double({ min: 1.01, max: 10, noNaN: true }))
  ], { numRuns: 300 })(
    "every explored value lies inside the space, on the config's path, and every change is recorded",
    (space, donorSeed, seed, resampleProbability, perturbationFactors) => {
      const donor = sampleDonor(space, donorSeed)
      const e = internal.explore(space, donor, { perturbationInterval: 1, resampleProbability, perturbationFactors }, Rng.generator(seed))
      // The explored config is a valid config of the space: build it again from its own values.
      const rebuilt = space.build((name, d) => {
        expect(Distribution.contains(d, e.params[name])).toBe(true)
        return e.params[name]
      })
      expect(Object.keys(rebuilt.params).sort()).toEqual(Object.keys(e.params).sort())
      for (const [k, v] of Object.entries(e.params)) {
        const d = space.params.get(k)!
        expect(Distribution.contains(d, v)).toBe(true)
        const changed = donor.params[k] !== v
        expect(k in e.changes).toBe(changed)
        if (changed) expect(e.changes[k].to).toEqual(Distribution.toExternal(d, v))
      }
    }
  )

  test.prop([spaceArb, fc.integer(), fc.integer()], { numRuns: 200 })(
    "without resampling, a float moves by one of the factors (or to a bound) and an int or categorical to a neighbour",
    (space, donorSeed, seed) => {
      const donor = sampleDonor(space, donorSeed)
      const e = internal.explore(space, donor, { perturbationInterval: 1, resampleProbability: 0 }, Rng.generator(seed))
      for (const [k, v] of Object.entries(e.params)) {
        const d = space.params.get(k)!
        const old = donor.params[k]
        if (old === undefined || k === "opt") continue
        if (d._tag === "Categorical") expect(Math.abs(v - old)).toBeLessThanOrEqual(1)
        else if (d._tag === "Int" && !d.log) expect(Math.abs(v - old)).toBeLessThanOrEqual(d.step)
        else if (d._tag === "Float" && d.step === undefined) {
          const ok = [old * 0.8, old * 1.2].some((x) => Math.abs(Distribution.snap(d, x) - v) <= 1e-12 * Math.max(1, Math.abs(v)))
          expect(ok).toBe(true)
        }
      }
    }
  )

  test.prop([spaceArb, fc.integer(), fc.integer()], { numRuns: 100 })("is a function of the donor and the generator's seed", (space, donorSeed, seed) => {
    const donor = sampleDonor(space, donorSeed)
    const o = { perturbationInterval: 1 }
    expect(internal.explore(space, donor, o, Rng.generator(seed))).toEqual(internal.explore(space, donor, o, Rng.generator(seed)))
  })
})

describe("Pbt laws: selection", () => {
  test.prop([fc.array(fc.double({ noNaN: true, min: -1e6, max: 1e6 }), { maxLength: 40 }), fc.double({ min: 0.01, max: 0.5, noNaN: true })])(
    "the quantiles are disjoint, of size min(ceil(n q), floor(n / 2)), bottom worst and top best",
    (scores, q) => {
      const ranked = [...scores].sort((a, b) => b - a) // minimizing: worst (largest) first
      const { bottom, top } = internal.quantiles(ranked, q)
      const n = scores.length
      const k = n < 2 ? 0 : Math.min(Math.ceil(n * q), Math.floor(n / 2))
      expect(bottom.length).toBe(k)
      expect(top.length).toBe(k)
      if (k > 0) expect(Math.min(...bottom)).toBeGreaterThanOrEqual(Math.max(...top))
    }
  )

  test.prop([fc.integer({ min: 1, max: 10 }), fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 20 }), fc.integer({ min: 0, max: 30 })])(
    "a member is due at the first report at or past each boundary (start + k * interval), however sparsely it reports",
    (interval, gaps, start) => {
      let t: Trial.FrozenTrial = { ...trialWith(0, {}, {}), intermediate: [], systemAttrs: start > 0 ? { [Study.RESTORE_FROM]: { trial: 9, step: start } } : {} }
      const boundaries = new Set<number>()
      let step = start
      for (const g of gaps) {
        const prev = step
        step += g
        t = { ...t, intermediate: [...t.intermediate, { step, values: { loss: 1 } }] }
        let crossed = 0
        for (let b = start + interval; b <= step; b += interval) if (b > prev) (crossed++, boundaries.add(b))
        expect(internal.isDue(t, step, interval)).toBe(crossed > 0)
      }
      expect(boundaries.size).toBe(Math.floor((step - start) / interval))
    }
  )
})

// A hand-driven population: members report one step at a time in an order fast-check picks, the
// real PBT scheduler decides on memory storage, and an exploited member goes on in the trial PBT
// created, from the checkpoint it names.
const simulate = (seed: number, population: number, order: ReadonlyArray<number>, maxStep: number, q: number) =>
  Effect.gen(function*() {
    const storage = yield* Storage.Storage
    const checkpoints = yield* Checkpoint.Checkpoint
    const scheduler = yield* Scheduler.Scheduler
    const space = Space.compile(Space.struct({ lr: Space.float(1e-4, 1, { log: true }), layers: Space.int(1, 5), act: Space.categorical(["relu", "tanh", "gelu"]) }))
    const info = yield* storage.createStudy("sim", { directions: ["minimize"], metrics: ["loss"] })
    yield* scheduler.check!(space as never, info)
    interface Live { trial: Trial.FrozenTrial; step: number; loss: number }
    const live: Array<Live> = (yield* startPopulation(storage, info.id, space as never, seed, population)).map((trial) => ({ trial, step: 0, loss: 10 }))
    const liveCounts: Array<number> = []
    for (const pick of order) {
      const open = live.filter((m) => m.step < maxStep)
      if (open.length === 0) break
      const m = open[pick % open.length]
      m.step++
      const lr = m.trial.params.lr
      m.loss = m.loss * (1 - 0.1 * Math.exp(-((Math.log10(lr) + 2) ** 2))) // best lr 1e-2
      yield* checkpoints.save({ study: "sim", trial: m.trial.number }, m.step, { loss: m.loss })
      const metric = { step: m.step, values: { loss: m.loss } }
      yield* storage.report(m.trial.id, metric)
      const trial = yield* storage.getTrial(m.trial.id)
      const d = yield* scheduler.decide({ study: info, trial, metric, history: storage.getTrials(info.id), objectives: [{ metric: "loss", direction: "minimize" }] })
      if (d._tag === "Prune") {
        yield* storage.finishTrial(m.trial.id, { state: "Pruned", reason: d.reason })
        const next = (yield* storage.getTrial(m.trial.id)).systemAttrs[Pbt.NEXT] as number
        const all = yield* storage.getTrials(info.id)
        const cont = all.find((t) => t.number === next)!
        const claimed = Option.getOrThrow(yield* storage.claimWaiting(info.id, "sim", cont.id))
        const from = Study.restorePointOf(claimed)!
        m.trial = claimed
        m.step = from.step
        m.loss = ((yield* checkpoints.load({ study: "sim", trial: from.trial }, from.step)) as { loss: number }).loss
      } else if (m.step === maxStep) yield* storage.finishTrial(m.trial.id, { state: "Complete", values: [m.loss] })
      const all = yield* storage.getTrials(info.id)
      liveCounts.push(all.filter((t) => t.state === "Running" || t.state === "Waiting").length + live.filter((x) => x.step >= maxStep).length)
    }
    return { trials: yield* storage.getTrials(info.id), liveCounts, space }
  }).pipe(
    Effect.provide(
      Layer.mergeAll(Pbt.layer({ perturbationInterval: 3, maxStep, quantileFraction: q, hyperparamMutations: { lr: true, layers: true, act: { resampleProbability: 0.5 } } }))
        .pipe(Layer.provideMerge(Layer.mergeAll(Storage.layerMemory, Checkpoint.layerMemory, Rng.layer({ seed }))))
    ),
    Effect.runPromise
  )

describe("Pbt laws: the scheduler on a population", () => {
  const args: [fc.Arbitrary<number>, fc.Arbitrary<number>, fc.Arbitrary<Array<number>>, fc.Arbitrary<number>] = [
    fc.integer(),
    fc.integer({ min: 2, max: 8 }),
    fc.array(fc.nat(), { minLength: 50, maxLength: 300 }),
    fc.double({ min: 0.05, max: 0.5, noNaN: true })
  ]

  test.prop(args, { numRuns: 40 })(
    "keeps the population size constant and every continuation's config inside the space",
    async (seed, population, order, q) => {
      const { trials, liveCounts, space } = await simulate(seed, population, order, 20, q)
      expect(liveCounts.every((n) => n === population)).toBe(true)
      expect(new Set(trials.map(Pbt.memberOf)).size).toBe(population)
      for (const t of trials) {
        for (const [k, v] of Object.entries(t.params)) expect(Distribution.contains(space.params.get(k)!, v)).toBe(true)
        const l = Pbt.lineageOf(t)
        if (l === undefined) continue
        const donor = trials.find((x) => x.number === l.donor)!
        expect(donor.intermediate.some((m) => m.step === l.step)).toBe(true)
      }
    }
  )

  it("exploits in such a run (the laws above are not vacuous), never at or past maxStep", async () => {
    const order = Array.from({ length: 200 }, (_, i) => (i * 7919) % 101)
    const { trials } = await simulate(3, 6, order, 21, 0.25)
    const continuations = trials.filter((t) => Pbt.lineageOf(t) !== undefined)
    expect(continuations.length).toBeGreaterThan(3)
    expect(continuations.every((t) => Pbt.lineageOf(t)!.exploitedAt < 21)).toBe(true)
    expect(trials.filter((t) => t.state === "Complete").every((t) => t.intermediate.at(-1)!.step === 21)).toBe(true)
  })

  test.prop(args, { numRuns: 15 })("is deterministic for a seed and a history", async (seed, population, order, q) => {
    const strip = (ts: ReadonlyArray<Trial.FrozenTrial>) => ts.map((t) => [t.number, t.state, t.params, t.intermediate, t.systemAttrs, t.reason])
    const [a, b] = await Promise.all([simulate(seed, population, order, 12, q), simulate(seed, population, order, 12, q)])
    expect(strip(a.trials)).toEqual(strip(b.trials))
  })
})
