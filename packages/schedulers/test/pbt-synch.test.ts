// Synchronous PBT (Ray Tune's synch=True): the decisions at a boundary depend on the members'
// values there and the seed, never on the order in which members arrived, so a study gives the
// same lineage and values whatever its concurrency (and, test/workers.test.ts, its processes).
import { fc, test } from "@fast-check/vitest"
import { Checkpoint, Distribution, Rng, Sampler, Scheduler, Space, Storage, Study, Tracker, Trial } from "@tunekit/core"
import { Effect, Layer, Option } from "effect"
import { describe, expect, it } from "vitest"
import * as internal from "../src/internal/pbt.js"
import { Pbt } from "../src/index.js"
import { startPopulation, toyTraining } from "./toyTraining.js"

const STEPS = 24
const toy = toyTraining(STEPS)

const space = Space.struct({ lr: Space.float(1e-3, 1, { log: true }), width: Space.categorical([16, 32, 64]) })
type Config = Space.Type<typeof space>
const compiled = Space.compile(space) as Space.Compiled<unknown>

const options: Pbt.Options = {
  perturbationInterval: 4,
  quantileFraction: 0.25,
  hyperparamMutations: { lr: true },
  maxStep: STEPS,
  synch: true,
  population: 8
}

// Each step takes a random few milliseconds, so that members reach boundaries in varying orders.
const trainer = (checkpoints: Checkpoint.CheckpointService) =>
  toy.objective(checkpoints, () => new Promise((r) => setTimeout(r, Math.random() * 3)))

// Runs the study once per entry of `runs` (its trials), in the same storage, as successive workers would.
// `claimed`: claims taken before the run, as by a worker that died deciding those boundaries.
const runSynch = (seed: number, concurrency: number, runs: ReadonlyArray<number> = [8], pbt: Pbt.Options = options, claimed: ReadonlyArray<string> = []) =>
  Effect.runPromise(Effect.scoped(Effect.gen(function*() {
    const checkpoints = yield* Checkpoint.Checkpoint
    const storage = yield* Storage.Storage
    const info = yield* storage.createStudy("synch", { directions: ["minimize"], metrics: ["loss"] })
    for (const key of claimed) yield* storage.claim(info.id, key)
    const after: Array<ReadonlyArray<Trial.FrozenTrial>> = []
    for (const trials of runs) {
      const r = yield* Study.optimize({
        study: "synch",
        space,
        metric: "loss",
        direction: "minimize",
        objective: trainer(checkpoints),
        trials,
        concurrency
      })
      after.push(yield* r.study.trials)
    }
    const study = yield* storage.getStudy("synch")
    return { trials: after.at(-1)!, after, attrs: study.systemAttrs }
  }).pipe(
    Effect.provide(
      Layer.mergeAll(Pbt.layer(pbt), Sampler.layerRandom, Tracker.layerNone).pipe(
        Layer.provideMerge(Layer.mergeAll(Storage.layerMemory, Rng.layer({ seed }), Checkpoint.layerMemory))
      )
    )
  )))

/** What must not depend on the concurrency: each trial's config, lineage, state and values. */
const summary = (trials: ReadonlyArray<Trial.FrozenTrial>) =>
  trials.map((t) => ({
    number: t.number,
    state: t.state,
    params: Trial.paramValues(t),
    lineage: Pbt.lineageOf(t) ?? null,
    next: t.systemAttrs[Pbt.NEXT] ?? null,
    reason: t.reason ?? null,
    values: t.values ?? null,
    intermediate: t.intermediate
  }))

describe("synch PBT in one process", () => {
  it("gives the same lineage and values with 8 and 3 workers, and leaves no trial waiting", async () => {
    const { trials: eight } = await runSynch(3, 8)
    const { trials: three } = await runSynch(3, 3)
    expect(summary(three)).toEqual(summary(eight))
    expect(eight.filter((t) => t.state === "Waiting" || t.state === "Running")).toEqual([])
    const continuations = eight.filter((t) => Pbt.lineageOf(t) !== undefined)
    // 8 members, a quarter of them exploited at each of the boundaries 4, 8, 12, 16, 20.
    expect(continuations.length).toBe(2 * 5)
    expect(new Set(eight.map(Pbt.memberOf)).size).toBe(8)
    expect(eight.filter((t) => t.state === "Complete")).toHaveLength(8)
    for (const t of continuations) {
      const l = Pbt.lineageOf(t)!
      // Exploited exactly at a boundary, from the donor's checkpoint there.
      expect(l.exploitedAt % 4).toBe(0)
      expect(l.step).toBe(l.exploitedAt)
      expect(t.intermediate[0].step).toBe(l.step + 1)
    }
    // Each member reported every step once, in order, whatever pauses it went through.
    for (const t of eight.filter((t) => t.state === "Complete")) {
      const steps = Pbt.schedule(eight, t)
      expect(steps[0].from).toBe(0)
      expect(steps.at(-1)!.to).toBe(STEPS)
    }
  }, 60_000)

  it("takes over a boundary whose decider died after claiming it, and decides it as that one would have", async () => {
    const { trials: normal } = await runSynch(3, 8)
    const { trials: takenOver } = await runSynch(3, 8, [8], { ...options, synchWaitMs: 100 }, ["pbtSynch:4", "pbtSynch:12"])
    expect(summary(takenOver)).toEqual(summary(normal))
    expect(takenOver.filter((t) => t.state === "Waiting" || t.state === "Running")).toEqual([])
  }, 60_000)

  it("records each boundary's decisions once, as a study attribute naming the continuations", async () => {
    const { trials, attrs } = await runSynch(5, 4)
    const byNumber = new Map(trials.map((t) => [t.number, t]))
    const records = Object.entries(attrs).filter(([k]) => k.startsWith("pbtSynch:"))
    expect(records.map(([k]) => k).sort()).toEqual(["pbtSynch:12", "pbtSynch:16", "pbtSynch:20", "pbtSynch:4", "pbtSynch:8"])
    const named = new Set<number>()
    for (const [, r] of records) {
      const record = r as { step: number; members: Array<{ member: number; trial: number }>; exploited: Array<{ trial: number; next: number; reason: string }> }
      expect(record.members.map((m) => m.member)).toEqual([0, 1, 2, 3, 4, 5, 6, 7])
      for (const e of record.exploited) {
        const exploited = byNumber.get(e.trial)!
        expect([exploited.state, exploited.reason, exploited.systemAttrs[Pbt.NEXT]]).toEqual(["Pruned", e.reason, e.next])
        expect(Pbt.lineageOf(byNumber.get(e.next)!)).toMatchObject({ parent: e.trial, exploitedAt: record.step })
        named.add(e.next)
      }
    }
    expect([...named].sort((a, b) => a - b)).toEqual(trials.filter((t) => Pbt.lineageOf(t) !== undefined).map((t) => t.number))
  }, 60_000)

  it("with fewer trials than the population, leaves the members paused at the first boundary for later workers", async () => {
    const { after: [first, after] } = await runSynch(2, 3, [5, 3])
    expect(first.map((t) => [t.state, t.intermediate.at(-1)?.step])).toEqual(Array(5).fill(["Waiting", 4]))
    // Another run of the study brings the missing members: the population completes and trains to the end.
    expect(after.filter((t) => t.state === "Complete")).toHaveLength(8)
    expect(after.filter((t) => t.state === "Waiting" || t.state === "Running")).toEqual([])
    expect(summary(after)).toEqual(summary((await runSynch(2, 8)).trials))
  }, 60_000)
})

describe("synch PBT options", () => {
  it("needs the population", async () => {
    const bad = Pbt.validate({ perturbationInterval: 4, synch: true }, compiled)
    expect(bad?.message).toContain("population: is required with synch: true")
    expect(Pbt.validate({ perturbationInterval: 4, synch: true, population: 4 }, compiled)).toBeUndefined()
  })
})

const memberTrial = (number: number, params: Record<string, number>, step: number, loss: number): Trial.FrozenTrial => ({
  id: number + 1,
  number,
  state: "Running",
  params,
  distributions: Object.fromEntries([...compiled.params].filter(([k]) => k in params)),
  values: undefined,
  intermediate: [{ step, values: { loss } }],
  userAttrs: {},
  systemAttrs: {},
  startedAt: 0,
  finishedAt: undefined,
  worker: undefined,
  reason: undefined
})

describe("synch PBT laws: a boundary's decisions", () => {
  test.prop([
    fc.integer(),
    fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 12 }),
    fc.integer(),
    fc.double({ min: 0.05, max: 0.5, noNaN: true }),
    fc.constantFrom("minimize" as const, "maximize" as const)
  ], { numRuns: 200 })(
    "depend on the members and their values, not on the order they arrived in",
    (seed, scores, order, quantileFraction, direction) => {
      const g = Rng.generator(seed, "members")
      const members: Array<internal.AtBoundary> = scores.map((score, i) => {
        const params = { lr: Distribution.fromUnit(compiled.params.get("lr")!, g.next()), width: Math.floor(g.next() * 3) }
        // Scores with ties (small integers): ranking breaks them by member, not by position.
        return { member: i, trial: memberTrial(i, params, 4, score), score }
      })
      const decide = (ms: ReadonlyArray<internal.AtBoundary>) =>
        internal.boundaryPlan({
          options: { ...options, quantileFraction },
          space: compiled,
          members: ms,
          direction,
          rngOf: (m) => Rng.generator(seed, "synch", 4, m)
        }).map((e) => [e.member, e.trial.number, e.donor.number, e.explored.params, e.explored.changes])
      const plan = decide(members)
      expect(decide(Rng.generator(order, "arrival").shuffle(members))).toEqual(plan)
      // The bottom quantile exploits, from the top one.
      const k = members.length < 2 ? 0 : Math.min(Math.ceil(members.length * quantileFraction), Math.floor(members.length / 2))
      expect(plan.length).toBe(k)
      const worse = (a: number, b: number) => (direction === "minimize" ? a > b : a < b)
      for (const [member, , donor] of plan) expect(worse(scores[member as number], scores[donor as number]) || scores[member as number] === scores[donor as number]).toBe(true)
    }
  )
})

// A hand-driven synch population on memory storage, acting as the run loop does with as many
// workers as members: before each step, idle workers take what `resume` names and the waiting
// continuations; then the member fast-check picks reports its next step, and the decision is
// applied (Pause: paused; Prune: pruned with its last value). Its outcome must not depend on the
// picks, that is on the order members reach boundaries in.
const simulate = (seed: number, population: number, picks: ReadonlyArray<number>, maxStep: number) =>
  Effect.gen(function*() {
    const storage = yield* Storage.Storage
    const checkpoints = yield* Checkpoint.Checkpoint
    const scheduler = yield* Scheduler.Scheduler
    const info = yield* storage.createStudy("sim", { directions: ["minimize"], metrics: ["loss"] })
    yield* scheduler.check!(compiled as never, info)
    const history = storage.getTrials(info.id)
    interface Live { trial: Trial.FrozenTrial; step: number; loss: number }
    const live: Array<Live> = (yield* startPopulation(storage, info.id, compiled as never, seed, population)).map((trial) => ({ trial, step: 0, loss: 10 }))
    const start = (trial: Trial.FrozenTrial, from: { trial: number; step: number }) =>
      Effect.map(checkpoints.load({ study: "sim", trial: from.trial }, from.step), (d) => void live.push({ trial, step: from.step, loss: (d as { loss: number }).loss }))
    for (let i = 0; i < 10_000; i++) {
      for (;;) {
        const id = yield* scheduler.resume!({ study: info, history })
        if (Option.isNone(id)) break
        const t = Option.getOrThrow(yield* storage.claimWaiting(info.id, "sim", id.value))
        yield* start(t, { trial: t.number, step: t.intermediate.at(-1)!.step })
      }
      for (const c of (yield* history).filter((t) => t.state === "Waiting" && t.intermediate.length === 0 && Study.restorePointOf(t))) {
        yield* start(Option.getOrThrow(yield* storage.claimWaiting(info.id, "sim", c.id)), Study.restorePointOf(c)!)
      }
      if (live.length === 0) break
      const [m] = live.splice((picks[i] ?? 0) % live.length, 1)
      m.step++
      m.loss = m.loss * (1 - 0.1 * Math.exp(-((Math.log10(m.trial.params.lr) + 2) ** 2)))
      yield* checkpoints.save({ study: "sim", trial: m.trial.number }, m.step, { loss: m.loss })
      const metric = { step: m.step, values: { loss: m.loss } }
      yield* storage.report(m.trial.id, metric)
      const trial = yield* storage.getTrial(m.trial.id)
      const d = yield* scheduler.decide({ study: info, trial, metric, history, objectives: [{ metric: "loss", direction: "minimize" }] })
      if (d._tag === "Prune") yield* storage.finishTrial(m.trial.id, { state: "Pruned", reason: d.reason, values: [m.loss] })
      else if (d._tag === "Pause") yield* storage.pauseTrial(m.trial.id)
      else if (m.step === maxStep) yield* storage.finishTrial(m.trial.id, { state: "Complete", values: [m.loss] })
      else live.push(m)
    }
    yield* scheduler.finish!({ study: info, history })
    return yield* history
  }).pipe(
    Effect.provide(
      Pbt.layer({ ...options, perturbationInterval: 3, maxStep, population, hyperparamMutations: { lr: true, width: true } })
        .pipe(Layer.provideMerge(Layer.mergeAll(Storage.layerMemory, Checkpoint.layerMemory, Rng.layer({ seed }))))
    ),
    Effect.runPromise
  )

describe("synch PBT laws: a population in any arrival order", () => {
  const outcome = (ts: ReadonlyArray<Trial.FrozenTrial>) =>
    ts.map((t) => [t.number, t.state, t.params, t.intermediate, Pbt.lineageOf(t) ?? null, t.systemAttrs[Pbt.NEXT] ?? null, t.reason ?? null, t.values ?? null])

  test.prop([
    fc.integer(),
    fc.integer({ min: 2, max: 8 }),
    fc.array(fc.nat(), { minLength: 0, maxLength: 200 }),
    fc.array(fc.nat(), { minLength: 0, maxLength: 200 })
  ], { numRuns: 25 })(
    "gives the same trials, lineage and values, and ends every member",
    async (seed, population, a, b) => {
      const [x, y] = await Promise.all([simulate(seed, population, a, 12), simulate(seed, population, b, 12)])
      expect(outcome(y)).toEqual(outcome(x))
      expect(x.filter((t) => t.state === "Complete")).toHaveLength(population)
      expect(x.filter((t) => t.state === "Waiting" || t.state === "Running")).toEqual([])
    }
  )

  it("exploits in such a run (the law above is not vacuous)", async () => {
    const trials = await simulate(7, 6, Array.from({ length: 200 }, (_, i) => (i * 7919) % 101), 12)
    // 6 members, one exploited at each of the boundaries 3, 6, 9 (unless a donor had no use).
    expect(trials.filter((t) => Pbt.lineageOf(t) !== undefined).length).toBe(3 * 2)
  })
})
