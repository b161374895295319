import { Effect } from "effect"
import { map, of } from "rxjs"
import { describe, expect, it } from "vitest"
import { Scheduler } from "../src/index.js"

const pruneAt3 = (m: { step: number }) =>
  Effect.as(Effect.sleep("5 millis"), m.step >= 3 ? Scheduler.Decision.Prune({ reason: "step 3" }) : Scheduler.Continue)

describe("Scheduler.decisionOn", () => {
  it("gives the decision the operator takes on that metric, also one that comes after next returns", async () => {
    const metrics = [1, 2, 3].map((step) => ({ step, values: { loss: 1 / step } }))
    const decided = metrics.map((m) => Scheduler.decisionOn(m))
    of(...metrics).pipe(Scheduler.decisions(pruneAt3)).subscribe()
    expect((await Promise.all(decided)).map((d) => d?._tag)).toEqual(["Continue", "Continue", "Prune"])
  })

  it("settles with undefined after its wait when no operator sees that very metric (a trainer that remade it)", async () => {
    const metric = { step: 1, values: { loss: 1 } }
    const decided = Scheduler.decisionOn(metric, 30)
    of(metric).pipe(map((m) => ({ ...m })), Scheduler.decisions(pruneAt3)).subscribe()
    expect(await decided).toBeUndefined()
  })
})
