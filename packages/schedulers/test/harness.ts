// Drives the pure rung schedulers the way workers would, without a study: trials are started up
// to a concurrency, advanced one step at a time in a seeded random order, paused, resumed and
// pruned as the scheduler decides.
import { Rng, Scheduler } from "@tunekit/core"
import type { Trial } from "@tunekit/core"
import type { Core } from "../src/internal/rungs.js"
import { KEY } from "../src/internal/rungs.js"

interface Live {
  id: number
  number: number
  state: Trial.State
  intermediate: Array<Trial.Metric>
  mark: number
}

const freeze = (t: Live): Trial.FrozenTrial => ({
  id: t.id,
  number: t.number,
  state: t.state,
  params: {},
  distributions: {},
  values: undefined,
  intermediate: [...t.intermediate],
  userAttrs: {},
  systemAttrs: t.mark > 0 ? { [KEY]: t.mark } : {},
  startedAt: 0,
  finishedAt: undefined,
  worker: undefined,
  reason: undefined
})

export interface Run {
  readonly log: Array<string>
  readonly trials: ReadonlyArray<Trial.FrozenTrial>
}

export const drive = (
  core: Core,
  o: {
    readonly configurations: number
    readonly maxResource: number
    readonly concurrency: number
    readonly seed: number
    readonly value: (number: number, step: number) => number
    readonly direction?: Trial.Direction
    /** Called after every decision with the trials as stored then. */
    readonly check?: (trials: ReadonlyArray<Trial.FrozenTrial>, decided: Trial.FrozenTrial, decision: Scheduler.Decision) => void
    /** Called with each decision's input, to compare with other histories. */
    readonly onDecide?: (input: Parameters<Core["decide"]>[0], decision: Scheduler.Decision) => void
  }
): Run => {
  const rng = Rng.generator(o.seed, "harness")
  const objective = { metric: "value", direction: o.direction ?? "minimize" }
  const trials: Array<Live> = []
  const log: Array<string> = []
  const history = () => trials.map(freeze)
  for (let guard = 0; guard < 100_000; guard++) {
    // start or resume trials up to the concurrency
    while (trials.filter((t) => t.state === "Running").length < o.concurrency) {
      const plan = core.resume?.(history(), objective)
      for (const r of plan?.retire ?? []) {
        const t = trials.find((x) => x.id === r.id)!
        t.state = "Pruned"
        log.push(`retire ${t.number}`)
      }
      if (plan?.resume) {
        const t = trials.find((x) => x.id === plan.resume!.id)!
        t.state = "Running"
        t.mark = plan.resume.mark
        log.push(`resume ${t.number} to ${t.mark}`)
        continue
      }
      if (trials.length >= o.configurations) break
      trials.push({ id: 100 + trials.length, number: trials.length, state: "Running", intermediate: [], mark: 0 })
    }
    const running = trials.filter((t) => t.state === "Running")
    if (running.length === 0) break
    const t = running[rng.int(running.length)]
    const step = (t.intermediate[t.intermediate.length - 1]?.step ?? 0) + 1
    const metric = { step, values: { value: o.value(t.number, step) } }
    t.intermediate.push(metric)
    const input = { trial: freeze(t), metric, history: history(), objective }
    const out = core.decide(input)
    o.onDecide?.(input, out.decision)
    if (out.mark !== undefined) t.mark = out.mark
    log.push(`${t.number}@${step}:${out.decision._tag}`)
    if (out.decision._tag === "Prune") t.state = "Pruned"
    else if (out.decision._tag === "Pause") t.state = "Waiting"
    else if (step >= o.maxResource) t.state = "Complete"
    o.check?.(history(), freeze(t), out.decision)
  }
  return { log, trials: history() }
}

export { Scheduler }
