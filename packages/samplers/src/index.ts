/**
 * @tunekit/samplers: model-based search strategies, each a Sampler layer.
 *
 * @since 0.1.0
 */
export * as Tpe from "./Tpe.js"
export * as CmaEs from "./CmaEs.js"
export * as Hypervolume from "./Hypervolume.js"
export * as Nsga2 from "./Nsga2.js"
export * as Gp from "./Gp.js"
export * as Qmc from "./Qmc.js"
export * as Auto from "./Auto.js"
