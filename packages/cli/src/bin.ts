// The `tunekit` executable: Cli.run as the process's main fiber; its text to stdout, or its
// error as one line to stderr with a non-zero exit code (2 for a usage error).
import * as Cli from "./Cli.js"
import * as Main from "./Main.js"

Main.run("tunekit", Cli.run(process.argv.slice(2)))
