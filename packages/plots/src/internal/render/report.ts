// The markup of a study's report around its charts: the study's settings and the best trials.
// Every string that comes from the study goes through escapeHtml.
import { Study, Trial } from "@tunekit/core"
import { Auto } from "@tunekit/samplers"
import type { Source } from "../../Source.js"
import { stateColor } from "./common.js"
import { escapeHtml as esc } from "./page.js"

/** What the report shows of a study beyond its trials (a `Storage.StudyInfo` fits). */
export interface StudyInfo {
  readonly createdAt?: number
  readonly userAttrs?: Readonly<Record<string, Trial.Json>>
  readonly systemAttrs?: Readonly<Record<string, Trial.Json>>
}

export const STYLE = `header { margin-bottom: 16px; }
header h1 { margin: 0 0 4px; font-size: 22px; overflow-wrap: anywhere; }
header p, .muted { color: #666; margin: 0; font-size: 13px; }
nav { margin: 12px 0 20px; font-size: 14px; display: flex; flex-wrap: wrap; gap: 6px 14px; }
nav a { color: #2456b3; text-decoration: none; }
h2 { font-size: 17px; font-weight: 600; margin: 28px 0 10px; }
section { max-width: 1400px; }
table { border-collapse: collapse; background: #fff; font-size: 13px; }
.scroll { overflow-x: auto; max-width: 100%; border: 1px solid #e3e3e3; border-radius: 6px; width: fit-content; }
th, td { padding: 5px 10px; border-bottom: 1px solid #eee; text-align: left; vertical-align: top; }
thead th { background: #f3f4f6; font-weight: 600; white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.settings th { background: #f7f7f8; width: 150px; font-weight: 600; }
td code, td.json { font-family: ui-monospace, monospace; font-size: 12px; overflow-wrap: anywhere; max-width: 720px; }
.state { display: inline-block; padding: 1px 7px; border-radius: 9px; color: #fff; font-size: 12px; margin-right: 6px; }
ul.skipped { font-size: 14px; color: #444; padding-left: 20px; }
ul.skipped li { margin: 4px 0; }`

const num = (x: number): string => (Number.isInteger(x) ? String(x) : String(Number(x.toPrecision(6))))

const valueText = (v: unknown): string => (typeof v === "number" ? num(v) : typeof v === "string" ? v : JSON.stringify(v) ?? String(v))

const time = (ms: number | undefined) => (ms === undefined ? "-" : new Date(ms).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC"))

const seconds = (ms: number) =>
  ms < 60_000 ? `${num(ms / 1000)} s` : ms < 3_600_000 ? `${num(ms / 60_000)} min` : `${num(ms / 3_600_000)} h`

const STATES: ReadonlyArray<Trial.State> = ["Complete", "Pruned", "Failed", "Running", "Waiting"]

const badge = (state: Trial.State, text: string) => `<span class="state" style="background:${stateColor[state]}">${esc(text)}</span>`

const row = (key: string, value: string) => `<tr><th>${esc(key)}</th><td>${value}</td></tr>`

/** JSON of an attribute, cut at 400 characters so that one big value does not swamp the page. */
const jsonCell = (v: Trial.Json) => {
  const s = typeof v === "string" ? v : JSON.stringify(v)
  return esc(s.length > 400 ? `${s.slice(0, 400)}…` : s)
}

const counts = <K extends string>(keys: ReadonlyArray<K | undefined>): Array<[K, number]> => {
  const m = new Map<K, number>()
  for (const k of keys) if (k !== undefined) m.set(k, (m.get(k) ?? 0) + 1)
  return [...m]
}

/** The study's settings: objectives, trials by state, when it ran, what proposed the trials, its attributes. */
export const settings = (source: Source, info: StudyInfo): string => {
  const trials = source.trials
  const byState = STATES.map((s) => [s, trials.filter((t) => t.state === s).length] as const).filter(([, n]) => n > 0)
  const starts = trials.flatMap((t) => (t.startedAt === undefined ? [] : [t.startedAt]))
  const ends = trials.flatMap((t) => (t.finishedAt === undefined ? [] : [t.finishedAt]))
  const first = starts.length === 0 ? undefined : Math.min(...starts)
  const last = ends.length === 0 ? undefined : Math.max(...ends)
  const workers = new Set(trials.flatMap((t) => (t.worker === undefined ? [] : [t.worker])))
  const proposers = counts(trials.map((t) => {
    const v = t.systemAttrs[Auto.ATTRIBUTE]
    return typeof v === "string" ? v : undefined
  }))
  const attrs = [
    ...Object.entries(info.systemAttrs ?? {}).map(([k, v]) => ["system", k, v] as const),
    ...Object.entries(info.userAttrs ?? {}).map(([k, v]) => ["user", k, v] as const)
  ]
  const rows = [
    row("study", esc(source.name)),
    row("objectives", source.objectives.map((o, i) => `${esc(o)} (${source.directions[i]})`).join(", ")),
    row("trials", trials.length === 0 ? "none yet" : `${trials.length}&nbsp; ${byState.map(([s, n]) => badge(s, `${n} ${s.toLowerCase()}`)).join("")}`),
    ...(info.createdAt === undefined ? [] : [row("created", esc(time(info.createdAt)))]),
    ...(first === undefined ? [] : [row("ran", `${esc(time(first))} to ${esc(time(last))}${last !== undefined ? ` (${seconds(last - first)})` : ""}`)]),
    ...(workers.size === 0 ? [] : [row("workers", String(workers.size))]),
    ...(proposers.length === 0 ? [] : [row("proposed by", proposers.map(([k, n]) => `${esc(k)} ${n}`).join(", ") + ` <span class="muted">(the sampler's record, <code>${esc(Auto.ATTRIBUTE)}</code>)</span>`)])
  ]
  const attrTable = attrs.length === 0
    ? `<p class="muted">The study records no attributes.</p>`
    : `<div class="scroll"><table><thead><tr><th>attribute</th><th>kind</th><th>value</th></tr></thead><tbody>
${attrs.map(([kind, k, v]) => `<tr><td><code>${esc(k)}</code></td><td>${kind}</td><td class="json">${jsonCell(v)}</td></tr>`).join("\n")}
</tbody></table></div>`
  return `<section id="settings"><h2>Study</h2>
<div class="scroll"><table class="settings"><tbody>
${rows.join("\n")}
</tbody></table></div>
<h2>Attributes</h2>
${attrTable}
</section>`
}

/**
 * The best trials: the `limit` best complete trials of one objective, or the Pareto front of
 * several (by the first objective), with their values, parameters and durations.
 */
export const best = (source: Source, limit: number): string => {
  const single = source.directions.length === 1
  const complete = source.trials.filter((t) => t.state === "Complete" && t.values !== undefined && t.values.every(Number.isFinite))
  const sign = (i: number) => (source.directions[i] === "minimize" ? 1 : -1)
  const chosen = (single ? complete : [...Study.paretoFrontOf(complete, source.directions)])
    .sort((a, b) => sign(0) * (a.values![0] - b.values![0]) || a.number - b.number)
  const shown = chosen.slice(0, limit)
  const title = single ? `Best trials <span class="muted">(${source.directions[0]})</span>` : `Pareto front <span class="muted">(${source.directions.join(", ")})</span>`
  if (shown.length === 0) return `<section id="best"><h2>${title}</h2><p class="muted">No complete trial yet.</p></section>`
  const params = [...new Set(shown.flatMap((t) => Object.keys(t.params)))].sort()
  const head = ["#", "trial", ...source.objectives, ...params, "duration", "finished"]
  const body = shown.map((t, i) => {
    const values = Trial.paramValues(t)
    const d = Trial.duration(t)
    return `<tr><td class="num">${i + 1}</td><td class="num">${t.number}</td>${t.values!.map((v) => `<td class="num">${num(v)}</td>`).join("")}${
      params.map((p) => (p in values ? `<td class="num">${esc(valueText(values[p]))}</td>` : `<td class="muted">-</td>`)).join("")
    }<td class="num">${d === undefined ? "-" : seconds(d)}</td><td class="num">${esc(time(t.finishedAt))}</td></tr>`
  })
  const more = chosen.length > shown.length ? `<p class="muted">and ${chosen.length - shown.length} more ${single ? "complete trials" : "on the front"}</p>` : ""
  return `<section id="best"><h2>${title}</h2>
<div class="scroll"><table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join("")}</tr></thead><tbody>
${body.join("\n")}
</tbody></table></div>${more}
</section>`
}
