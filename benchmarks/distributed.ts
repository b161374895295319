// Many workers on one PostgreSQL (issue 13): 1, 2, 4 and 8 `tunekit worker` processes on a
// throwaway server, with a trivial objective and one that sleeps 100 ms. Throughput is counted
// over the trials' own span (first start to last finish, as stored), so Node's start-up is not.
import { spawn } from "node:child_process"
import { Effect } from "effect"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { Storage } from "@tunekit/core"
import { Postgres } from "@tunekit/postgres"
import { Server } from "@tunekit/postgres/testing"
import { emit, median, parseArgs, table } from "./_util.js"

const here = path.dirname(fileURLToPath(import.meta.url))
const bin = path.join(here, "../packages/cli/bin/tunekit.js")
const module = path.join(here, "_distributedStudy.mjs")

const worker = (url: string, study: string, count: number, ms: number, slots: number) =>
  new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, [bin, "worker", "--study", study, "--storage", url, "--module", module, "--count", String(count), "--slots", String(slots)], {
      env: { ...process.env, BENCH_MS: String(ms) },
      stdio: ["ignore", "ignore", "pipe"]
    })
    let err = ""
    child.stderr.on("data", (d) => (err += d))
    child.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`worker exited with ${code}: ${err.slice(-2000)}`))))
  })

/** Trials per second over the span the trials ran. */
const throughput = (url: string, study: string) =>
  Effect.runPromise(
    Effect.scoped(
      Effect.gen(function*() {
        const storage = yield* Storage.Storage
        const trials = yield* storage.getTrials((yield* storage.getStudy(study)).id, { states: ["Complete"] })
        const start = Math.min(...trials.map((t) => t.startedAt!))
        const end = Math.max(...trials.map((t) => t.finishedAt!))
        return { trials: trials.length, perSecond: trials.length / ((end - start) / 1000) }
      }).pipe(Effect.provide(Postgres.layer(url)))
    )
  )

export const main = async (args: ReadonlyArray<string>) => {
  const opts = parseArgs(args)
  const counts = String(opts.workers ?? "1,2,4,8").split(",").map(Number)
  const objectives = String(opts.objectives ?? "0,100").split(",").map(Number)
  const repeats = Number(opts.repeats ?? 3)
  // Trials at once in each worker: a worker waits on the database's round trips, which slots overlap.
  const slots = Number(opts.slots ?? 1)
  // Per worker: enough trials that each worker runs for a few seconds.
  const perWorker = (ms: number) => Number(ms === 0 ? opts["trivial-trials"] ?? 2000 : opts["sleep-trials"] ?? 40)
  const server = await Server.start()
  const rows: Array<Array<unknown>> = []
  const byKey = new Map<string, number>()
  try {
    let run = 0
    for (const ms of objectives) {
      for (const workers of counts) {
        const rates: Array<number> = []
        let trials = 0
        for (let r = 0; r < repeats; r++) {
          const study = `bench-${run++}`
          const url = server.url
          await Promise.all(Array.from({ length: workers }, () => worker(url, study, perWorker(ms), ms, slots)))
          const t = await throughput(url, study)
          rates.push(t.perSecond)
          trials = t.trials
        }
        const rate = median(rates)
        byKey.set(`${ms}:${workers}`, rate)
        emit({ bench: "distributed", storage: "postgres", workers, objective_ms: ms, trials, trials_per_s: rate, slots })
        rows.push([workers, ms, trials, repeats, rate, rate / (byKey.get(`${ms}:1`) ?? rate)])
      }
    }
  } finally {
    await server.stop()
  }
  table("distributed: workers on one PostgreSQL (median of repeats)", ["workers", "objective_ms", "trials", "repeats", "trials_per_s", "x_one_worker"], rows)
}
