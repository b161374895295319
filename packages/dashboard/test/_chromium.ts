// Debian's chromium driven by playwright-core, as the issue asks: installed when missing
// (scripts/chromium-install.sh), launched with the listed flags and a fresh profile each time.
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { type BrowserContext, chromium } from "playwright-core"

/** The flags; without the networking ones chromium tries to reach hosts this machine cannot. */
export const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run"
]

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..")

/** The browser's path, after installing it if it is missing. */
export const ensureChromium = (): string =>
  execFileSync(path.join(root, "scripts", "chromium-install.sh"), { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim()

export interface Browser {
  readonly context: BrowserContext
  readonly close: () => Promise<void>
}

/** A browser with a fresh profile (its --user-data-dir), removed when closed. */
export const launch = async (viewport = { width: 1280, height: 900 }): Promise<Browser> => {
  const executablePath = ensureChromium()
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "tunekit-chromium-"))
  const context = await chromium.launchPersistentContext(profile, { executablePath, headless: true, args: FLAGS, viewport })
  return {
    context,
    close: async () => {
      await context.close()
      fs.rmSync(profile, { recursive: true, force: true })
    }
  }
}
