// The dashboard's cost, on a study of 10,000 trials in SQLite and on a running study:
// - first render: a study page opened in chromium (playwright-core, Debian's build) until every
//   plot in its first screen has drawn, on a dashboard process just started (it reads the study
//   then) and in a fresh browser; and again on the warm dashboard and browser;
// - bytes per live update: the server-sent events a page gets while another process finishes
//   trials in the study, and whether they carry only the trials that changed;
// - overhead: the overhead benchmark's own run (benchmarks/overhead.ts, SQLite) with and without a
//   dashboard process watching the study and a chromium page open on it, updating live; runs
//   alternate, and the ratio is of the medians of trials per second.
// `tunekit dashboard` runs as its own process, as a user runs it (packages/cli/dist, built by
// `npm run bench`).
import { Storage } from "@tunekit/core"
import { Effect } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { type Browser, launch } from "../packages/dashboard/test/_chromium.js"
import { buildLarge } from "../packages/dashboard/test/_fixture.js"
import { once } from "./overhead.js"
import { emit, median, parseArgs, table } from "./_util.js"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const VIEWPORT = { width: 1280, height: 800 }

interface Running {
  readonly url: string
  readonly child: ChildProcess
  readonly stop: () => Promise<void>
}

/** `tunekit dashboard --storage FILE --port 0` as a process of its own, once it listens. */
const startDashboard = async (file: string): Promise<Running> => {
  const child = spawn(process.execPath, [path.join(root, "packages/cli/dist/bin.js"), "dashboard", "--storage", file, "--port", "0"], {
    stdio: ["ignore", "pipe", "pipe"]
  })
  let out = ""
  child.stdout!.on("data", (c) => (out += c))
  // Stopped by SIGINT, it says "tunekit: interrupted"; anything else is shown.
  child.stderr!.on("data", (c) => {
    const text = String(c).replace(/^tunekit: interrupted\n/m, "")
    if (text.trim() !== "") process.stderr.write(text)
  })
  const exited = new Promise<void>((r) => child.on("exit", () => r()))
  const deadline = Date.now() + 60_000
  while (!/http:\/\/\S+/.test(out)) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`tunekit dashboard did not start: ${out}`)
    await new Promise((r) => setTimeout(r, 20))
  }
  return {
    url: out.match(/http:\/\/\S+/)![0],
    child,
    stop: async () => {
      child.kill("SIGINT")
      await exited
    }
  }
}

/** CPU seconds a process has used (user + system), from /proc. */
const cpuSeconds = (pid: number): number => {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ")
  return (Number(fields[11]) + Number(fields[12])) / 100
}

/** CPU seconds of the chromium processes this benchmark launched (their profile is tunekit-chromium-*). */
const browserCpuSeconds = (): number => {
  let total = 0
  for (const p of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(p)) continue
    try {
      if (fs.readFileSync(`/proc/${p}/cmdline`, "utf8").includes("tunekit-chromium-")) total += cpuSeconds(Number(p))
    } catch {
      // gone meanwhile
    }
  }
  return total
}

/** Opens a study page and gives the time to its first render (ms since navigation started). */
const firstRender = async (browser: Browser, url: string): Promise<number> => {
  const page = await browser.context.newPage()
  await page.goto(url)
  await page.waitForSelector("body[data-rendered=true]", { timeout: 120_000 })
  const ms = (await page.evaluate("window.__tk.firstRender")) as number
  await page.close()
  return ms
}

const withStorage = <A>(file: string, f: (s: Storage.StorageService) => Effect.Effect<A, unknown>) =>
  Effect.runPromise(Effect.scoped(Effect.flatMap(Storage.Storage, f)).pipe(Effect.provide(Storage.layerSqlite(file))))

/** Reads a study's server-sent events in the background: each event's size and its trials. */
const listen = (url: string) => {
  const events: Array<{ readonly name: string; readonly bytes: number; readonly trials: ReadonlyArray<number> }> = []
  const controller = new AbortController()
  const done = (async () => {
    const res = await fetch(url, { signal: controller.signal })
    const reader = res.body!.getReader()
    const decoder = new TextDecoder()
    let buffer = ""
    for (;;) {
      const { value, done } = await reader.read()
      if (done) return
      buffer += decoder.decode(value, { stream: true })
      let end: number
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end + 2)
        buffer = buffer.slice(end + 2)
        if (!block.startsWith("event:")) continue
        const name = block.slice(7, block.indexOf("\n"))
        const data = JSON.parse(block.slice(block.indexOf("data: ") + 6)) as { trials: Array<{ number: number }> }
        events.push({ name, bytes: Buffer.byteLength(block), trials: data.trials.map((t) => t.number) })
      }
    }
  })().catch((e) => {
    if ((e as Error).name !== "AbortError") throw e
  })
  return { events, stop: async () => (controller.abort(), await done) }
}

export const main = async (args: ReadonlyArray<string>) => {
  const opts = parseArgs(args)
  const n = Number(opts.trials ?? 10_000)
  const renders = Number(opts.renders ?? 3)
  const liveTrials = Number(opts["live-trials"] ?? 30)
  // Runs of several seconds: what a page costs while a study runs, beyond its first redraw.
  const overheadTrials = Number(opts["overhead-trials"] ?? 10_000)
  const repeats = Number(opts.repeats ?? 9)
  const load0 = os.loadavg()
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunekit-dashboard-bench-"))
  try {
    const file = path.join(dir, "large.db")
    const t0 = performance.now()
    await buildLarge(file, "large", n)
    process.stderr.write(`a study of ${n} trials written in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`)

    // First render: a dashboard just started and a fresh browser, then both warm.
    const cold: Array<number> = []
    const warm: Array<number> = []
    for (let i = 0; i < renders; i++) {
      const d = await startDashboard(file)
      const browser = await launch(VIEWPORT)
      try {
        cold.push(await firstRender(browser, `${d.url}study/large`))
        if (i === 0) for (let k = 0; k < renders; k++) warm.push(await firstRender(browser, `${d.url}study/large`))
      } finally {
        await browser.close()
        await d.stop()
      }
    }

    // Live updates: another process (this one) finishes trials while a page and an event reader watch.
    const d = await startDashboard(file)
    const browser = await launch(VIEWPORT)
    let live: { events: number; bytes: Array<number>; trials: Array<number>; onlyChanged: boolean; plotBytes: number; plotRedraws: number; cpu: number }
    try {
      const page = await browser.context.newPage()
      await page.goto(`${d.url}study/large`)
      await page.waitForSelector("body[data-rendered=true]", { timeout: 120_000 })
      const seq = ((await (await fetch(`${d.url}api/study/large`)).json()) as { seq: number }).seq
      const reader = listen(`${d.url}api/study/large/events?since=${seq}`)
      const plotsBefore = (await page.evaluate("performance.getEntriesByType('resource').filter((e) => e.name.includes('/plot/')).length")) as number
      const cpu0 = cpuSeconds(d.child.pid!)
      const touched = new Set<number>()
      await withStorage(file, (s) =>
        Effect.gen(function*() {
          const study = yield* s.getStudy("large")
          const [first] = yield* s.getTrials(study.id, { states: ["Complete"] })
          for (let i = 0; i < liveTrials; i++) {
            const t = yield* s.createTrial(study.id, { state: "Running", worker: "bench", params: first.params, distributions: first.distributions })
            touched.add(t.number)
            for (let step = 1; step <= 3; step++) {
              yield* Effect.sleep("40 millis")
              yield* s.report(t.id, { step, values: { loss: 10 / step } })
            }
            yield* s.finishTrial(t.id, { state: "Complete", values: [i % 7] })
          }
        }))
      await new Promise((r) => setTimeout(r, 2500))
      const cpu = cpuSeconds(d.child.pid!) - cpu0
      await reader.stop()
      const updates = reader.events.filter((e) => e.name === "update")
      const plots = (await page.evaluate(
        `performance.getEntriesByType('resource').filter((e) => e.name.includes('/plot/')).slice(${plotsBefore}).map((e) => e.transferSize)`
      )) as Array<number>
      live = {
        events: updates.length,
        bytes: updates.map((e) => e.bytes),
        trials: updates.map((e) => e.trials.length),
        // Every trial an update carried is one the writer changed, and each changed trial came.
        onlyChanged: updates.every((e) => e.trials.every((t) => touched.has(t))) && [...touched].every((t) => updates.some((e) => e.trials.includes(t))),
        plotBytes: plots.reduce((a, b) => a + b, 0),
        plotRedraws: plots.length,
        cpu
      }
      await page.close()
    } finally {
      await browser.close()
      await d.stop()
    }

    // Overhead: the overhead benchmark's SQLite run, alone and with the dashboard open on it. Each
    // run has a file of its own, with the study "overhead" created and a warm-up study of 500
    // trials beside it: with the dashboard, the page shows the warm-up study first, so that the
    // dashboard process and the page run warm (compiled), as a dashboard that has been open a
    // while does; then it opens the study page, and the study runs.
    const fresh = async () => {
      const f = path.join(fs.mkdtempSync(path.join(dir, "overhead-")), "overhead.db")
      await withStorage(f, (s) => s.createStudy("overhead", { directions: ["minimize"] }))
      await buildLarge(f, "warm-up", 500)
      return f
    }
    const alone = async () => overheadTrials / (await once("sqlite", overheadTrials, await fresh()))
    const watched = async (browser: Browser) => {
      const f = await fresh()
      const dash = await startDashboard(f)
      const page = await browser.context.newPage()
      try {
        for (const study of ["warm-up", "overhead"]) {
          await page.goto(`${dash.url}study/${study}`)
          await page.waitForSelector("body[data-rendered=true]", { timeout: 60_000 })
        }
        const cpu0 = cpuSeconds(dash.child.pid!)
        const browser0 = browserCpuSeconds()
        const wall = await once("sqlite", overheadTrials, f)
        const cpu = cpuSeconds(dash.child.pid!) - cpu0
        const browserCpu = browserCpuSeconds() - browser0
        // The page followed the run live.
        const events = (await page.evaluate("window.__tk.events")) as number
        if (events < 2) throw new Error(`the page got ${events} events while the study ran`)
        return { rate: overheadTrials / wall, events, cpu: cpu / wall, browser: browserCpu / wall }
      } finally {
        await page.close()
        await dash.stop()
      }
    }
    const overheadBrowser = await launch(VIEWPORT)
    const without: Array<number> = []
    const withDash: Array<{ rate: number; events: number; cpu: number; browser: number }> = []
    try {
      // Warm the JIT first, as the overhead benchmark does.
      await alone()
      await watched(overheadBrowser)
      for (let i = 0; i < repeats; i++) {
        // Alternating, each first in turn, so that a change of the machine's load hits both.
        if (i % 2 === 0) {
          without.push(await alone())
          withDash.push(await watched(overheadBrowser))
        } else {
          withDash.push(await watched(overheadBrowser))
          without.push(await alone())
        }
      }
    } finally {
      await overheadBrowser.close()
    }
    const ratio = median(withDash.map((w) => w.rate)) / median(without)
    const load1 = os.loadavg()

    emit({ bench: "dashboard", trials: n, first_render_ms: Math.round(median(cold)), update_bytes: Math.round(median(live.bytes)), overhead_ratio: Number(ratio.toFixed(3)) })
    table("dashboard: first render of the study page (10,000 trials), ms", ["run", "ms"], [
      ...cold.map((ms, i) => [`cold ${i + 1} (dashboard just started, fresh browser)`, Math.round(ms)]),
      ...warm.map((ms, i) => [`warm ${i + 1}`, Math.round(ms)])
    ])
    table("dashboard: live updates while another process finishes trials", ["measure", "value"], [
      ["trials finished (3 reports each)", liveTrials],
      ["update events", live.events],
      ["bytes per update (median, min, max)", `${median(live.bytes)} (${Math.min(...live.bytes)}, ${Math.max(...live.bytes)})`],
      ["trials per update (median, max)", `${median(live.trials)} (${Math.max(...live.trials)})`],
      ["bytes per changed trial (all updates)", Math.round(live.bytes.reduce((a, b) => a + b, 0) / Math.max(1, live.trials.reduce((a, b) => a + b, 0)))],
      ["updates carry only the changed trials", live.onlyChanged ? "yes" : "NO"],
      ["plot redraws of the open page (requests, bytes)", `${live.plotRedraws}, ${live.plotBytes}`],
      ["dashboard process CPU over the run, s", live.cpu.toFixed(2)]
    ])
    table(`dashboard: overhead benchmark (SQLite, ${overheadTrials} trials a run), trials/s`, ["run", "alone", "with dashboard", "events", "dashboard CPU", "browser CPU"], without.map((w, i) => [
      i + 1,
      Math.round(w),
      Math.round(withDash[i].rate),
      withDash[i].events,
      `${(100 * withDash[i].cpu).toFixed(0)}%`,
      `${(100 * withDash[i].browser).toFixed(0)}%`
    ]))
    table("dashboard: summary", ["measure", "value"], [
      ["first render, median cold ms (target < 1500)", Math.round(median(cold))],
      ["first render, median warm ms", Math.round(median(warm))],
      ["bytes per update, median", Math.round(median(live.bytes))],
      ["overhead ratio, median with / median alone (target >= 0.9)", ratio.toFixed(3)],
      ["load average (1, 5, 15 min) at start", load0.map((l) => l.toFixed(1)).join(", ")],
      ["load average at end", load1.map((l) => l.toFixed(1)).join(", ")],
      ["cores", os.cpus().length]
    ])
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}
