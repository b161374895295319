// What every example shares to run as a script: its own command-line options, and the line that
// tells how to list the stored study.
import { pathToFileURL } from "node:url"

/** Whether a module is the script node was started with. */
export const isMain = (url: string): boolean => url === pathToFileURL(process.argv[1] ?? "").href

/** The value of `--name` on the command line, if given. */
export const arg = (name: string): string | undefined => {
  const args = process.argv.slice(2)
  const i = args.indexOf(`--${name}`)
  return i >= 0 ? args[i + 1] : undefined
}

/** The number given as `--name`, if given. */
export const numberArg = (name: string): number | undefined => {
  const v = arg(name)
  return v === undefined ? undefined : Number(v)
}

/** The command that lists a study stored in `storage` (the CLI's default file needs no option). */
export const listCommand = (study: string, storage: string): string =>
  `list the study: npx tunekit trials ${study}${storage === "tunekit.db" ? "" : ` --storage ${storage}`}`
