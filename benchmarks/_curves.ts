// A learning-curve problem with a known answer, for the scheduler benchmark. Each configuration
// has a curve final + (start - final) * exp(-step / tau) plus Gaussian noise. The curves cross:
// a high learning rate learns fast (small tau) but ends higher, a low one learns slowly and ends
// lower, so that early leaders are not always the final winners. The true final value of a
// configuration is the noise-free curve at the last step.
import { Rng, Space } from "@tunekit/core"
import type { Trial } from "@tunekit/core"
import { Observable } from "rxjs"

export const MAX_STEPS = 81

export const space = Space.struct({
  lr: Space.float(1e-4, 1e-1, { log: true }),
  width: Space.int(16, 512, { log: true }),
  dropout: Space.float(0, 0.6)
})
export type Config = Space.Type<typeof space>

const START = 1.5

/**
 * The loss the curve tends to, and how many steps it takes (tau). Wide networks and high dropout
 * learn slowly, as does a low learning rate; wide networks end lower: their curves cross those of
 * narrow ones.
 */
export const shape = (c: Config): { final: number; tau: number } => {
  const u = Math.log(c.lr / 1e-4) / Math.log(1e3) // 0 (slowest) .. 1 (fastest)
  const w = Math.log(c.width / 16) / Math.log(32) // 0 .. 1
  const d = c.dropout / 0.6 // 0 .. 1
  const final = 0.2 + 0.5 * ((u - 0.45) / 0.55) ** 2 + 0.2 * ((c.dropout - 0.25) / 0.35) ** 2 + 0.2 * (1 - w) ** 2
  const tau = 1 + 5 * (0.5 * w + 0.25 * d + 0.25 * (1 - u))
  return { final, tau }
}

/** The noise-free loss at a step. */
export const loss = (c: Config, step: number): number => {
  const { final, tau } = shape(c)
  return final + (START - final) * Math.exp(-step / tau)
}

export type Direction = Trial.Direction

/** The objective metric: a loss to minimize, or an accuracy-like score (1 - loss / 2.5) to maximize. */
export const truth = (c: Config, step: number, direction: Direction): number =>
  direction === "minimize" ? loss(c, step) : 1 - loss(c, step) / START

/** The true final value. */
export const trueFinal = (c: Config, direction: Direction): number => truth(c, MAX_STEPS, direction)

/**
 * A trainer: reports the noisy metric from `resumeFrom + 1` to the last step, counting in
 * `produced` each step it emits (what the trainer did, whatever the study stored). The noise of a
 * step depends only on the seed, the trial and the step, so a resumed trial sees the same curve.
 */
export const trainer = (seed: number, direction: Direction, noise: number, produced: { steps: number } = { steps: 0 }) =>
(c: Config, trial: { readonly number: number; readonly resumeFrom: number | undefined }) =>
  new Observable<Trial.Metric>((s) => {
    for (let step = (trial.resumeFrom ?? 0) + 1; step <= MAX_STEPS && !s.closed; step++) {
      const e = Rng.generator(seed, "noise", trial.number, step).normal() * noise
      produced.steps++
      s.next({ step, values: { [metricOf(direction)]: truth(c, step, direction) + e * (direction === "minimize" ? 1 : 1 / START) } })
    }
    s.complete()
  })

export const metricOf = (direction: Direction) => (direction === "minimize" ? "loss" : "accuracy")
