/**
 * @tunekit/cli: the `tunekit` command.
 *
 * @since 0.1.0
 */
export * as Cli from "./Cli.js"
export * as Main from "./Main.js"
export * as Sweep from "./Sweep.js"
export * as Worker from "./Worker.js"
