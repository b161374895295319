import { fc, test } from "@fast-check/vitest"
import { Effect, Layer, Option } from "effect"
import { describe, expect, it } from "vitest"
import { Distribution, Rng, Sampler, SamplerUnsupported, Scheduler, Space, Storage, Study, Tracker } from "@tunekit/core"
import * as Qmc from "../src/Qmc.js"
import * as Halton from "../src/internal/halton.js"
import * as Sobol from "../src/internal/sobol.js"

const services = (sampler: Sampler.SamplerService, seed = 1) =>
  Layer.mergeAll(Storage.layerMemory, Layer.succeed(Sampler.Sampler, sampler), Scheduler.layerNone, Tracker.layerNone, Rng.layer({ seed }))

const run = <A, E>(e: Effect.Effect<A, E, Study.Services>, sampler: Sampler.SamplerService, seed = 1) =>
  Effect.runPromise(e.pipe(Effect.provide(services(sampler, seed))))

/** L2-star discrepancy by Warnock's formula (1972). */
const l2StarDiscrepancy = (pts: ReadonlyArray<ReadonlyArray<number>>): number => {
  const n = pts.length
  const d = pts[0].length
  let a = 0
  for (const x of pts) a += x.reduce((p, v) => p * (1 - v * v), 1)
  let b = 0
  for (const x of pts) for (const y of pts) b += x.reduce((p, v, k) => p * (1 - Math.max(v, y[k])), 1)
  return Math.sqrt(3 ** -d - (2 ** (1 - d) / n) * a + b / (n * n))
}

describe("Sobol'", () => {
  it("matches the published first points of the unscrambled sequence (Joe & Kuo, Gray-code order)", () => {
    // SciPy's qmc.Sobol(d=3, scramble=False).random(8), from the same direction numbers.
    const expected = [
      [0, 0, 0],
      [0.5, 0.5, 0.5],
      [0.75, 0.25, 0.25],
      [0.25, 0.75, 0.75],
      [0.375, 0.375, 0.625],
      [0.875, 0.875, 0.125],
      [0.625, 0.125, 0.875],
      [0.125, 0.625, 0.375]
    ]
    const s = Qmc.sequence({ kind: "sobol", scramble: false })
    expect(expected.map((_, i) => s.point(i, 3))).toEqual(expected)
    // Direction numbers of dimension 4 (s = 3, a = 1, m = 1 3 1): v_1..v_3 = 1/2, 3/4, 1/8.
    const v = Sobol.directions(3)
    expect([v[0], v[1], v[2]].map((x) => x / 2 ** 32)).toEqual([0.5, 0.75, 0.125])
  })

  it(`covers ${Sobol.MAX_DIM} dimensions; each one's first 2^k points fill the 2^k dyadic intervals once`, () => {
    expect(Sobol.MAX_DIM).toBeGreaterThanOrEqual(21)
    const s = Qmc.sequence({ kind: "sobol", scramble: false })
    const k = 9
    for (let j = 0; j < Sobol.MAX_DIM; j++) {
      const cells = new Set<number>()
      for (let i = 0; i < 2 ** k; i++) cells.add(Math.floor(s.coordinate(i, j) * 2 ** k))
      expect(cells.size).toBe(2 ** k)
    }
  })

  it("the first 2^k points are a (0, k, 2)-net in the first two dimensions", () => {
    const s = Qmc.sequence({ kind: "sobol", scramble: false })
    const k = 6
    for (let a = 0; a <= k; a++) {
      const cells = new Set<string>()
      for (let i = 0; i < 2 ** k; i++) {
        const [x, y] = s.point(i, 2)
        cells.add(`${Math.floor(x * 2 ** a)},${Math.floor(y * 2 ** (k - a))}`)
      }
      expect(cells.size).toBe(2 ** k)
    }
  })

  test.prop([fc.integer()], { numRuns: 10 })("scrambling keeps the stratification, and the seed decides the points", (seed) => {
    const a = Qmc.sequence({ kind: "sobol", seed })
    const b = Qmc.sequence({ kind: "sobol", seed })
    const c = Qmc.sequence({ kind: "sobol", seed: seed + 1 })
    for (const j of [0, 5, 20]) {
      const cells = new Set<number>()
      for (let i = 0; i < 256; i++) {
        const x = a.coordinate(i, j)
        expect(x).toBeGreaterThanOrEqual(0)
        expect(x).toBeLessThan(1)
        cells.add(Math.floor(x * 256))
      }
      expect(cells.size).toBe(256)
    }
    expect(a.point(7, 5)).toEqual(b.point(7, 5))
    expect(a.point(7, 5)).not.toEqual(c.point(7, 5))
  })
})

describe("Halton", () => {
  it("is the radical inverse in prime bases when unscrambled", () => {
    const s = Qmc.sequence({ kind: "halton", scramble: false })
    const close = (a: ReadonlyArray<number>, b: ReadonlyArray<number>) => a.forEach((x, i) => expect(x).toBeCloseTo(b[i], 14))
    close(s.point(1, 3), [1 / 2, 1 / 3, 1 / 5])
    close(s.point(2, 3), [1 / 4, 2 / 3, 2 / 5])
    close(s.point(3, 3), [3 / 4, 1 / 9, 3 / 5])
    close(s.point(5, 2), [5 / 8, 7 / 9])
    expect(Halton.prime(20)).toBe(73)
  })

  test.prop([fc.integer(), fc.integer({ min: 0, max: 30 })], { numRuns: 20 })(
    "scrambled: the first b^k points of a base-b dimension fill its b^k intervals once",
    (seed, j) => {
      const s = Qmc.sequence({ kind: "halton", seed })
      const b = Halton.prime(j)
      const k = b <= 3 ? 4 : b <= 13 ? 2 : 1
      const cells = new Set<number>()
      for (let i = 0; i < b ** k; i++) {
        const x = s.coordinate(i, j)
        expect(x).toBeGreaterThanOrEqual(0)
        expect(x).toBeLessThan(1)
        cells.add(Math.floor(x * b ** k))
      }
      expect(cells.size).toBe(b ** k)
    }
  )
})

describe("Latin hypercube", () => {
  test.prop([fc.integer(), fc.integer({ min: 1, max: 60 }), fc.boolean()], { numRuns: 30 })(
    "each block puts exactly one point in each stratum of each dimension",
    (seed, size, centered) => {
      const s = Qmc.sequence({ kind: "lhs", seed, size, centered })
      for (const block of [0, 1]) {
        for (let j = 0; j < 4; j++) {
          const strata = Array.from({ length: size }, (_, i) => Math.floor(s.coordinate(block * size + i, j) * size))
          expect([...strata].sort((a, b) => a - b)).toEqual(Array.from({ length: size }, (_, i) => i))
        }
      }
    }
  )
})

describe("discrepancy", () => {
  it("every QMC design has a lower L2-star discrepancy than random points", () => {
    const n = 128
    const d = 4
    const rand = [1, 2, 3, 4, 5].map((seed) => {
      const g = Rng.generator(seed)
      return l2StarDiscrepancy(Array.from({ length: n }, () => Array.from({ length: d }, () => g.next())))
    })
    const randomMean = rand.reduce((a, b) => a + b) / rand.length
    for (const kind of ["sobol", "halton", "lhs"] as const) {
      const s = Qmc.sequence({ kind, seed: 3, size: n })
      const disc = l2StarDiscrepancy(Array.from({ length: n }, (_, i) => s.point(i, d)))
      expect(disc, kind).toBeLessThan(randomMean)
    }
    const sobol = Qmc.sequence({ kind: "sobol", seed: 3 })
    const sobolDisc = l2StarDiscrepancy(Array.from({ length: n }, (_, i) => sobol.point(i, d)))
    expect(sobolDisc).toBeLessThan(randomMean / 2)
  })
})

const mixed = Space.struct({
  x: Space.float(-5, 5),
  lr: Space.float(1e-5, 1e-1, { log: true }),
  n: Space.int(1, 6),
  s: Space.float(0, 1, { step: 0.25 }),
  c: Space.categorical(["a", "b", "c"]),
  opt: Space.branch({ sgd: Space.struct({ m: Space.float(0, 1) }), adam: Space.struct({ b: Space.int(1, 100, { log: true }) }) })
})

describe("QMC samplers in a study", () => {
  for (const kind of ["sobol", "halton", "lhs"] as const) {
    it(`${kind}: trial i takes point i, in bounds and on the grid, with 4 workers`, async () => {
      const sampler = Qmc.make({ kind, size: 16 })
      const r = await run(Study.optimize({ study: "q", space: mixed, objective: (c) => c.x, trials: 32, concurrency: 4 }), sampler, 7)
      const compiled = Space.compile(mixed)
      const names = [...compiled.params.keys()]
      const s = Qmc.sequence({ kind, size: 16, generator: (dim, block = 0) => Rng.generator(7, "q", "qmc", kind, dim, block) })
      expect(r.trials.length).toBe(32)
      for (const t of r.trials) {
        for (const [k, v] of Object.entries(t.params)) {
          const d = compiled.params.get(k)!
          expect(Distribution.contains(d, v), `${k}=${v}`).toBe(true)
          expect(v).toBe(Distribution.fromUnit(d, s.coordinate(t.number, names.indexOf(k))))
        }
      }
    })
  }

  it("covers a 1-d grid of 16 values in 16 trials (no repeats), unlike random search", async () => {
    const space = Space.struct({ v: Space.int(0, 15) })
    const r = await run(Study.optimize({ study: "g", space, objective: (c) => c.v, trials: 16 }), Qmc.sobol())
    expect(new Set(r.trials.map((t) => t.params.v)).size).toBe(16)
  })

  it("gives the same points for the same seed and others for another seed; define-by-run works too", async () => {
    const params = (seed: number) =>
      run(
        Study.optimize({
          study: "d",
          objective: (_: unknown, t) => t.suggestFloat("a", 0, 1) + t.suggestInt("b", 0, 9),
          trials: 8
        }),
        Qmc.halton(),
        seed
      ).then((r) => r.trials.map((t) => t.params))
    const [a, b, c] = await Promise.all([params(1), params(1), params(2)])
    expect(a).toEqual(b)
    expect(a).not.toEqual(c)
    expect(a.every((p) => p.a >= 0 && p.a <= 1 && Number.isInteger(p.b))).toBe(true)
    // 8 Halton points in base 2 stratify a: one per eighth.
    expect(new Set(a.map((p) => Math.floor(p.a * 8))).size).toBe(8)
  })

  it("refuses bad options and a Sobol' space beyond its direction numbers when the study starts", async () => {
    const big = Space.struct(Object.fromEntries(Array.from({ length: Sobol.MAX_DIM + 1 }, (_, i) => [`x${i}`, Space.float(0, 1)])))
    const fail = (sampler: Sampler.SamplerService, space: Space.Space<any> = mixed) =>
      run(Effect.flip(Study.optimize({ study: "bad", space, objective: () => 0, trials: 1 })), sampler)
    const e1 = await fail(Qmc.sobol(), big)
    expect(e1).toBeInstanceOf(SamplerUnsupported)
    expect(e1.message).toContain(`${Sobol.MAX_DIM + 1} parameters`)
    const e2 = await fail(Qmc.lhs({ size: 0 }))
    expect(e2.message).toContain("size: expected a positive integer, got 0")
    const e3 = await fail(Qmc.make({ kind: "faure" as never }))
    expect(e3.message).toContain("kind: expected one of \"sobol\", \"halton\", \"lhs\", got \"faure\"")
    const ok = await run(Study.optimize({ study: "ok", space: big, objective: () => 0, trials: 2 }), Qmc.halton())
    expect(Option.isSome(ok.best)).toBe(true)
  })
})
