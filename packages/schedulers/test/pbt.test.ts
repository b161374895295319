import { Checkpoint, Rng, Sampler, Space, Storage, Study, Tracker, Trial } from "@tunekit/core"
import { Effect, Either, Layer, Option } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Observable } from "rxjs"
import { describe, expect, it } from "vitest"
import { Pbt } from "../src/index.js"
import { toyTraining } from "./toyTraining.js"

// A toy training whose best learning rate changes over time: the ideal rate decays tenfold over
// the run, and a step makes progress only when the rate is near the ideal of that step. A fixed
// rate is right for a third of the run at best; following the decay needs a schedule.
const STEPS = 60
const { ideal, advance } = toyTraining(STEPS)
const fixedFinal = (lr: number) => {
  let loss = 1
  for (let step = 1; step <= STEPS; step++) loss = advance(loss, lr, step)
  return loss
}

const space = Space.struct({ lr: Space.float(1e-3, 1, { log: true }), width: Space.categorical([16, 32, 64]) })
type Config = Space.Type<typeof space>

// The trainer: restores its state from the trial's restore point (its own pause, or a PBT donor),
// saves a checkpoint before reporting each step, as the Checkpoint convention says.
const trainer = (checkpoints: Checkpoint.CheckpointService, running: { now: number; max: number }) =>
  async (config: Config, trial: Study.TrialContext<Config>) => {
    running.max = Math.max(running.max, ++running.now)
    try {
      const ckpt = Checkpoint.forTrial(checkpoints, trial)
      const start = await Effect.runPromise(ckpt.restore)
      let step = 0
      let loss = 1
      if (Option.isSome(start)) {
        step = start.value.step
        loss = (start.value.data as { loss: number }).loss
      }
      while (step < STEPS) {
        step++
        loss = advance(loss, config.lr, step)
        await Effect.runPromise(ckpt.save(step, { loss }))
        await trial.report({ step, values: { loss } })
      }
      return loss
    } finally {
      running.now--
    }
  }

const services = (
  seed: number,
  scheduler: Layer.Layer<any, never, any>,
  checkpoints = Checkpoint.layerMemory,
  storage: Layer.Layer<Storage.Storage, any> = Storage.layerMemory
) =>
  Layer.mergeAll(scheduler, Sampler.layerRandom, Tracker.layerNone).pipe(
    Layer.provideMerge(Layer.mergeAll(storage, Rng.layer({ seed }), checkpoints))
  )

const options: Pbt.Options = { perturbationInterval: 4, quantileFraction: 0.25, hyperparamMutations: { lr: true }, maxStep: STEPS }
const POPULATION = 8

const runPbt = (seed: number, checkpoints = Checkpoint.layerMemory, storage: Layer.Layer<Storage.Storage, any> = Storage.layerMemory) => {
  const running = { now: 0, max: 0 }
  const program = Effect.gen(function*() {
    const service = yield* Checkpoint.Checkpoint
    const r = yield* Study.optimize({
      study: "decay",
      space,
      metric: "loss",
      direction: "minimize",
      objective: trainer(service, running),
      trials: POPULATION,
      concurrency: POPULATION
    })
    return { ...r, all: yield* r.study.trials, running }
  })
  return Effect.runPromise(Effect.scoped(program.pipe(Effect.provide(services(seed, Pbt.layer(options), checkpoints, storage)))) as Effect.Effect<any>) as Promise<{
    best: Option.Option<Trial.FrozenTrial>
    trials: ReadonlyArray<Trial.FrozenTrial>
    all: ReadonlyArray<Trial.FrozenTrial>
    running: { max: number }
  }>
}

describe("Pbt end to end", () => {
  it("follows a decaying learning rate and beats every fixed learning rate", async () => {
    // The best fixed configuration, found exactly on a fine grid of the whole range.
    let bestFixed = Infinity
    let bestLr = NaN
    for (let i = 0; i <= 2000; i++) {
      const lr = 1e-3 * 1000 ** (i / 2000)
      const f = fixedFinal(lr)
      if (f < bestFixed) [bestFixed, bestLr] = [f, lr]
    }
    const results = await Promise.all([1, 2, 3].map((seed) => runPbt(seed)))
    for (const r of results) {
      const best = Option.getOrThrow(r.best)
      expect(best.values![0]).toBeLessThan(bestFixed * 0.5)
      // The schedule that trained the best weights goes down, as the ideal rate does.
      const schedule = Pbt.schedule(r.all, best)
      expect(schedule.length).toBeGreaterThan(2)
      expect(schedule[0].from).toBe(0)
      expect(schedule[schedule.length - 1].to).toBe(STEPS)
      for (let i = 1; i < schedule.length; i++) expect(schedule[i].from).toBe(schedule[i - 1].to)
      const lrAt = (step: number) => schedule.find((s) => s.from < step && step <= s.to)!.params.lr as number
      expect(lrAt(STEPS)).toBeLessThan(lrAt(1))
    }
    // The best fixed rate sits between the ideal rates of the start and of the end.
    expect(bestLr).toBeGreaterThan(ideal(STEPS))
    expect(bestLr).toBeLessThan(ideal(0))
    if (process.env.TUNEKIT_PRINT) console.log("pbt", results.map((r) => Option.getOrThrow(r.best).values![0]), "best fixed", bestFixed, bestLr)
  })

  it("keeps the population size: one live trial per member, each member ends in exactly one complete trial", async () => {
    const r = await runPbt(4)
    expect(r.running.max).toBeLessThanOrEqual(POPULATION)
    const members = new Map<number, Array<Trial.FrozenTrial>>()
    for (const t of r.all) members.set(Pbt.memberOf(t), [...(members.get(Pbt.memberOf(t)) ?? []), t])
    expect(members.size).toBe(POPULATION)
    let exploits = 0
    for (const chain of members.values()) {
      expect(chain.filter((t) => t.state === "Complete")).toHaveLength(1)
      expect(chain.filter((t) => t.state === "Waiting" || t.state === "Running")).toHaveLength(0)
      for (const t of chain) {
        if (t.state === "Pruned") {
          exploits++
          expect(t.systemAttrs[Pbt.NEXT]).toBeTypeOf("number")
          expect(t.reason).toMatch(/^pbt: in the bottom quantile at step \d+; exploited trial \d+/)
        }
      }
    }
    expect(exploits).toBeGreaterThan(POPULATION)
    expect(r.all.length).toBe(POPULATION + exploits)
  })

  it("stores the lineage: who copied whom, at which step, which values changed", async () => {
    const r = await runPbt(5)
    const byNumber = new Map(r.all.map((t) => [t.number, t]))
    const continuations = r.all.filter((t) => Pbt.lineageOf(t) !== undefined)
    expect(continuations.length).toBeGreaterThan(0)
    for (const t of continuations) {
      const l = Pbt.lineageOf(t)!
      const parent = byNumber.get(l.parent)!
      const donor = byNumber.get(l.donor)!
      expect(parent.state).toBe("Pruned")
      expect(parent.systemAttrs[Pbt.NEXT]).toBe(t.number)
      expect(Pbt.memberOf(parent)).toBe(l.member)
      expect(l.generation).toBe((Pbt.lineageOf(parent)?.generation ?? 0) + 1)
      expect(Study.restorePointOf(t)).toEqual({ trial: l.donor, step: l.step })
      // The donor had reached the step it was copied at; the continuation reports after it only.
      expect(donor.intermediate.some((m) => m.step === l.step)).toBe(true)
      expect(t.intermediate[0]?.step).toBe(l.step + 1)
      // Copied from the donor, explored only where the mutations say, and each change recorded.
      const d = Trial.paramValues(donor)
      const c = Trial.paramValues(t)
      expect(c.width).toBe(d.width)
      if (c.lr !== d.lr) expect(l.changes.lr).toEqual({ from: d.lr, to: c.lr })
      else expect(l.changes.lr).toBeUndefined()
      expect(Object.keys(l.changes).every((k) => k === "lr")).toBe(true)
    }
  })

  it("runs on SQLite with checkpoint files: the continuations and their lineage survive a reopen", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunekit-pbt-sqlite-"))
    const file = path.join(dir, "study.db")
    const r = await runPbt(8, Checkpoint.layer({ directory: path.join(dir, "ckpt") }), Storage.layerSqlite(file))
    const reopened = await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
      const s = yield* Storage.Storage
      return yield* s.getTrials((yield* s.getStudy("decay")).id)
    }).pipe(Effect.provide(Storage.layerSqlite(file)))))
    expect(reopened.map((t) => [t.number, t.state, t.systemAttrs])).toEqual(r.all.map((t) => [t.number, t.state, t.systemAttrs]))
    expect(new Set(reopened.map(Pbt.memberOf)).size).toBe(POPULATION)
    expect(reopened.filter((t) => t.state === "Complete")).toHaveLength(POPULATION)
    expect(reopened.filter((t) => Pbt.lineageOf(t) !== undefined).length).toBeGreaterThan(0)
  })

  it("works with an Observable trainer (the shape of the TensorFlow.js trainers): stops exploited ones, restores continuations", async () => {
    let unsubscribed = 0
    const program = Effect.gen(function*() {
      const checkpoints = yield* Checkpoint.Checkpoint
      const r = yield* Study.optimize({
        study: "obs",
        space,
        metric: "loss",
        direction: "minimize",
        trials: 6,
        concurrency: 6,
        objective: (config, trial) =>
          new Observable<Trial.Metric>((subscriber) => {
            let stopped = false
            let step = 0
            const ckpt = Checkpoint.forTrial(checkpoints, trial)
            ;(async () => {
              const start = await Effect.runPromise(ckpt.restore)
              step = Option.isSome(start) ? start.value.step : 0
              let loss = Option.isSome(start) ? (start.value.data as { loss: number }).loss : 1
              while (step < STEPS && !stopped) {
                step++
                loss = advance(loss, config.lr, step)
                await Effect.runPromise(ckpt.save(step, { loss }))
                if (!stopped) subscriber.next({ step, values: { loss } })
              }
              subscriber.complete()
            })().catch((e) => subscriber.error(e))
            // Counts the trainers stopped before their last step: the exploited ones.
            return () => {
              if (step < STEPS) unsubscribed++
              stopped = true
            }
          })
      })
      return yield* r.study.trials
    })
    const all = await Effect.runPromise(program.pipe(Effect.provide(services(2, Pbt.layer(options)))) as Effect.Effect<ReadonlyArray<Trial.FrozenTrial>>)
    const exploited = all.filter((t) => t.state === "Pruned")
    expect(exploited.length).toBeGreaterThan(0)
    expect(unsubscribed).toBe(exploited.length)
    expect(all.filter((t) => t.state === "Complete")).toHaveLength(6)
    for (const t of all.filter((t) => Pbt.lineageOf(t))) expect(t.intermediate[0].step).toBe(Study.restorePointOf(t)!.step + 1)
  })

  it("is deterministic for a seed", async () => {
    const summary = (r: Awaited<ReturnType<typeof runPbt>>) =>
      r.all.map((t) => [t.number, t.state, t.params, t.systemAttrs[Pbt.LINEAGE] ?? null, t.values ?? null])
    const [a, b] = await Promise.all([runPbt(9), runPbt(9)])
    expect(summary(a)).toEqual(summary(b))
  })

  it("round-trips the weights through checkpoint files", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunekit-pbt-"))
    // Every checkpoint kept (no retention), to read the donor's after the run.
    const r = await runPbt(6, Checkpoint.layer({ directory: dir, retention: false }))
    const cont = r.all.find((t) => Pbt.lineageOf(t) !== undefined)!
    const l = Pbt.lineageOf(cont)!
    const files = Checkpoint.makeFiles(dir)
    const donorState = await Effect.runPromise(files.load({ study: "decay", trial: l.donor }, l.step)) as { loss: number }
    // The continuation's first step starts from the donor's loss at the restore step.
    const lr = Trial.paramValues(cont).lr as number
    expect(cont.intermediate[0].values.loss).toBeCloseTo(advance(donorState.loss, lr, l.step + 1), 12)
    expect(fs.existsSync(path.join(dir, "decay", `trial-${cont.number}`, `step-${STEPS}.ckpt`)) || cont.state !== "Complete").toBe(true)
  })
})

describe("Pbt bad input", () => {
  const start = (pbt: Pbt.Options, s: Space.Space<any> | null = space) =>
    Effect.runPromise(Effect.either(Study.optimize({ study: "bad", ...(s ? { space: s } : {}), objective: () => 1, trials: 1 }).pipe(
      Effect.provide(services(1, Pbt.layer(pbt)))
    ) as Effect.Effect<unknown, any>))

  it.each([
    [{ perturbationInterval: 4, quantileFraction: 0 }, "quantileFraction: expected a number in (0, 0.5], got 0"],
    [{ perturbationInterval: 4, quantileFraction: 0.6 }, "quantileFraction: expected a number in (0, 0.5], got 0.6"],
    [{ perturbationInterval: 4, hyperparamMutations: { learningRate: true } }, `hyperparamMutations.learningRate: not a parameter of the space (its parameters: lr, width)`],
    [{ perturbationInterval: 0 }, "perturbationInterval: expected a positive number, got 0"],
    [{ perturbationInterval: 4, maxStep: -1 }, "maxStep: expected a positive number, got -1"],
    [{ perturbationInterval: 4, resampleProbability: 2 }, "resampleProbability: expected a number in [0, 1], got 2"],
    [{ perturbationInterval: 4, hyperparamMutations: { lr: { factors: [0.8, -1] } } }, "hyperparamMutations.lr.factors[1]: expected a positive number, got -1"]
  ] as const)("fails when the study starts: %j", async (pbt, message) => {
    const r = await start(pbt as Pbt.Options)
    expect(Either.isLeft(r)).toBe(true)
    const e = (r as Either.Left<any, unknown>).left
    expect(e._tag).toBe("InvalidScheduler")
    expect(e.message).toContain(`pbt scheduler: ${message}`)
  })

  it("fails without a declared space", async () => {
    const r = await start({ perturbationInterval: 4 }, null)
    expect(Either.isLeft(r) && (r.left as any).message).toContain("needs a declared search space")
  })
})
