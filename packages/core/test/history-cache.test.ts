import { describe, expect, it } from "vitest"
import { StorageBackend, Trial } from "../src/index.js"

const t = (id: number, number: number, state: Trial.State = "Running") => Trial.make({ id, number, state })

describe("StorageBackend.HistoryCache", () => {
  it("keeps trials in order of number through changes, new trials and late ones, never changing a list it gave", () => {
    const c = new StorageBackend.HistoryCache(0)
    c.put(t(1, 0), 1)
    c.put(t(2, 1), 1)
    const first = c.trials()
    expect(first.map((x) => x.id)).toEqual([1, 2])
    c.put(t(1, 0, "Complete"), 2)
    c.put(t(3, 2), 1)
    const second = c.trials()
    expect(second.map((x) => [x.id, x.state])).toEqual([[1, "Complete"], [2, "Running"], [3, "Running"]])
    expect(first.map((x) => x.state)).toEqual(["Running", "Running"])
    expect(c.trials()).toBe(second)
    // A trial numbered before the last one held (another process created it, seen late).
    c.put(t(5, 4), 1)
    c.put(t(4, 3), 1)
    expect(c.trials().map((x) => x.number)).toEqual([0, 1, 2, 3, 4])
    c.put(t(4, 3, "Failed"), 2)
    expect(c.trials(["Failed", "Complete"]).map((x) => x.id)).toEqual([1, 4])
    expect(c.holds(4, 2)).toBe(true)
    expect(c.holds(4, 1)).toBe(false)
  })
})
