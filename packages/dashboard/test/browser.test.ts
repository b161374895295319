// The dashboard in a real browser: Debian's chromium driven by playwright-core (installed by
// scripts/chromium-install.sh when missing). Every page loads with no console error and is saved
// as a screenshot under test-output/dashboard/; a trial finished by another process shows on the
// open study page within 2 s; the table sorts, filters and stays virtualized at 10,000 trials; the
// escaping probe renders as text; another origin's page and a page without the token are refused.
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as http from "node:http"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import type { Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type Browser, launch } from "./_chromium.js"
import { build, buildLarge, PROBE } from "./_fixture.js"
import { serve, type Served } from "./_server.js"

const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.resolve(here, "..", "..", "..")
const shots = path.join(root, "test-output", "dashboard")
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunekit-dashboard-browser-"))
const file = path.join(dir, "studies.db")

let browser: Browser
let dashboard: Served

beforeAll(async () => {
  fs.mkdirSync(shots, { recursive: true })
  await build(file, path.join(dir, "artifacts"))
  await buildLarge(file, "large", 10_000)
  dashboard = await serve(file, { plotRefreshMs: 500 })
  browser = await launch()
}, 120_000)

afterAll(async () => {
  await browser?.close()
  await dashboard?.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

/** A page whose console errors, uncaught errors and dialogs are kept. */
const open = async () => {
  const page = await browser.context.newPage()
  const errors: Array<string> = []
  const dialogs: Array<string> = []
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text())
  })
  page.on("pageerror", (e) => errors.push(String(e)))
  page.on("dialog", (d) => {
    dialogs.push(d.message())
    void d.dismiss()
  })
  return { page, errors, dialogs }
}

/** Loads a page and waits for its first render; scrolls through it so that every plot is drawn. */
const visit = async (page: Page, url: string, base = dashboard.base) => {
  await page.goto(`${base}${url}`)
  await page.waitForSelector("body[data-rendered=true]", { timeout: 20_000 })
  const height = await page.evaluate(() => document.body.scrollHeight)
  for (let y = 0; y < height; y += 600) {
    await page.evaluate((to) => window.scrollTo(0, to), y)
    await page.waitForTimeout(50)
  }
  // Every plot card in the page has drawn (it says which change of the study it shows).
  const missing = () =>
    page.evaluate(() => Array.from(document.querySelectorAll<HTMLElement>("#tk-plots figure.card")).filter((f) => f.dataset.drawn !== "true").map((f) => f.dataset.kind))
  await expect.poll(missing, { timeout: 90_000, message: `plots not drawn on ${url}` }).toEqual([])
  await page.evaluate(() => window.scrollTo(0, 0))
}

const shoot = (page: Page, name: string) => page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true })

describe("pages in chromium", () => {
  const pages: ReadonlyArray<readonly [string, string]> = [
    ["studies", "/"],
    ["study-mlp", "/study/mlp"],
    ["study-multi", "/study/multi"],
    ["study-pbt", "/study/pbt"],
    ["study-asha", "/study/asha"],
    ["study-large", "/study/large"],
    ["study-probe", `/study/${encodeURIComponent(PROBE)}`],
    ["trials-mlp", "/study/mlp/trials"],
    ["trials-large", "/study/large/trials"],
    ["trials-probe", `/study/${encodeURIComponent(PROBE)}/trials`],
    ["trial-mlp-0", "/study/mlp/trial/0"],
    ["trial-mlp-6-failed", "/study/mlp/trial/6"],
    ["trial-pbt-2", "/study/pbt/trial/2"],
    ["trial-probe-0", `/study/${encodeURIComponent(PROBE)}/trial/0`],
    ["compare", `/compare?study=mlp&study=multi&study=${encodeURIComponent(PROBE)}`],
    ["not-found", "/study/nope"]
  ]

  it("loads every page with no console error, and saves its screenshot", async () => {
    const { page, errors, dialogs } = await open()
    for (const [name, url] of pages) {
      if (name === "not-found") {
        const res = await page.goto(`${dashboard.base}${url}`)
        expect(res?.status()).toBe(404)
        await shoot(page, name)
        continue
      }
      await visit(page, url)
      await shoot(page, name)
      expect(errors, name).toEqual([])
      expect(await page.evaluate(() => (window as unknown as { __tk: { errors: Array<string> } }).__tk.errors), name).toEqual([])
    }
    expect(dialogs).toEqual([])
    await page.close()
  }, 600_000)

  it("shows the escaping probe as text", async () => {
    const { page, dialogs } = await open()
    for (const url of [`/study/${encodeURIComponent(PROBE)}`, `/study/${encodeURIComponent(PROBE)}/trials`, `/study/${encodeURIComponent(PROBE)}/trial/0`, "/"]) {
      await visit(page, url)
      expect(await page.locator('img[src="x"]').count(), url).toBe(0)
      expect(await page.evaluate(() => document.body.innerText), url).toContain(PROBE)
    }
    // As the study's name, its note, a parameter's name and a choice.
    await visit(page, `/study/${encodeURIComponent(PROBE)}`)
    expect(await page.locator("h1 .name").innerText()).toBe(PROBE)
    expect(await page.locator("#tk-note .note-text").innerText()).toBe(PROBE)
    await visit(page, `/study/${encodeURIComponent(PROBE)}/trial/0`)
    expect(await page.locator("#tk-trial table.grid td").first().innerText()).toBe(PROBE)
    expect(dialogs).toEqual([])
    await page.close()
  }, 60_000)
})

/** The numbers of the table's rows shown, top to bottom. */
const tableRows = (page: Page) =>
  page.evaluate(() =>
    Array.from(document.querySelectorAll<HTMLElement>("#tk-space .tr"))
      .filter((r) => getComputedStyle(r).display !== "none")
      .map((r) => ({ y: new DOMMatrix(getComputedStyle(r).transform).m42, n: Number(r.dataset.number) }))
      .sort((a, b) => a.y - b.y)
      .map((r) => r.n)
  )
const shown = (page: Page) => page.evaluate(() => Number(document.getElementById("tk-table")!.dataset.shown))

describe("trial table", () => {
  it("sorts by a column, both ways, with missing values last", async () => {
    const { page, errors } = await open()
    await visit(page, "/study/mlp/trials")
    expect(await tableRows(page)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11])
    await page.click('#tk-head .th[data-key="value:0"]')
    expect(await page.locator('#tk-head .th[data-key="value:0"]').getAttribute("class")).toContain("asc")
    // 0.088, 0.125, 0.197 first; running and failed (no value) last.
    await expect.poll(() => tableRows(page)).toEqual([10, 0, 7, 2, 8, 3, 4, 1, 5, 9, 6, 11])
    await page.click('#tk-head .th[data-key="value:0"]')
    expect(await page.locator('#tk-head .th[data-key="value:0"]').getAttribute("class")).toContain("desc")
    // The pruned trials' 0.9 first, in order of number; still no value last.
    await expect.poll(() => tableRows(page)).toEqual([1, 5, 9, 4, 3, 8, 2, 7, 0, 10, 6, 11])
    expect(errors).toEqual([])
    await page.close()
  }, 60_000)

  it("filters by state, parameter range, choice and attribute", async () => {
    const { page, errors } = await open()
    await visit(page, "/study/mlp/trials")
    await page.uncheck('input[data-state="Complete"]')
    await expect.poll(() => tableRows(page)).toEqual([1, 5, 6, 9, 11])
    await page.check('input[data-state="Complete"]')
    await page.fill('input[data-param="layers"][data-bound="min"]', "5")
    await expect.poll(() => tableRows(page)).toEqual([4, 5, 10, 11])
    await page.fill('input[data-param="layers"][data-bound="min"]', "")
    await page.selectOption('select[data-param="act"]', { label: "tanh" })
    await expect.poll(() => tableRows(page)).toEqual([1, 4, 7, 10])
    await page.selectOption('select[data-param="act"]', { label: "(any)" })
    await page.selectOption('select[aria-label="attribute"]', "system.run:tag:stage")
    await page.fill('input[aria-label="attribute contains"]', "BASE")
    await expect.poll(() => tableRows(page)).toEqual([0])
    await shoot(page, "trials-mlp-filtered")
    expect(errors).toEqual([])
    await page.close()
  }, 60_000)

  it("keeps only the rows in view in the page at 10,000 trials", async () => {
    const { page, errors } = await open()
    await visit(page, "/study/large/trials")
    expect(await shown(page)).toBe(10_000)
    expect(await page.locator("#tk-count").innerText()).toBe("10,000 of 10,000 trials")
    expect(await page.locator("#tk-space .tr").count()).toBeLessThan(100)
    await page.evaluate(() => document.getElementById("tk-table")!.scrollTo(0, 1e9))
    await expect.poll(async () => (await tableRows(page)).includes(9999)).toBe(true)
    expect(await page.locator("#tk-space .tr").count()).toBeLessThan(100)
    // Sorting all of them by a parameter, then filtering: the first row follows.
    await page.click('#tk-head .th[data-key="param:x"]')
    await page.evaluate(() => document.getElementById("tk-table")!.scrollTo(0, 0))
    await page.fill('input[data-param="x"][data-bound="min"]', "4.99")
    await page.waitForFunction(() => Number(document.getElementById("tk-table")!.dataset.shown) < 100)
    const xs = await tableRows(page)
    expect(xs.length).toBe(await shown(page))
    await shoot(page, "trials-large-filtered")
    expect(errors).toEqual([])
    await page.close()
  }, 60_000)
})

describe("refusals in the browser", () => {
  it("refuses another origin's page: its fetch and its event stream get 403", async () => {
    // A page of another origin (another port) that tries to read the dashboard.
    const target = dashboard.base
    const evil = http.createServer((_, res) => {
      res.writeHead(200, { "content-type": "text/html" })
      res.end(`<!doctype html><script>
        fetch(${JSON.stringify(`${target}/api/studies`)}).catch(() => {});
        new EventSource(${JSON.stringify(`${target}/api/study/mlp/events`)});
      </script>`)
    })
    await new Promise<void>((r) => evil.listen(0, "127.0.0.1", r))
    const port = (evil.address() as { port: number }).port
    const { page } = await open()
    // The browser hides a refused cross-origin response from the page (and from playwright's
    // response events); the DevTools protocol sees the status the dashboard sent.
    const cdp = await browser.context.newCDPSession(page)
    await cdp.send("Network.enable")
    // The two events of a request may come in either order.
    const urls = new Map<string, string>()
    const codes = new Map<string, number>()
    cdp.on("Network.requestWillBeSent", (e) => void urls.set(e.requestId, e.request.url))
    cdp.on("Network.responseReceivedExtraInfo", (e) => void codes.set(e.requestId, e.statusCode ?? 0))
    const statuses = () =>
      [...codes].flatMap(([id, code]) => (urls.get(id)?.startsWith(target) ? [[new URL(urls.get(id)!).pathname, code]] : [])).sort()
    await page.goto(`http://localhost:${port}/`)
    await expect.poll(statuses, { timeout: 10_000 }).toEqual([["/api/studies", 403], ["/api/study/mlp/events", 403]])
    await page.close()
    evil.closeAllConnections()
    await new Promise((r) => evil.close(r))
  }, 60_000)

  it("refuses a page without the token, and keeps the token once given", async () => {
    const guarded = await serve(file, { token: "browser-test-token" })
    try {
      const { page, errors } = await open()
      const refused = await page.goto(`${guarded.base}/study/mlp`)
      expect(refused?.status()).toBe(401)
      expect(await page.locator("h1").innerText()).toBe("Token required")
      await shoot(page, "token-required")
      const opened = await page.goto(guarded.running.url)
      expect(opened?.status()).toBe(200)
      expect(page.url()).toBe(`${guarded.base}/`)
      await page.goto(`${guarded.base}/study/mlp`)
      await page.waitForSelector("body[data-rendered=true]")
      await page.waitForSelector("#tk-live:not([hidden])")
      expect(errors.filter((e) => !e.includes("401"))).toEqual([])
      await page.close()
    } finally {
      await guarded.close()
    }
  }, 60_000)
})

describe("writes, with --allow-write", () => {
  it("enqueues a configuration, edits notes and asks a running trial to stop from the pages", async () => {
    const copy = path.join(dir, "writable.db")
    await build(copy, path.join(dir, "artifacts-w"))
    const rw = await serve(copy, { allowWrite: true })
    try {
      const { page, errors } = await open()
      await page.goto(`${rw.base}/study/mlp`)
      await page.waitForSelector("body[data-rendered=true]")
      expect(await page.locator(".top .mode").innerText()).toBe("read-write")
      await page.fill('#tk-enqueue input[name="lr"]', "0.002")
      await page.selectOption('#tk-enqueue select[name="act"]', { label: "tanh" })
      await page.click('#tk-enqueue button[type="submit"]')
      await expect.poll(() => page.locator("#tk-enqueue .sub").last().innerText()).toMatch(/^enqueued as trial 12/)
      await page.click("#tk-note button")
      await page.fill("#tk-note textarea", `baseline sweep\n${PROBE}`)
      await page.click('#tk-note button:has-text("Save")')
      await expect.poll(() => page.locator("#tk-note .note-text").innerText()).toBe(`baseline sweep\n${PROBE}`)
      // The enqueued trial reached the page live.
      await page.waitForFunction(() => Array.from(document.querySelectorAll("#tk-recent li")).some((li) => li.textContent!.startsWith("#12 Waiting")))
      await visit(page, "/study/mlp", rw.base)
      await shoot(page, "study-mlp-write")
      await page.goto(`${rw.base}/study/mlp/trial/11`)
      await page.waitForSelector("body[data-rendered=true]")
      await page.click('button:has-text("Ask the trial to stop")')
      await expect.poll(() => page.locator("#tk-trial table.kv").first().innerText(), { timeout: 5000 }).toContain("stop\trequested")
      await shoot(page, "trial-mlp-11-stop")
      expect(errors).toEqual([])
      await page.close()
    } finally {
      await rw.close()
    }
  }, 60_000)
})

describe("live", () => {
  it("shows a trial finished by another process on the open study page within 2 s", async () => {
    const { page, errors } = await open()
    await visit(page, "/study/mlp")
    const before = await page.evaluate(() => Number(document.querySelector<HTMLElement>('figure[data-kind="history"]')!.dataset.seq))
    // Another process writes to the same SQLite file.
    const child = spawn(process.execPath, ["--import", "tsx", "--conditions=source", path.join(here, "_finish.ts"), file, "mlp", "0.0123"], {
      cwd: root,
      stdio: ["ignore", "pipe", "inherit"]
    })
    let out = ""
    child.stdout.on("data", (c) => (out += c))
    await new Promise((r) => child.on("exit", r))
    const done = JSON.parse(out) as { number: number; at: number }
    await page.waitForFunction(
      (n) => Array.from(document.querySelectorAll("#tk-recent li")).some((li) => li.textContent!.startsWith(`#${n} Complete`)),
      done.number,
      { timeout: 5000 }
    )
    const seen = Date.now()
    expect(seen - done.at).toBeLessThan(2000)
    expect(await page.locator("#tk-summary").innerText()).toContain("best: 0.0123 at trial 12")
    // Its plots are drawn again from the new trial, also within 2 s of the write.
    await page.waitForFunction((s) => Number(document.querySelector<HTMLElement>('figure[data-kind="history"]')!.dataset.seq) > s, before, { timeout: 5000 })
    expect(Date.now() - done.at).toBeLessThan(2000)
    await shoot(page, "study-mlp-live")
    expect(errors).toEqual([])
    await page.close()
  }, 60_000)
})
