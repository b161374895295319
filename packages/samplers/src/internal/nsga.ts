// The operators of NSGA-II (Deb, Pratap, Agarwal, Meyarivan 2002, "A fast and elitist
// multiobjective genetic algorithm: NSGA-II", IEEE TEC 6(2)): elitist survival by non-dominated
// rank and crowding distance, the crowded-comparison binary tournament, simulated binary crossover
// (Deb and Agrawal 1995) and polynomial mutation (Deb and Goyal 1996) in their bounded forms as in
// Deb's reference C implementation, here on unit coordinates.
import type { Rng } from "@tunekit/core"
import { crowdingDistance, nonDominatedSort } from "./pareto.js"

/** A member of a population: an id (the trial number) and its minimization vector. */
export interface Member {
  readonly id: number
  readonly objectives: ReadonlyArray<number>
}

/** A population with each member's rank (0 = first front) and crowding distance. */
export interface Ranked<M extends Member> {
  readonly members: ReadonlyArray<M>
  readonly rank: ReadonlyArray<number>
  readonly crowding: ReadonlyArray<number>
}

/** Ranks and crowding distances of a population. */
export const rank = <M extends Member>(members: ReadonlyArray<M>): Ranked<M> => {
  const points = members.map((m) => m.objectives)
  const fronts = nonDominatedSort(points)
  const r = new Array<number>(members.length)
  const c = new Array<number>(members.length)
  fronts.forEach((front, fi) => {
    const cd = crowdingDistance(points, front)
    front.forEach((i, k) => {
      r[i] = fi
      c[i] = cd[k]
    })
  })
  return { members, rank: r, crowding: c }
}

/**
 * Elitist survival: the best `size` members by front, the last front cut by crowding distance
 * (larger first; ties by id, so that the result is deterministic).
 */
export const survive = <M extends Member>(members: ReadonlyArray<M>, size: number): Array<M> => {
  if (members.length <= size) return [...members]
  const points = members.map((m) => m.objectives)
  const out: Array<M> = []
  for (const front of nonDominatedSort(points)) {
    if (out.length + front.length <= size) {
      for (const i of front) out.push(members[i])
      if (out.length === size) break
      continue
    }
    const cd = crowdingDistance(points, front)
    const order = front.map((_, k) => k).sort((a, b) => cd[b] - cd[a] || members[front[a]].id - members[front[b]].id)
    for (const k of order.slice(0, size - out.length)) out.push(members[front[k]])
    break
  }
  return out
}

/** The crowded-comparison binary tournament: lower rank wins, then larger crowding distance. */
export const tournament = <M extends Member>(pop: Ranked<M>, rng: Rng.Generator): M => {
  const n = pop.members.length
  const a = rng.int(n)
  if (n === 1) return pop.members[a]
  let b = rng.int(n - 1)
  if (b >= a) b++
  if (pop.rank[a] !== pop.rank[b]) return pop.members[pop.rank[a] < pop.rank[b] ? a : b]
  if (pop.crowding[a] !== pop.crowding[b]) return pop.members[pop.crowding[a] > pop.crowding[b] ? a : b]
  return pop.members[rng.next() < 0.5 ? a : b]
}

/** Bounded simulated binary crossover of two coordinates in [0, 1]; returns both children. */
export const sbx = (x1: number, x2: number, eta: number, rng: Rng.Generator): [number, number] => {
  if (Math.abs(x1 - x2) < 1e-14) return [x1, x2]
  const y1 = Math.min(x1, x2)
  const y2 = Math.max(x1, x2)
  const u = rng.next()
  const spread = (beta: number) => {
    const alpha = 2 - beta ** -(eta + 1)
    return u <= 1 / alpha ? (u * alpha) ** (1 / (eta + 1)) : (1 / (2 - u * alpha)) ** (1 / (eta + 1))
  }
  const bl = spread(1 + (2 * y1) / (y2 - y1))
  const bu = spread(1 + (2 * (1 - y2)) / (y2 - y1))
  const c1 = clamp01(0.5 * (y1 + y2 - bl * (y2 - y1)))
  const c2 = clamp01(0.5 * (y1 + y2 + bu * (y2 - y1)))
  // Which child gets the lower value is random, as in Deb's code.
  return rng.next() < 0.5 ? [c1, c2] : [c2, c1]
}

/** Bounded polynomial mutation of a coordinate in [0, 1]. */
export const polynomialMutation = (x: number, eta: number, rng: Rng.Generator): number => {
  const u = rng.next()
  const p = 1 / (eta + 1)
  let dq: number
  if (u < 0.5) {
    const xy = 1 - x
    dq = (2 * u + (1 - 2 * u) * xy ** (eta + 1)) ** p - 1
  } else {
    const xy = x
    dq = 1 - (2 * (1 - u) + 2 * (u - 0.5) * xy ** (eta + 1)) ** p
  }
  return clamp01(x + dq)
}

const clamp01 = (x: number) => Math.min(1, Math.max(0, x))
