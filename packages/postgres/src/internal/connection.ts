// Where a PostgreSQL storage connects, and with which password: from the URL, an explicit file,
// PGPASSWORD, or a passfile in libpq's .pgpass format (`?passfile=`, PGPASSFILE), in libpq's order
// of precedence. The password never leaves this module except in the pool's configuration: labels
// and messages carry the URL with the password masked, and `mask` scrubs it from any text.
import * as fs from "node:fs"
import pg from "pg"

export interface ConnectionOptions {
  /** A `postgres://` or `postgresql://` URL (user, password, host, port, database, parameters). */
  readonly url?: string
  readonly host?: string
  readonly port?: number
  readonly database?: string
  readonly user?: string
  readonly password?: string
  /** A file holding the password (its first line; a Docker or Kubernetes secret, say). */
  readonly passwordFile?: string
}

export interface Connection {
  /** The connection string for the client, password included: never shown. */
  readonly connectionString: string
  /** The URL with the password masked, for labels and messages. */
  readonly label: string
  /** Replaces the password wherever it occurs in a text. */
  readonly mask: (text: string) => string
}

/** Whether a storage name is a PostgreSQL connection string. */
export const isUrl = (s: string): boolean => /^postgres(ql)?:\/\//i.test(s.trim())

const MASK = "***"

/** A URL (or a text holding URLs, of any scheme) with the password of each masked: safe to print. */
export const maskUrl = (text: string): string => text.replace(/([a-z][a-z0-9+.-]*:\/\/[^:@/?#\s]*):[^@/?#\s]*@/gi, `$1:${MASK}@`)

/** Builds the URL from separate fields (or returns the given one). */
const urlOf = (o: ConnectionOptions): string => {
  if (o.url !== undefined) return o.url.trim()
  const user = o.user === undefined ? "" : encodeURIComponent(o.user)
  const pass = o.password === undefined ? "" : `:${encodeURIComponent(o.password)}`
  const host = o.host ?? "localhost"
  return `postgres://${user}${pass}${user || pass ? "@" : ""}${host.includes(":") ? `[${host}]` : host}${o.port === undefined ? "" : `:${o.port}`}/${encodeURIComponent(o.database ?? "")}`
}

/** The password of a `.pgpass`-format file for this host, port, database and user (libpq's rules). */
export const fromPassfile = (text: string, host: string, port: string, database: string, user: string): string | undefined => {
  for (const raw of text.split(/\r?\n/)) {
    if (raw.trim() === "" || raw.startsWith("#")) continue
    // Fields are separated by ':'; '\:' and '\\' escape a colon and a backslash.
    const fields: Array<string> = []
    let cur = ""
    for (let i = 0; i < raw.length; i++) {
      const c = raw[i]
      if (c === "\\" && i + 1 < raw.length) cur += raw[++i]
      else if (c === ":" && fields.length < 4) {
        fields.push(cur)
        cur = ""
      } else cur += c
    }
    fields.push(cur)
    if (fields.length < 5) continue
    const [h, p, d, u, pw] = fields
    const match = (pattern: string, value: string) => pattern === "*" || pattern === value
    if (match(h, host) && match(p, port) && match(d, database) && match(u, user)) return pw
  }
  return undefined
}

const readFile = (file: string, what: string): string => {
  try {
    return fs.readFileSync(file, "utf8")
  } catch (e) {
    throw new Error(`cannot read the ${what} ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`)
  }
}

/**
 * Resolves a connection: the URL parsed, the password found. Throws an Error whose message never
 * holds the password.
 */
export const resolve = (input: string | ConnectionOptions, env: NodeJS.ProcessEnv = process.env): Connection => {
  const options: ConnectionOptions = typeof input === "string" ? { url: input } : input
  const raw = urlOf(options)
  if (!isUrl(raw)) throw new Error(`not a PostgreSQL connection string (postgres://user@host:port/database): ${maskUrl(raw)}`)
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new Error(`cannot parse the connection string ${maskUrl(raw)}`)
  }
  const passfile = url.searchParams.get("passfile") ?? undefined
  url.searchParams.delete("passfile")
  const user = decodeURIComponent(url.username) || env.PGUSER || ""
  const host = decodeURIComponent(url.hostname).replace(/^\[(.*)\]$/, "$1") || url.searchParams.get("host") || env.PGHOST || "localhost"
  const port = url.port || env.PGPORT || "5432"
  const database = decodeURIComponent(url.pathname.replace(/^\//, "")) || env.PGDATABASE || user
  const inUrl = url.password === "" ? undefined : decodeURIComponent(url.password)
  const fromFile = () => options.passwordFile === undefined ? undefined : readFile(options.passwordFile, "password file").split(/\r?\n/)[0]
  const fromPassfile_ = () => {
    const file = passfile ?? env.PGPASSFILE
    return file === undefined ? undefined : fromPassfile(readFile(file, "passfile"), host, port, database, user)
  }
  // libpq's order; with none of these, the client still looks in ~/.pgpass.
  const password = inUrl ?? fromFile() ?? (env.PGPASSWORD || undefined) ?? fromPassfile_()
  if (password !== undefined) url.password = encodeURIComponent(password)
  const label = maskUrl(raw)
  const secrets = password === undefined || password === "" ? [] : [...new Set([password, encodeURIComponent(password)])]
  return {
    connectionString: url.href,
    label,
    mask: (text) => secrets.reduce((t, s) => t.split(s).join(MASK), maskUrl(text))
  }
}

/**
 * A pool of connections for one part of tunekit (storage, checkpoints, transfer), named for the
 * server's activity view. A connection the server cuts is dropped from the pool (the query on it
 * fails and is retried; an idle one just goes) and the next query opens another; checked-out
 * clients report the cut as an event too, which must not crash the process.
 */
export const pool = (conn: Connection, options: { readonly max: number; readonly name: string; readonly types?: pg.CustomTypesConfig }): pg.Pool => {
  const made = new pg.Pool({
    connectionString: conn.connectionString,
    max: options.max,
    keepAlive: true,
    connectionTimeoutMillis: 10_000,
    application_name: options.name,
    ...(options.types ? { types: options.types } : {})
  })
  made.on("error", () => undefined)
  made.on("connect", (client) => void client.on("error", () => undefined))
  return made
}

/**
 * Runs statements prepared once per connection, each text under a name of its own made from
 * `prefix`: the server then parses and plans a statement once per connection, not at each call.
 */
export const prepared = (prefix: string) => {
  const names = new Map<string, string>()
  return <R extends pg.QueryResultRow = pg.QueryResultRow>(db: pg.ClientBase | pg.Pool, text: string, values: ReadonlyArray<unknown> = []) => {
    let name = names.get(text)
    if (name === undefined) names.set(text, name = `${prefix}_${names.size}`)
    return db.query<R>({ name, text, values: values as Array<unknown> })
  }
}
