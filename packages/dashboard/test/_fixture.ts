// A storage with studies of every kind the pages show, written through the Storage service as a
// study would write them: learning curves, pruned and failed trials (with a failure's stack), a
// running trial, the tracker's tags, notes and artifacts, a program's output tails, a PBT lineage,
// two objectives, and the escaping probe as a study, a parameter, a choice, an attribute and a note.
import { Distribution, Storage, Tracker } from "@tunekit/core"
import { Pbt } from "@tunekit/schedulers"
import { Runs } from "@tunekit/tracking"
import { Effect } from "effect"

export const PROBE = "<img src=x onerror=alert(1)>"

const lr = Distribution.float("lr", 1e-4, 1e-1, { log: true })
const layers = Distribution.int("layers", 1, 6)
const act = Distribution.categorical("act", ["relu", "tanh", PROBE])

const write = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromise(e)

/** Writes the studies into the SQLite file (created if missing). */
export const build = (file: string, artifacts: string): Promise<void> =>
  Effect.runPromise(
    Effect.scoped(Effect.flatMap(Storage.Storage, (s) => Effect.promise(() => fill(s, artifacts)))).pipe(Effect.provide(Storage.layerSqlite(file)))
  )

const fill = async (s: Storage.StorageService, artifacts: string) => {
  // A study with learning curves and every state.
  const mlp = await write(s.createStudy("mlp", { directions: ["minimize"], metrics: ["val_loss"] }))
  const runs = Runs.make(s, { directory: artifacts })
  for (let i = 0; i < 12; i++) {
    const params = { lr: 10 ** (-4 + (i % 4)), layers: 1 + (i % 6), act: i % 3 }
    const t = await write(s.createTrial(mlp.id, { state: "Running", worker: "host:1", params, distributions: { lr, layers, act } }))
    const steps = i % 4 === 1 ? 3 : 8
    for (let step = 1; step <= steps; step++) {
      await write(s.report(t.id, { step, values: { val_loss: 1 / (step + i / 3) + 0.05 * (i % 5), train_loss: 1 / (step + 1) } }))
    }
    if (i === 0) {
      await write(runs.logged!(mlp, t, Tracker.tags({ stage: "baseline" })))
      await write(runs.logged!(mlp, t, Tracker.note("first try, default settings")))
      await write(runs.logged!(mlp, t, Tracker.artifact("metrics.json", JSON.stringify({ val_loss: 0.3 }), "application/json")))
      await write(s.setTrialAttr(t.id, "user", "stdout_tail", "epoch 1 loss 0.9\nepoch 2 loss 0.5"))
      await write(s.setTrialAttr(t.id, "user", "stderr_tail", "warning: slow start"))
    }
    if (i === 11) continue // left running
    if (i % 4 === 1) await write(s.finishTrial(t.id, { state: "Pruned", reason: "median pruner at step 3", values: [0.9] }))
    else if (i === 6) {
      await write(s.setTrialAttr(t.id, "system", "failure", {
        message: "the objective failed: out of memory",
        tag: "OutOfMemory",
        stack: "Error: out of memory\n    at train (train.ts:42:11)\n    at run (runLoop.ts:7:3)"
      }))
      await write(s.finishTrial(t.id, { state: "Failed", reason: "the objective failed: out of memory" }))
    } else await write(s.finishTrial(t.id, { state: "Complete", values: [1 / (8 + i / 3) + 0.05 * (i % 5)] }))
  }

  // Two objectives.
  const multi = await write(s.createStudy("multi", { directions: ["minimize", "maximize"], metrics: ["loss", "accuracy"] }))
  for (let i = 0; i < 20; i++) {
    const x = i / 19
    const t = await write(s.createTrial(multi.id, { state: "Running", params: { lr: 10 ** (-4 + 3 * x) }, distributions: { lr } }))
    await write(s.finishTrial(t.id, { state: "Complete", values: [x * x, 1 - (1 - x) ** 2] }))
  }

  // PBT: trial 2 continues trial 0 from trial 1's checkpoint.
  const pbt = await write(s.createStudy("pbt", { directions: ["minimize"], metrics: ["loss"] }))
  const members = []
  for (let i = 0; i < 2; i++) {
    const t = await write(s.createTrial(pbt.id, { state: "Running", params: { lr: 0.01 * (i + 1) }, distributions: { lr } }))
    for (let step = 1; step <= 4; step++) await write(s.report(t.id, { step, values: { loss: 1 / step + i * 0.1 } }))
    members.push(t)
  }
  const child = await write(s.createTrial(pbt.id, {
    state: "Running",
    params: { lr: 0.012 },
    distributions: { lr },
    systemAttrs: { [Pbt.LINEAGE]: { member: 0, generation: 1, parent: 0, exploitedAt: 4, donor: 1, step: 4, changes: { lr: { from: 0.02, to: 0.012 } } } }
  }))
  await write(s.setTrialAttr(members[0].id, "system", Pbt.NEXT, child.number))
  for (const t of members) await write(s.finishTrial(t.id, { state: "Pruned", reason: "exploited", values: [0.25] }))
  for (let step = 5; step <= 8; step++) await write(s.report(child.id, { step, values: { loss: 0.2 / step } }))
  await write(s.finishTrial(child.id, { state: "Complete", values: [0.025] }))

  // A rung scheduler's study (resources 1, 3, 9): what ASHA stores, the rungs a trial was let past.
  const asha = await write(s.createStudy("asha", { directions: ["minimize"], metrics: ["loss"] }))
  for (let i = 0; i < 9; i++) {
    const t = await write(s.createTrial(asha.id, { state: "Running", params: { lr: 10 ** (-4 + (i % 3)) }, distributions: { lr } }))
    const last = i < 6 ? 1 : i < 8 ? 3 : 9
    for (let step = 1; step <= last; step++) await write(s.report(t.id, { step, values: { loss: (1 + i) / (step + 8 - i) } }))
    await write(s.setTrialAttr(t.id, "system", "tunekit.rung", last === 1 ? 0 : last === 3 ? 1 : 2))
    await write(last === 9 ? s.finishTrial(t.id, { state: "Complete", values: [9 / 17] }) : s.finishTrial(t.id, { state: "Pruned", reason: `stopped at rung ${last}` }))
  }

  // The escaping probe everywhere a user names something.
  const probe = await write(s.createStudy(PROBE, { directions: ["minimize"] }))
  const p = Distribution.float(PROBE, 0, 1)
  for (let i = 0; i < 3; i++) {
    const t = await write(s.createTrial(probe.id, { state: "Running", params: { [PROBE]: i / 3, act: 2 }, distributions: { [PROBE]: p, act } }))
    await write(s.setTrialAttr(t.id, "user", PROBE, PROBE))
    await write(s.report(t.id, { step: 1, values: { [PROBE]: i } }))
    await write(s.finishTrial(t.id, { state: "Complete", values: [i] }))
  }
  await write(s.setStudyAttr(probe.id, "system", "dashboard:note", PROBE))
  await write(s.setStudyAttr(probe.id, "system", "dashboard:note:trial:0", PROBE))
}

/**
 * A study of `n` finished trials (4 parameters, a value, some pruned with a curve, some failed), in
 * a SQLite file: the size the dashboard must stay responsive at. Written through the storage, one
 * trial after another as a study writes them.
 */
export const buildLarge = (file: string, name: string, n: number): Promise<void> =>
  Effect.runPromise(
    Effect.scoped(Effect.gen(function*() {
      const s = yield* Storage.Storage
      const study = yield* s.createStudy(name, { directions: ["minimize"], metrics: ["loss"] })
      const x = Distribution.float("x", -5, 5)
      const y = Distribution.float("y", -5, 5)
      for (let i = 0; i < n; i++) {
        // A fixed, spread sequence (golden-ratio steps): the same study every time.
        const [u, v, w] = [(i * 0.6180339887) % 1, (i * 0.7548776662) % 1, (i * 0.5698402910) % 1]
        const params = { lr: 10 ** (-4 + 3 * u), layers: 1 + (i % 6), x: -5 + 10 * v, y: -5 + 10 * w }
        const t = yield* s.createTrial(study.id, { state: "Running", worker: `w${i % 4}`, params, distributions: { lr, layers, x, y } })
        const loss = (params.x - 1) ** 2 + (params.y + 2) ** 2 + Math.abs(Math.log10(params.lr) + 2.5)
        if (i % 10 === 3) {
          yield* s.report(t.id, { step: 1, values: { loss: loss * 1.5 } })
          yield* s.finishTrial(t.id, { state: "Pruned", reason: "pruned at step 1" })
        } else if (i % 97 === 5) yield* s.finishTrial(t.id, { state: "Failed", reason: "the objective failed: diverged" })
        else yield* s.finishTrial(t.id, { state: "Complete", values: [loss] })
      }
    })).pipe(Effect.provide(Storage.layerSqlite(file)))
  )

