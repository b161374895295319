/**
 * @tunekit/postgres: a study's storage on PostgreSQL, shared by workers on many machines.
 *
 * @since 0.1.0
 */
export * as Postgres from "./Postgres.js"
export * as PostgresCheckpoint from "./PostgresCheckpoint.js"
export * as PostgresTransfer from "./PostgresTransfer.js"
