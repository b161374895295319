// Writing a plot or a report to a file, with the reason in WriteFailed when the system refuses.
import { Effect } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { WriteFailed } from "../Errors.js"

export const writeFile = (file: string, content: string | Uint8Array): Effect.Effect<number, WriteFailed> =>
  Effect.suspend(() => {
    const dir = path.dirname(path.resolve(file))
    if (!fs.existsSync(dir)) return Effect.fail(new WriteFailed({ path: file, reason: `the folder ${dir} does not exist` }))
    return Effect.try({
      try: () => {
        fs.writeFileSync(file, content)
        return typeof content === "string" ? Buffer.byteLength(content) : content.byteLength
      },
      catch: (e) => {
        const code = (e as NodeJS.ErrnoException).code
        return new WriteFailed({ path: file, reason: code === "EISDIR" ? "it is a folder" : code === "EACCES" ? "permission denied" : (e as Error).message })
      }
    })
  })
