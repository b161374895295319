// A sweep's `command`: W&B's macros, expanded for each trial into an argv (never a shell string).
// Their meaning is W&B's (docs.wandb.ai, "Sweep configuration options", `command`); values are
// written as W&B's agent writes them (Python's str(): True, False, None), lists and objects as JSON.
import * as fs from "node:fs"
import * as path from "node:path"

/** W&B's default command: `${env} ${interpreter} ${program} ${args}`. */
export const DEFAULT_COMMAND: ReadonlyArray<string> = ["${env}", "${interpreter}", "${program}", "${args}"]

/** Macros that expand to one argument per parameter: only an item of their own. */
const LISTS = ["args", "args_no_hyphens", "args_no_boolean_flags"] as const
/** Macros that expand to one text. */
const TEXTS = ["env", "interpreter", "program", "args_json", "args_json_file"] as const

/** Every macro a command may hold (`${envvar:NAME}` besides). */
export const MACROS: ReadonlyArray<string> = [...TEXTS, ...LISTS]

const MACRO = /\$\{([^}]*)\}/g

/** A value as W&B's agent writes it on a command line. */
export const valueText = (v: unknown): string =>
  v === true ? "True" : v === false ? "False" : v === null || v === undefined ? "None" : typeof v === "string" ? v : typeof v === "number" ? String(v) : JSON.stringify(v)

/** What a command item holds wrong: an unknown macro, a list macro inside text, a missing program. */
export const commandIssue = (
  command: ReadonlyArray<string>,
  hasProgram: boolean,
  closest: (word: string, among: ReadonlyArray<string>) => string | undefined
): { readonly index: number; readonly message: string } | undefined => {
  for (const [index, item] of command.entries()) {
    for (const m of item.matchAll(MACRO)) {
      const name = m[1]
      if (name.startsWith("envvar:")) continue
      if (!MACROS.includes(name)) {
        const near = closest(name, MACROS)
        return { index, message: `unknown macro \${${name}}${near === undefined ? "" : ` (did you mean \${${near}}?)`}; the macros are ${MACROS.map((x) => `\${${x}}`).join(", ")} and \${envvar:NAME}` }
      }
      if ((LISTS as ReadonlyArray<string>).includes(name) && item !== m[0]) {
        return { index, message: `\${${name}} expands to one argument per parameter: give it an item of its own` }
      }
      if (name === "program" && !hasProgram) return { index, message: "uses ${program}, but the sweep has no `program`" }
    }
  }
  return undefined
}

const onPath = (name: string): boolean =>
  (process.env.PATH ?? "").split(path.delimiter).some((dir) => {
    try {
      fs.accessSync(path.join(dir, name), fs.constants.X_OK)
      return true
    } catch {
      return false
    }
  })

let python: string | undefined

/**
 * `${interpreter}`: W&B's is `python` (here `python3` where there is no `python`). A Node program
 * (.js, .mjs, .cjs) gets this Node, which W&B, a Python tool, has no case for.
 */
export const interpreter = (program: string | undefined): string => {
  if (program !== undefined && /\.(m|c)?js$/.test(program)) return process.execPath
  python ??= onPath("python") ? "python" : "python3"
  return python
}

/** What a command is expanded with, for one trial. */
export interface Expansion {
  readonly program: string | undefined
  /** The trial's config, nested as in the file. */
  readonly config: Readonly<Record<string, unknown>>
  /** Writes the config to a file and gives its path (`${args_json_file}`). */
  readonly jsonFile: () => string
}

const env = process.platform === "win32" ? [] : ["/usr/bin/env"]

/** A command with its macros expanded: the trial's argv. */
export const expand = (command: ReadonlyArray<string>, x: Expansion): Array<string> => {
  const entries = Object.entries(x.config)
  const lists: Record<(typeof LISTS)[number], () => Array<string>> = {
    args: () => entries.map(([k, v]) => `--${k}=${valueText(v)}`),
    args_no_hyphens: () => entries.map(([k, v]) => `${k}=${valueText(v)}`),
    args_no_boolean_flags: () => entries.flatMap(([k, v]) => (v === true ? [`--${k}`] : v === false ? [] : [`--${k}=${valueText(v)}`]))
  }
  const text = (name: string): string => {
    if (name.startsWith("envvar:")) {
      // W&B leaves the name when the variable is not set.
      const v = name.slice("envvar:".length)
      return process.env[v] ?? v
    }
    switch (name) {
      case "env":
        return env.join("")
      case "interpreter":
        return interpreter(x.program)
      case "program":
        return x.program ?? ""
      case "args_json":
        return JSON.stringify(x.config)
      case "args_json_file":
        return x.jsonFile()
      default:
        return `\${${name}}`
    }
  }
  return command.flatMap((item) => {
    const whole = /^\$\{([^}]*)\}$/.exec(item)?.[1]
    if (whole !== undefined && whole in lists) return lists[whole as keyof typeof lists]()
    if (whole === "env") return env
    return [item.replace(MACRO, (_, name: string) => text(name))]
  })
}
