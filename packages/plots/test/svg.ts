// A strict parser for the XML that SVG files are: elements, attributes, text, CDATA, comments and
// the prolog. It throws on anything malformed (an unclosed or mismatched tag, an unquoted or
// repeated attribute, a bare "<" or "&", an unknown entity, content after the root), which is how
// the tests check that a rendered SVG parses.

export interface Element {
  readonly name: string
  readonly attrs: Readonly<Record<string, string>>
  readonly children: ReadonlyArray<Element | string>
}

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" }

const decode = (s: string, at: number): string => {
  if (s.includes("<")) throw new SyntaxError(`a bare "<" near offset ${at}`)
  return s.replace(/&([^;\s&]*);?/g, (m, name: string) => {
    if (!m.endsWith(";")) throw new SyntaxError(`a bare "&" near offset ${at}`)
    if (name.startsWith("#x")) return String.fromCodePoint(parseInt(name.slice(2), 16))
    if (name.startsWith("#")) return String.fromCodePoint(parseInt(name.slice(1), 10))
    const v = ENTITIES[name]
    if (v === undefined) throw new SyntaxError(`unknown entity &${name}; near offset ${at}`)
    return v
  })
}

const NAME = /^[A-Za-z_:][-A-Za-z0-9_:.]*/

export const parse = (xml: string): Element => {
  let i = 0
  const skipMisc = () => {
    for (;;) {
      while (i < xml.length && /\s/.test(xml[i])) i++
      if (xml.startsWith("<?", i)) i = expectEnd("?>", i)
      else if (xml.startsWith("<!--", i)) i = expectEnd("-->", i)
      else if (xml.startsWith("<!DOCTYPE", i)) i = expectEnd(">", i)
      else return
    }
  }
  const expectEnd = (end: string, from: number) => {
    const k = xml.indexOf(end, from)
    if (k < 0) throw new SyntaxError(`unterminated construct at offset ${from}`)
    return k + end.length
  }
  const element = (): Element => {
    if (xml[i] !== "<") throw new SyntaxError(`expected an element at offset ${i}`)
    i++
    const name = NAME.exec(xml.slice(i, i + 200))?.[0]
    if (!name) throw new SyntaxError(`bad element name at offset ${i}`)
    i += name.length
    const attrs: Record<string, string> = {}
    for (;;) {
      const ws = /^\s*/.exec(xml.slice(i, i + 100))![0].length
      i += ws
      if (xml.startsWith("/>", i)) {
        i += 2
        return { name, attrs, children: [] }
      }
      if (xml[i] === ">") {
        i++
        break
      }
      if (ws === 0) throw new SyntaxError(`expected a space before an attribute at offset ${i}`)
      const attr = NAME.exec(xml.slice(i, i + 200))?.[0]
      if (!attr) throw new SyntaxError(`bad attribute at offset ${i}`)
      i += attr.length
      if (xml[i] !== "=") throw new SyntaxError(`attribute ${attr} without a value at offset ${i}`)
      i++
      const q = xml[i]
      if (q !== '"' && q !== "'") throw new SyntaxError(`unquoted value of ${attr} at offset ${i}`)
      const end = xml.indexOf(q, i + 1)
      if (end < 0) throw new SyntaxError(`unterminated value of ${attr}`)
      if (attr in attrs) throw new SyntaxError(`attribute ${attr} repeated at offset ${i}`)
      attrs[attr] = decode(xml.slice(i + 1, end), i)
      i = end + 1
    }
    const children: Array<Element | string> = []
    for (;;) {
      if (i >= xml.length) throw new SyntaxError(`<${name}> is never closed`)
      if (xml.startsWith("</", i)) {
        const close = NAME.exec(xml.slice(i + 2, i + 202))?.[0]
        if (close !== name) throw new SyntaxError(`</${close}> closes <${name}> at offset ${i}`)
        i += 2 + close.length
        while (/\s/.test(xml[i])) i++
        if (xml[i] !== ">") throw new SyntaxError(`bad closing tag at offset ${i}`)
        i++
        return { name, attrs, children }
      }
      if (xml.startsWith("<![CDATA[", i)) {
        const end = expectEnd("]]>", i)
        children.push(xml.slice(i + 9, end - 3))
        i = end
      } else if (xml.startsWith("<!--", i)) {
        i = expectEnd("-->", i)
      } else if (xml[i] === "<") {
        children.push(element())
      } else {
        const next = xml.indexOf("<", i)
        const end = next < 0 ? xml.length : next
        children.push(decode(xml.slice(i, end), i))
        i = end
      }
    }
  }
  skipMisc()
  const root = element()
  skipMisc()
  if (i !== xml.length) throw new SyntaxError(`content after the root element at offset ${i}`)
  return root
}

/** Every element of the tree (depth first) that satisfies `test`. */
export const findAll = (root: Element, test: (e: Element) => boolean): Array<Element> => {
  const out: Array<Element> = []
  const walk = (e: Element) => {
    if (test(e)) out.push(e)
    for (const c of e.children) if (typeof c !== "string") walk(c)
  }
  walk(root)
  return out
}

/** The texts of every <text> element. */
export const texts = (root: Element): Array<string> =>
  findAll(root, (e) => e.name === "text").map((e) => e.children.filter((c): c is string => typeof c === "string").join(""))

/**
 * How many data items of a series are drawn in the chart: ECharts marks each element it draws
 * for data with its series and data index, and whether it is the chart's or the legend's.
 */
export const items = (root: Element, series: number): number =>
  new Set(
    findAll(root, (e) => e.attrs.ecmeta_ssr_type === "chart" && e.attrs.ecmeta_series_index === String(series) && e.attrs.ecmeta_data_index !== undefined)
      .map((e) => e.attrs.ecmeta_data_index)
  ).size
