// HTML built on the server: every interpolated value is escaped unless it is markup this module
// made (a `Html` value), so a study, parameter or note named `<img src=x onerror=alert(1)>` shows
// as text. Data for the page's script travels as JSON in a non-executed <script type=application/json>.

const ENTITIES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }

/** Text as HTML: safe in element content and in quoted attribute values. */
export const escape = (s: string): string => s.replace(/[&<>"']/g, (c) => ENTITIES[c])

/** Markup that is safe as it is (built by `html`). */
export class Html {
  constructor(readonly text: string) {}
  toString() {
    return this.text
  }
}

type Value = Html | string | number | boolean | null | undefined | ReadonlyArray<Value>

const render = (v: Value): string =>
  v instanceof Html ? v.text : v === null || v === undefined || v === false ? "" : Array.isArray(v) ? v.map(render).join("") : escape(String(v))

/** A template whose interpolations are escaped (arrays are joined, null and false are nothing). */
export const html = (strings: TemplateStringsArray, ...values: ReadonlyArray<Value>): Html =>
  new Html(strings.reduce((out, s, i) => out + s + (i < values.length ? render(values[i]) : ""), ""))

/**
 * JSON inside a <script type="application/json"> element: no "<" (so no "</script>" or "<!--"),
 * and no JavaScript line separators.
 */
export const scriptJson = (x: unknown): Html =>
  new Html(JSON.stringify(x).replace(/</g, "\\u003c").replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029"))
