/**
 * Test helpers of @tunekit/transfer: the conformance suite every layer of the Transfer service
 * passes. It declares vitest tests: import it from a test file.
 *
 * @since 0.2.0
 */
export * as TransferConformance from "./TransferConformance.js"
