// The `tunekit` executable: prints what Cli.run gives, or the error and a non-zero exit code.
import { Effect } from "effect"
import * as Cli from "./Cli.js"

const exit = await Effect.runPromiseExit(Cli.run(process.argv.slice(2)))
if (exit._tag === "Success") {
  process.stdout.write(exit.value + "\n")
} else {
  const e = exit.cause._tag === "Fail" ? exit.cause.error : undefined
  process.stderr.write(`tunekit: ${e && "message" in e ? e.message : String(exit.cause)}\n`)
  process.exitCode = e?._tag === "UsageError" ? 2 : 1
}
