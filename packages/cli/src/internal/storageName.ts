// What a storage name means wherever the CLI and sweep files take one: a `postgres://` or
// `postgresql://` URL is a PostgreSQL database, anything else an SQLite file. A URL is shown with
// its password masked.
import type { Layer } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import type { Storage, StorageError } from "@tunekit/core"
import { Postgres } from "@tunekit/postgres"

export const isUrl: (name: string) => boolean = Postgres.isUrl

/** Whether the name can hold a study: a database (its server says) or an SQLite file that exists. */
export const exists = (name: string): boolean => isUrl(name) || fs.existsSync(name)

/** The Storage layer a name gives (`readonly` applies to files: a database's rights are its role's). */
export const layer: (name: string, options?: { readonly readonly?: boolean }) => Layer.Layer<Storage.Storage, StorageError> = Postgres.layerNamed

/** The name as messages show it. */
export const show: (name: string) => string = Postgres.maskUrl

/** A name given in a file: a URL as it is, a path relative to the file's folder. */
export const resolveFrom = (dir: string, name: string): string => (isUrl(name) ? name : path.resolve(dir, name))
