import { describe, expect, it } from "vitest"
import { fromPassfile, maskUrl, resolve } from "../src/internal/connection.js"

describe("PostgreSQL connection strings", () => {
  it("masks the password of every URL in a text", () => {
    expect(maskUrl("postgres://me:secret@db:5432/s")).toBe("postgres://me:***@db:5432/s")
    expect(maskUrl("a postgresql://me:x%40y@db/s and postgres://u@h/d")).toBe("a postgresql://me:***@db/s and postgres://u@h/d")
  })

  it("takes the password in libpq's order: URL, password file, PGPASSWORD, passfile", () => {
    const pw = (c: ReturnType<typeof resolve>) => new URL(c.connectionString).password
    const env = { PGPASSWORD: "from-env" }
    expect(pw(resolve("postgres://u:from-url@h/d", env))).toBe("from-url")
    expect(pw(resolve("postgres://u@h/d", env))).toBe("from-env")
    expect(pw(resolve("postgres://u@h/d", {}))).toBe("")
    expect(() => resolve({ url: "postgres://u@h/d", passwordFile: "/nonexistent/secret" }, {})).toThrow(/cannot read the password file/)
  })

  it("builds the URL from fields, and keeps the password out of the label and of masked texts", () => {
    const c = resolve({ host: "db", port: 6543, database: "s", user: "me", password: "p@ss:w/rd" }, {})
    expect(c.label).toBe("postgres://me:***@db:6543/s")
    expect(decodeURIComponent(new URL(c.connectionString).password)).toBe("p@ss:w/rd")
    expect(c.mask("auth failed for p@ss:w/rd and p%40ss%3Aw%2Frd")).toBe("auth failed for *** and ***")
    expect(() => resolve("mysql://root:hunter2@db/x", {})).toThrow(/not a PostgreSQL connection string/)
    expect(() => resolve("mysql://root:hunter2@db/x", {})).not.toThrow(/hunter2/)
  })

  it("reads .pgpass lines with wildcards and escaped colons", () => {
    const text = "# comment\nother:*:*:*:no\n*:5432:s:me:a\\:b\\\\c\n*:*:*:*:fallback\n"
    expect(fromPassfile(text, "db", "5432", "s", "me")).toBe("a:b\\c")
    expect(fromPassfile(text, "db", "5433", "s", "me")).toBe("fallback")
    expect(fromPassfile("h:1:d:u:p", "x", "1", "d", "u")).toBeUndefined()
  })
})
