// The dashboard over HTTP: its pages and JSON, the refusals (another origin, another Host, no or a
// wrong token, writes when read-only or not JSON), the escaping of what a study names, the writes
// with --allow-write, and the security headers.
import * as fs from "node:fs"
import * as http from "node:http"
import * as os from "node:os"
import * as path from "node:path"
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Checkpoint } from "@tunekit/core"
import { build, PROBE } from "./_fixture.js"
import { serve, type Served } from "./_server.js"

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunekit-dashboard-http-"))
const file = path.join(dir, "studies.db")
let readOnly: Served

beforeAll(async () => {
  await build(file, path.join(dir, "artifacts"))
  readOnly = await serve(file)
})
afterAll(async () => {
  await readOnly?.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

const get = (base: string, url: string, headers: Record<string, string> = {}) => fetch(`${base}${url}`, { headers, redirect: "manual" })
/** A GET with exactly these headers (fetch sets Host and Sec-Fetch-Mode itself). */
const raw = (base: string, url: string, headers: Record<string, string>) =>
  new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = http.get(`${base}${url}`, { headers }, (res) => {
      let body = ""
      res.on("data", (c) => (body += c))
      res.on("end", () => resolve({ status: res.statusCode!, body }))
    })
    req.on("error", reject)
  })
const postJson = (base: string, url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${base}${url}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) })
const probePath = `/study/${encodeURIComponent(PROBE)}`

describe("pages and JSON", () => {
  it("serves every page and its JSON", async () => {
    for (const url of ["/", "/study/mlp", "/study/mlp/trials", "/study/mlp/trial/6", "/compare?study=mlp&study=multi", "/static/dashboard.js", "/static/dashboard.css"]) {
      expect((await get(readOnly.base, url)).status, url).toBe(200)
    }
    const studies = await (await get(readOnly.base, "/api/studies")).json()
    expect(studies.studies.map((s: { name: string }) => s.name)).toEqual(["mlp", "multi", "pbt", "asha", PROBE])
    const mlp = studies.studies[0]
    expect(mlp).toMatchObject({ state: "running", trials: 12, counts: { Complete: 7, Pruned: 3, Failed: 1, Running: 1, Waiting: 0 }, best: { number: 10 }, front: null })
    // Two objectives, each trial trading one for the other: every trial is on the front.
    expect(studies.studies[1]).toMatchObject({ name: "multi", best: null, front: 20 })

    const trial = await (await get(readOnly.base, "/api/study/mlp/trial/6")).json()
    expect(trial.failure).toMatchObject({ tag: "OutOfMemory", stack: expect.stringContaining("at train (train.ts:42:11)") })
    const first = await (await get(readOnly.base, "/api/study/mlp/trial/0")).json()
    expect(first.run).toMatchObject({ tags: { stage: "baseline" }, notes: ["first try, default settings"], artifacts: [{ name: "metrics.json", bytes: 16 }] })
    expect(first.logs).toEqual({ stdout: "epoch 1 loss 0.9\nepoch 2 loss 0.5", stderr: "warning: slow start" })
    expect(first.curves.map((c: { option: { title: { text: string } } }) => c.option.title.text)).toEqual(["val_loss by step", "train_loss by step"])
    const artifact = await get(readOnly.base, "/api/study/mlp/trial/0/artifact?name=metrics.json")
    expect(await artifact.json()).toEqual({ val_loss: 0.3 })
    const lineage = await (await get(readOnly.base, "/api/study/pbt/trial/2")).json()
    expect(lineage.lineage).toMatchObject({ member: 0, parent: 0, donor: 1, chain: [0, 2], changes: { lr: { from: 0.02, to: 0.012 } } })
  })

  it("draws each plot that applies, and says why the others do not", async () => {
    const mlp = await (await get(readOnly.base, "/api/study/mlp")).json()
    const applies = mlp.kinds.filter((k: { applies: boolean }) => k.applies).map((k: { kind: string }) => k.kind)
    expect(applies).toEqual(["history", "intermediate", "importance", "parallel-coordinates", "timeline", "slice", "contour", "rank", "edf"])
    for (const kind of applies) {
      const plot = await (await get(readOnly.base, `/api/study/mlp/plot/${kind}?width=600`)).json()
      expect(plot.option, kind).toBeDefined()
    }
    const lineage = await (await get(readOnly.base, "/api/study/mlp/plot/lineage")).json()
    expect(lineage.note).toMatch(/no trial has a PBT lineage/)
    // The rungs are inferred from where the trials stopped: 1 and 3.
    const rungs = await (await get(readOnly.base, "/api/study/asha/plot/rungs")).json()
    const resources = (rungs.option.xAxis as Array<{ data?: Array<string> }>).flatMap((a) => a.data ?? [])
    expect(resources.join(" ")).toMatch(/1.*3/)
    // Six trials stopped at their first report: each curve of one point is drawn as its symbol,
    // on the study page and on the trial's page.
    type Series = { id?: string; showSymbol?: boolean; data: Array<unknown> }
    const curves = (await (await get(readOnly.base, "/api/study/asha/plot/intermediate")).json()).option.series as Array<Series>
    const single = curves.filter((c) => c.id !== undefined && c.data.length === 1)
    expect(single.map((c) => c.showSymbol)).toEqual(Array(6).fill(true))
    expect(curves.filter((c) => c.id !== undefined && c.data.length > 1).every((c) => c.showSymbol === false)).toBe(true)
    const trial = await (await get(readOnly.base, "/api/study/asha/trial/0")).json()
    expect((trial.curves[0].option.series as Array<Series>)[0]).toMatchObject({ showSymbol: true, data: [[1, expect.any(Number)]] })
    // A page that has the latest plot gets a short answer.
    expect(await (await get(readOnly.base, `/api/study/mlp/plot/history?seq=${mlp.seq}`)).json()).toEqual({ seq: mlp.seq, same: true })
    expect((await get(readOnly.base, "/api/study/mlp/plot/pie")).status).toBe(404)
  })

  it("says what is missing", async () => {
    const page = await get(readOnly.base, "/study/nope")
    expect(page.status).toBe(404)
    expect(await page.text()).toContain("no study named &quot;nope&quot;")
    expect((await get(readOnly.base, "/api/study/mlp/trial/99")).status).toBe(404)
    expect(await (await get(readOnly.base, "/api/nothing")).json()).toEqual({ error: "nothing at /api/nothing" })
  })
})

describe("escaping", () => {
  it("puts a study's names in pages as text, never as markup", async () => {
    const page = await (await get(readOnly.base, probePath)).text()
    expect(page).not.toContain("<img")
    expect(page).toContain("&lt;img src=x onerror=alert(1)&gt;")
    // The page's data is JSON in which "<" is escaped, so it cannot close its script element.
    expect(page).toContain("\\u003cimg src=x onerror=alert(1)>")
    const list = await (await get(readOnly.base, "/")).text()
    expect(list).not.toContain("<img")
  })

  it("sends a policy that runs no inline script", async () => {
    const res = await get(readOnly.base, "/")
    expect(res.headers.get("content-security-policy")).toContain("script-src 'self'")
    expect(res.headers.get("x-content-type-options")).toBe("nosniff")
    expect(res.headers.get("x-frame-options")).toBe("DENY")
  })
})

describe("refusals", () => {
  it("refuses requests from another origin", async () => {
    const port = readOnly.running.port
    const foreign: Array<Record<string, string>> = [{ origin: "http://evil.example" }, { origin: `http://localhost:${port + 1}` }, { "sec-fetch-site": "cross-site" }, { "sec-fetch-site": "same-site" }]
    for (const headers of foreign) {
      const res = await get(readOnly.base, "/api/studies", headers)
      expect(res.status, JSON.stringify(headers)).toBe(403)
      expect((await res.json()).error).toMatch(/another origin/)
    }
    expect((await get(readOnly.base, "/api/study/mlp/events", { origin: "http://evil.example" })).status).toBe(403)
    // Its own origin, and a page opened in a tab from elsewhere (which cannot read it), are served.
    expect((await get(readOnly.base, "/api/studies", { origin: readOnly.base, "sec-fetch-site": "same-origin" })).status).toBe(200)
    const tab = { "sec-fetch-site": "cross-site", "sec-fetch-mode": "navigate", "sec-fetch-dest": "document" }
    expect((await raw(readOnly.base, "/", tab)).status).toBe(200)
    expect((await raw(readOnly.base, "/api/studies", tab)).status).toBe(403)
    expect((await raw(readOnly.base, "/", { ...tab, "sec-fetch-dest": "iframe" })).status).toBe(403)
  })

  it("refuses a Host that is not the loopback (DNS rebinding)", async () => {
    const res = await raw(readOnly.base, "/api/studies", { host: `attacker.example:${readOnly.running.port}` })
    expect(res.status).toBe(403)
    expect(JSON.parse(res.body).error).toMatch(/Host header/)
    expect((await raw(readOnly.base, "/api/studies", { host: `localhost:${readOnly.running.port}` })).status).toBe(200)
  })

  it("refuses writes when read-only", async () => {
    const res = await postJson(readOnly.base, "/api/study/mlp/notes", { text: "hello" }, { origin: readOnly.base })
    expect(res.status).toBe(403)
    expect((await res.json()).error).toMatch(/--allow-write/)
  })

  it("requires the token when one is set: ?token= once, then its cookie, or a bearer header", async () => {
    const token = "s3cret-token-for-tests"
    const guarded = await serve(file, { token })
    try {
      expect(guarded.running.url).toBe(`http://127.0.0.1:${guarded.running.port}/?token=${token}`)
      const none = await get(guarded.base, "/api/studies")
      expect(none.status).toBe(401)
      expect((await none.json()).error).toMatch(/needs its token/)
      expect((await get(guarded.base, "/study/mlp")).status).toBe(401)
      expect((await get(guarded.base, "/api/studies?token=wrong-token-0")).status).toBe(401)
      expect((await get(guarded.base, "/api/studies", { authorization: "Bearer wrong-token-0" })).status).toBe(401)
      expect((await get(guarded.base, "/api/studies", { authorization: `Bearer ${token}` })).status).toBe(200)
      expect((await get(guarded.base, `/api/studies?token=${token}`)).status).toBe(200)
      // A page opened with the token: kept in a cookie, and the address loses it.
      const opened = await get(guarded.base, `/study/mlp?token=${token}&x=1`)
      expect(opened.status).toBe(303)
      expect(opened.headers.get("location")).toBe("/study/mlp?x=1")
      const cookie = opened.headers.get("set-cookie")!
      expect(cookie).toMatch(/HttpOnly; SameSite=Strict/)
      expect((await get(guarded.base, "/study/mlp", { cookie: cookie.split(";")[0] })).status).toBe(200)
      expect((await get(guarded.base, "/study/mlp", { cookie: `${cookie.split("=")[0]}=wrong-token-0` })).status).toBe(401)
    } finally {
      await guarded.close()
    }
  })

  it("bound beyond the loopback, makes up a token and requires it", async () => {
    const open = await serve(file, { host: "0.0.0.0" })
    try {
      expect(open.running.token).toMatch(/^[\w-]{20,}$/)
      expect(open.running.url).toContain(`?token=${open.running.token}`)
      expect((await get(open.base, "/api/studies")).status).toBe(401)
      expect((await get(open.base, "/api/studies", { authorization: `Bearer ${open.running.token}` })).status).toBe(200)
    } finally {
      await open.close()
    }
  })
})

describe("writes, with --allow-write", () => {
  it("edits notes, enqueues a configuration and asks a running trial to stop", async () => {
    const copy = path.join(dir, "writable.db")
    await build(copy, path.join(dir, "artifacts-w"))
    const rw = await serve(copy, { allowWrite: true })
    try {
      const own = { origin: rw.base }
      expect((await postJson(rw.base, "/api/study/mlp/notes", { text: PROBE }, own)).status).toBe(200)
      expect((await postJson(rw.base, "/api/study/mlp/notes", { text: "trial note", trial: 6 }, own)).status).toBe(200)
      expect((await (await get(rw.base, "/api/study/mlp")).json()).note).toBe(PROBE)
      expect((await (await get(rw.base, "/api/study/mlp/trial/6")).json()).note).toBe("trial note")

      const enqueued = await postJson(rw.base, "/api/study/mlp/enqueue", { params: { lr: 0.003, act: "tanh" } }, own)
      expect(await enqueued.json()).toEqual({ enqueued: 12 })
      const waiting = await (await get(rw.base, "/api/study/mlp/trial/12")).json()
      expect(waiting.trial.state).toBe("Waiting")
      expect(waiting.params).toEqual([{ name: "lr", value: 0.003, distribution: "float [0.0001, 0.1] log" }, { name: "act", value: "tanh", distribution: expect.stringContaining("categorical") }])
      const bad = await postJson(rw.base, "/api/study/mlp/enqueue", { params: { lr: 5 } }, own)
      expect(bad.status).toBe(400)
      expect((await bad.json()).error).toBe("lr: 5 is outside float [0.0001, 0.1] log")
      expect((await postJson(rw.base, "/api/study/mlp/enqueue", { params: { depth: 1 } }, own)).status).toBe(400)

      expect((await postJson(rw.base, "/api/study/mlp/trial/11/stop", {}, own)).status).toBe(200)
      expect((await (await get(rw.base, "/api/study/mlp/trial/11")).json()).trial.stopRequested).toMatchObject({ by: "dashboard" })
      const finished = await postJson(rw.base, "/api/study/mlp/trial/0/stop", {}, own)
      expect(finished.status).toBe(400)
      expect((await finished.json()).error).toBe("trial 0 is Complete, not running")

      // A form's POST (not JSON) and a write from another origin are refused.
      const form = await fetch(`${rw.base}/api/study/mlp/notes`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "text=x" })
      expect(form.status).toBe(400)
      expect((await postJson(rw.base, "/api/study/mlp/notes", { text: "x" }, { origin: "http://evil.example" })).status).toBe(403)
    } finally {
      await rw.close()
    }
  })
})

describe("a trial's checkpoints", () => {
  it("are listed on its page with why each is kept, when the dashboard is given the checkpoint store", async () => {
    const folder = path.join(dir, "checkpoints")
    const store = Checkpoint.makeFiles(folder)
    for (const [trial, step] of [[10, 1], [10, 2], [6, 1]]) await Effect.runPromise(store.save({ study: "mlp", trial }, step, { w: [trial, step] }))
    const served = await serve(file, {}, folder)
    try {
      const best = await (await get(served.base, "/api/study/mlp/trial/10")).json()
      expect(best.checkpoints.error).toBeNull()
      expect(best.checkpoints.kept.map((k: { step: number }) => k.step)).toEqual([1, 2])
      expect(best.checkpoints.kept[1].why).toMatch(/best/)
      expect(best.checkpoints.kept[1].bytes).toBeGreaterThan(0)
      // Trial 6 failed: nothing can restore from it, so retention would delete its checkpoint.
      const failed = await (await get(served.base, "/api/study/mlp/trial/6")).json()
      expect(failed.checkpoints.kept).toEqual([expect.objectContaining({ step: 1, why: "not needed: retention deletes it" })])
      // Without a store the page has no checkpoints section.
      expect((await (await get(readOnly.base, "/api/study/mlp/trial/10")).json()).checkpoints).toBeNull()
    } finally {
      await served.close()
    }
  })
})

