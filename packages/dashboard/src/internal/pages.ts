// The pages' HTML: a shell each, with what the server knows escaped into it and the page's data as
// JSON for the script (static/dashboard.js), which draws the tables and charts and follows the
// study live. Nothing is fetched from elsewhere: the script, the styles and ECharts are served here.
import { html, type Html, scriptJson } from "./html.js"

/** Where a page sits, for the links above its title. */
export type Crumb = readonly [label: string, href: string | undefined]

export interface Page {
  /** Which page it is, for the script. */
  readonly page: "studies" | "study" | "trials" | "trial" | "compare" | "error"
  readonly title: string
  readonly crumbs: ReadonlyArray<Crumb>
  readonly body: Html
  /** The page's data, for the script. */
  readonly data?: unknown
  /** Whether the page draws charts (loads ECharts). */
  readonly charts?: boolean
}

export interface Chrome {
  readonly write: boolean
  /** The ECharts file's address. */
  readonly echarts: string
  /** The script's and styles' version, so that a new one is not read from a stale cache. */
  readonly version: string
}

/** A study's page address. */
export const studyHref = (name: string) => `/study/${encodeURIComponent(name)}`
export const trialHref = (name: string, number: number) => `${studyHref(name)}/trial/${number}`

/** A whole page. */
export const render = (p: Page, c: Chrome): string =>
  html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${p.title} · tunekit</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/static/dashboard.css?v=${c.version}">
<script src="/static/dashboard.js?v=${c.version}" defer></script>
</head>
<body data-page="${p.page}" data-write="${c.write ? "true" : "false"}"${p.charts ? html` data-echarts="${c.echarts}"` : ""}>
<header class="top">
  <a class="brand" href="/">tunekit</a>
  <nav class="crumbs">${p.crumbs.map(([label, href]) => (href === undefined ? html`<span>${label}</span>` : html`<a href="${href}">${label}</a>`))}</nav>
  <span class="mode ${c.write ? "write" : "read"}" title="${c.write ? "started with --allow-write: actions are enabled" : "read-only: start with --allow-write to enqueue, stop and edit notes"}">${c.write ? "read-write" : "read-only"}</span>
  <span class="live" id="tk-live" hidden>live</span>
</header>
<main>
${p.body}
</main>
<script type="application/json" id="tk-data">${scriptJson(p.data ?? null)}</script>
</body>
</html>
`.text

/** The studies list. */
export const studies = (data: unknown): Page => ({
  page: "studies",
  title: "Studies",
  crumbs: [["Studies", undefined]],
  data,
  body: html`<h1>Studies</h1>
<form id="tk-compare" action="/compare" method="get" class="bar">
  <button type="submit" disabled>Compare selected</button>
  <span class="hint">select two or more studies</span>
</form>
<table class="grid" id="tk-studies">
  <thead><tr><th></th><th>study</th><th>state</th><th>best</th><th>trials</th><th>complete</th><th>pruned</th><th>failed</th><th>running</th><th>waiting</th><th>last active</th><th>created</th></tr></thead>
  <tbody></tbody>
</table>
<p class="empty" id="tk-empty" hidden>No studies in this storage yet.</p>`
})

/** A study: its summary, notes, actions and plots. */
export const study = (name: string, data: unknown): Page => ({
  page: "study",
  title: name,
  crumbs: [["Studies", "/"], [name, undefined]],
  data,
  charts: true,
  body: html`<h1><span class="name">${name}</span></h1>
<p class="links"><a href="${studyHref(name)}/trials">Trials table</a> · <a href="/compare?study=${encodeURIComponent(name)}">Compare with…</a></p>
<section class="summary" id="tk-summary"></section>
<section class="note" id="tk-note"></section>
<section class="enqueue" id="tk-enqueue" hidden></section>
<section class="plots" id="tk-plots"></section>`
})

/** A study's trials, filtered and sorted. */
export const trials = (name: string, data: unknown): Page => ({
  page: "trials",
  title: `${name}: trials`,
  crumbs: [["Studies", "/"], [name, studyHref(name)], ["Trials", undefined]],
  data,
  body: html`<h1><span class="name">${name}</span>: trials</h1>
<section class="filters" id="tk-filters"></section>
<p class="count" id="tk-count"></p>
<div class="vtable" id="tk-table">
  <div class="vhead" id="tk-head"></div>
  <div class="vbody" id="tk-body"><div class="vspace" id="tk-space"></div></div>
</div>`
})

/** One trial. */
export const trial = (name: string, number: number, data: unknown): Page => ({
  page: "trial",
  title: `${name}: trial ${number}`,
  crumbs: [["Studies", "/"], [name, studyHref(name)], ["Trials", `${studyHref(name)}/trials`], [`Trial ${number}`, undefined]],
  data,
  charts: true,
  body: html`<h1>Trial ${number} <span id="tk-state"></span></h1>
<div id="tk-trial"></div>`
})

/** Several studies side by side. */
export const compare = (names: ReadonlyArray<string>, data: unknown): Page => ({
  page: "compare",
  title: `Compare ${names.join(", ")}`,
  crumbs: [["Studies", "/"], ["Compare", undefined]],
  data,
  charts: true,
  body: html`<h1>Compare studies</h1>
<form class="bar" id="tk-pick" method="get" action="/compare"></form>
<table class="grid" id="tk-compare-table"><thead></thead><tbody></tbody></table>
<section class="plots" id="tk-plots"></section>`
})

/** An error page (404, 401, 403). */
export const error = (title: string, message: string): Page => ({
  page: "error",
  title,
  crumbs: [["Studies", "/"]],
  body: html`<h1>${title}</h1><p class="error">${message}</p>`
})

