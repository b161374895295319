export {}
export * as Pbt from "./Pbt.js"
