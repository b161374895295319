/**
 * Test helpers of @tunekit/postgres: a throwaway PostgreSQL server.
 *
 * @since 0.1.0
 */
export * as Server from "./Server.js"
