// Headless Chromium for console tests: Debian's /usr/bin/chromium driven by
// playwright-core (which never downloads a browser), plus the checks every
// console page must pass: axe-core (no serious or critical violation) and
// every control reachable with the Tab key.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { chromium, type Browser, type Page } from 'playwright-core'

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: ['--no-sandbox'] })
}

export interface AxeViolation {
  id: string
  impact: string | null
  help: string
  nodes: { target: string[] }[]
}

/**
 * Runs axe-core in the page. It is evaluated through the DevTools protocol,
 * which the page's Content-Security-Policy does not govern; a <script> tag
 * (page.addScriptTag) would need bypassCSP, and the tests keep the CSP on.
 */
export async function seriousAxeViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(`${axeSource}\n;0`)
  const violations = (await page.evaluate('axe.run(document, { resultTypes: ["violations"] }).then((r) => r.violations)')) as AxeViolation[]
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
}

/**
 * Tabs through the page from the top and returns the controls that never got
 * focus (described by role and name). Controls are what a person operates:
 * links, buttons, inputs, selects, text areas, and anything with a tabindex.
 */
export async function controlsNotReachedByKeyboard(page: Page): Promise<string[]> {
  const total = await page.evaluate(() => {
    const controls = [...document.querySelectorAll<HTMLElement>('a[href], button, input, select, textarea, [tabindex]')].filter(
      (element) => !element.hasAttribute('disabled') && element.getAttribute('tabindex') !== '-1' && element.getClientRects().length > 0,
    )
    controls.forEach((element, index) => element.setAttribute('data-keyboard-check', String(index)))
    ;(document.activeElement as HTMLElement | null)?.blur()
    return controls.length
  })
  const reached = new Set<string>()
  for (let i = 0; i < total * 2 + 5 && reached.size < total; i++) {
    await page.keyboard.press('Tab')
    const mark = await page.evaluate(() => document.activeElement?.getAttribute('data-keyboard-check') ?? null)
    if (mark !== null) reached.add(mark)
  }
  return page.evaluate((seen) => {
    const missing = [...document.querySelectorAll<HTMLElement>('[data-keyboard-check]')].filter((element) => !seen.includes(element.getAttribute('data-keyboard-check') ?? ''))
    document.querySelectorAll('[data-keyboard-check]').forEach((element) => element.removeAttribute('data-keyboard-check'))
    return missing.map((element) => `${element.tagName.toLowerCase()} "${element.getAttribute('aria-label') ?? element.textContent?.trim() ?? ''}"`)
  }, [...reached])
}
