// The HTML shell of a self-contained page (Plot.toHtml, the report): ECharts' browser build
// inlined once, each chart's option embedded as JSON, nothing fetched, so the file works offline.
// Every string of a study reaches the page through `escapeHtml` (markup) or `scriptJson` (data).
import * as fs from "node:fs"
import { createRequire } from "node:module"
import * as path from "node:path"
import type { Option } from "./common.js"

const require = createRequire(import.meta.url)

let library: string | undefined

/**
 * ECharts' browser build, read once from the installed package at run time. Resolved through
 * `require.resolve` (its `require` entry is dist/echarts.js, the minified twin sits beside it), so
 * it is found from the sources and from the built package alike.
 */
export const echartsScript = (): string =>
  (library ??= fs.readFileSync(path.join(path.dirname(require.resolve("echarts")), "echarts.min.js"), "utf8"))

/** Text as HTML text or an attribute's value. */
export const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!)

/** JSON safe inside a <script> element: no "<" (so no "</script>" or "<!--"), no JS line separators. */
export const scriptJson = (x: unknown): string =>
  JSON.stringify(x).replace(/</g, "\\u003c").replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029")

/** A chart of a page: its option and its size in pixels. */
export interface Chart {
  readonly option: Option
  readonly width: number
  readonly height: number
}

/** The element chart `i` of the page is drawn in. */
export const figure = (i: number, chart: Chart): string =>
  `<figure><div class="chart" id="tk-plot-${i}" style="width:${chart.width}px;height:${chart.height}px"></div></figure>`

const STYLE = `body { font-family: system-ui, sans-serif; margin: 24px; color: #222; background: #fafafa; }
h1 { font-size: 20px; font-weight: 600; }
figure { margin: 0 0 24px; background: #fff; border: 1px solid #e3e3e3; border-radius: 6px; padding: 8px; width: fit-content; max-width: 100%; overflow-x: auto; }`

/**
 * A whole page: `body` is markup whose study strings are already escaped, and holds a `figure(i)`
 * for each chart; `style` adds rules to the shared ones.
 */
export const page = (input: { readonly title: string; readonly body: string; readonly charts: ReadonlyArray<Chart>; readonly style?: string }): string =>
  `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(input.title)}</title>
<style>
${STYLE}${input.style === undefined ? "" : `\n${input.style}`}
</style>
</head>
<body>
${input.body}
<script>${echartsScript().replace(/<\/script/gi, "<\\/script")}</script>
<script>
const options = ${scriptJson(input.charts.map((c) => c.option))};
options.forEach((option, i) => {
  const chart = echarts.init(document.getElementById("tk-plot-" + i), null, { renderer: "svg" });
  chart.setOption(option);
});
</script>
</body>
</html>
`
