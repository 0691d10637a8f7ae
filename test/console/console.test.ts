// The admin console in a real browser (Debian's Chromium), against the real
// system: a gateway with its admin listener and two region nodes (EU1, US1)
// on their own PostgreSQL databases, tokens in Redis. A team admin of
// acme/EU1 signs in and does what the console is for; every page passes
// axe-core and keyboard checks. With CONSOLE_SCREENSHOTS=1 each page is saved
// under docs/console/ (the README shows them).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import t, { type Test } from 'tap'
import { buildConsole } from '../../console/build.ts'
import { controlsNotReachedByKeyboard, launchBrowser, seriousAxeViolations } from '../helpers/browser.ts'
import { ADMIN_TOKEN, startSystem } from '../helpers/system.ts'

const EU1 = 'eu1.localhost'
const SCREENSHOTS = process.env.CONSOLE_SCREENSHOTS === '1' ? fileURLToPath(new URL('../../docs/console/', import.meta.url)) : undefined
const assetsDir = mkdtempSync(join(tmpdir(), 'scimgate-console-assets-'))
t.teardown(() => rmSync(assetsDir, { recursive: true, force: true }))
await buildConsole(join(assetsDir, 'console'))

const system = await startSystem(t, { regions: ['EU1', 'US1'], env: { CONSOLE_ASSETS_DIR: join(assetsDir, 'console') } })
const consoleUrl = `${system.gateway.adminUrl}/console/`
const credential = await system.admin('POST', '/admin/v1/credentials', { kind: 'admin', tenantId: 'acme', region: 'EU1', label: 'Kim (team admin)' })
const { token: adminCredential, tokenId: adminCredentialId } = (await credential.json()) as { token: string; tokenId: string }

const browser = await launchBrowser()
t.teardown(() => browser.close())
const context = await browser.newContext({ viewport: { width: 1280, height: 860 } })
const page = await context.newPage()
page.setDefaultTimeout(15_000)
// The page must never trip its own Content-Security-Policy.
await page.addInitScript(() => {
  const seen: string[] = []
  ;(window as unknown as { cspViolations: string[] }).cspViolations = seen
  document.addEventListener('securitypolicyviolation', (event) => seen.push(`${event.violatedDirective} ${event.blockedURI}`))
})
const externalRequests: string[] = []
page.on('request', (request) => {
  if (!request.url().startsWith(system.gateway.adminUrl ?? '') && !request.url().startsWith('data:')) externalRequests.push(request.url())
})

const nav = (name: string) => page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name, exact: true })

async function checkPage(t: Test, name: string): Promise<void> {
  t.same(await seriousAxeViolations(page), [], `${name}: no serious or critical axe violation`)
  t.same(await controlsNotReachedByKeyboard(page), [], `${name}: every control is reachable with Tab`)
  if (SCREENSHOTS !== undefined) {
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur())
    await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true })
  }
}

async function scim(method: string, path: string, token: string, body?: unknown) {
  return system.request(EU1, method, path, { token, body })
}

let token = ''
let userId = ''
let groupId = ''

t.test('a team admin signs in and connects an identity provider', async (t) => {
  await page.goto(consoleUrl)
  await page.getByRole('heading', { name: 'scimgate console' }).waitFor()
  await checkPage(t, 'sign-in')
  await page.getByLabel('Admin credential').fill('scg_eu1_wrongwrongwrongwrongwrongwrongwrongwr')
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByRole('alert').filter({ hasText: 'not valid' }).waitFor()
  await page.getByLabel('Admin credential').fill(adminCredential)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByRole('heading', { name: 'Connect your identity provider' }).waitFor()
  t.equal(await page.getByLabel('Okta tenant URL', { exact: true }).inputValue(), 'https://ng-api-http.coralogix.com/scim')
  t.equal(await page.getByLabel('Entra ID tenant URL', { exact: true }).inputValue(), 'https://ng-api-http.coralogix.com/scim')
  t.equal(await page.getByLabel('OneLogin tenant URL', { exact: true }).inputValue(), 'https://webapi.coralogix.com/scim')
  t.ok(await page.getByRole('button', { name: 'Copy Okta tenant URL' }).isVisible())
  t.equal(await nav('Connect').getAttribute('aria-current'), 'page', 'the navigation marks the current page')
  const cookies = await context.cookies()
  t.match(cookies, [{ name: 'scimgate-console', httpOnly: true, sameSite: 'Strict' }], 'the session is an HttpOnly SameSite=Strict cookie')
  await checkPage(t, 'connect')
})

t.test('generates a token that provisions through the gateway', async (t) => {
  await nav('Tokens').click()
  await page.getByRole('heading', { name: 'Provisioning tokens' }).waitFor()
  await page.getByLabel('Label').fill('Okta production')
  await page.getByLabel('Expires').selectOption({ label: '90 days' })
  await page.getByLabel('Let the identity provider set group roles and scope').check()
  await page.getByRole('button', { name: 'Generate token' }).click()
  token = await page.getByRole('textbox', { name: 'Provisioning token', exact: true }).inputValue()
  t.match(token, /^scg_eu1_[0-9A-Za-z]{38}$/)
  t.ok(await page.getByText('It cannot be shown again').isVisible(), 'warned that it is shown once')
  await page.getByRole('cell', { name: 'Okta production', exact: true }).waitFor()
  t.pass('listed')
  await page.getByRole('cell', { name: 'scim, groups:access:write', exact: true }).waitFor()
  t.pass('with the scope that lets the identity provider push group roles')
  await checkPage(t, 'tokens')
  await page.getByRole('button', { name: 'I have copied it' }).click()
  t.equal(await page.getByRole('textbox', { name: 'Provisioning token', exact: true }).count(), 0, 'gone once dismissed')

  const created = await scim('POST', '/scim/v2/Users', token, { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'kim@example.com', name: { givenName: 'Kim', familyName: 'Lee' } })
  t.equal(created.status, 201, 'the token creates a user through the gateway')
  userId = JSON.parse(created.body).id as string
  const group = await scim('POST', '/scim/v2/Groups', token, { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Engineering', members: [{ value: userId }] })
  t.equal(group.status, 201, 'and pushes a group')
  groupId = JSON.parse(group.body).id as string
})

t.test('the new user appears in Users, with their groups and access decision', async (t) => {
  await nav('Users').click()
  await page.getByLabel('Search users').fill('KIM')
  await page.getByLabel('Status').selectOption('active')
  await page.getByRole('button', { name: 'Search', exact: true }).click()
  await page.getByRole('link', { name: 'kim@example.com' }).waitFor()
  t.match(page.url(), /\/console\/users\?q=KIM&status=active$/, 'the search is in the URL')
  await checkPage(t, 'users')
  await page.getByRole('link', { name: 'kim@example.com' }).click()
  await page.getByRole('heading', { name: 'kim@example.com' }).waitFor()
  await page.getByRole('link', { name: 'Engineering' }).waitFor()
  t.pass('the user’s groups')
  await page.getByRole('heading', { name: 'Access decision' }).waitFor()
  await page.getByRole('definition').filter({ hasText: /^yes \(active\)$/ }).waitFor()
  t.pass('the region node’s access decision: kim may sign in')
  t.equal(await page.getByRole('definition').filter({ hasText: /^none$/ }).count(), 1, 'with no roles yet (Engineering grants none)')
  await checkPage(t, 'user')
})

t.test('sets roles and scope on a pushed group; a conflicting save is explained', async (t) => {
  await nav('Groups').click()
  await page.getByRole('link', { name: 'Engineering' }).click()
  await page.getByRole('heading', { name: 'Engineering' }).waitFor()
  await page.getByRole('heading', { name: 'Roles and scope' }).waitFor()
  const catalog = page.getByRole('group', { name: 'Roles' })
  await catalog.waitFor()
  const choices = await catalog.getByRole('checkbox').evaluateAll((boxes) => boxes.map((box) => box.parentElement?.textContent?.trim()))
  t.same(choices, ['Admin', 'User', 'Read Only', 'Data Analyst', 'Interface User'], 'the choices are the tenant’s role catalog')
  await catalog.getByLabel('Admin', { exact: true }).check()
  await catalog.getByLabel('Read Only', { exact: true }).check()
  await page.getByLabel(/Scope values/).fill('team-a\nteam-b')
  await page.getByRole('button', { name: 'Save roles and scope' }).click()
  await page.getByText('Roles and scope saved.').waitFor()
  const stored = await (await system.admin('GET', `/admin/v1/regions/EU1/tenants/acme/groups/${groupId}`)).json()
  t.match(stored.access, { roles: ['Admin', 'Read Only'], scope: { type: 'Exact', values: ['team-a', 'team-b'] } }, 'saved on the region node')
  await page.getByRole('link', { name: 'kim@example.com' }).waitFor()
  t.pass('members are listed')
  await checkPage(t, 'group')

  // Someone else changes the group while this page is open.
  const current = await system.admin('GET', `/admin/v1/regions/EU1/tenants/acme/groups/${groupId}`)
  const etag = ((await current.json()) as { etag: string }).etag
  const other = await fetch(`${system.gateway.adminUrl}/admin/v1/regions/EU1/tenants/acme/groups/${groupId}/access`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${adminCredential}`, 'content-type': 'application/json', 'if-match': etag },
    body: JSON.stringify({ roles: ['User'] }),
  })
  t.equal(other.status, 200)
  await page.getByLabel(/Scope values/).fill('team-c')
  await page.getByRole('button', { name: 'Save roles and scope' }).click()
  await page.getByText('Someone else changed this group since you opened it').waitFor()
  t.match((await (await system.admin('GET', `/admin/v1/regions/EU1/tenants/acme/groups/${groupId}`)).json()).access, { roles: ['User'] }, 'nothing was overwritten')
  await page.getByRole('button', { name: 'Reload group' }).click()
  await page.getByText('User', { exact: true }).first().waitFor()

  await nav('Groups').click()
  await page.getByRole('cell', { name: '1', exact: true }).waitFor()
  await checkPage(t, 'groups')

  await nav('Users').click()
  await page.getByRole('link', { name: 'kim@example.com' }).click()
  await page.getByText('May sign in').waitFor()
  await page.getByRole('definition').filter({ hasText: /^User$/ }).waitFor()
  t.pass('the access decision shows the roles now set on the group')
  t.equal(await page.getByRole('definition').filter({ hasText: /^the whole team$/ }).count(), 1, 'for the whole team (that change set no scope)')
})

t.test('Activity lists the event log newest first and follows new events live', async (t) => {
  await nav('Activity').click()
  await page.getByRole('heading', { name: 'Activity' }).waitFor()
  const rows = page.locator('tbody tr')
  await rows.filter({ hasText: userId }).filter({ hasText: 'user.created' }).waitFor()
  t.pass('the new user appears')
  const types = await page.locator('tbody tr td:nth-child(2)').allTextContents()
  t.equal(types[0], 'group.access_changed', 'newest first: the last change is on top')
  t.equal(await rows.first().locator('td:nth-child(4)').textContent(), `admin: ${adminCredentialId}`, 'made with the team admin’s credential')
  await rows.filter({ hasText: 'token.created' }).filter({ hasText: `admin: ${adminCredentialId}` }).waitFor()
  t.pass('so was the token')
  for (const type of ['token.created', 'user.created', 'group.created', 'membership.added']) t.ok(types.includes(type), type)
  t.ok(types.indexOf('user.created') > types.indexOf('group.created'), 'the user was created before the group')
  await checkPage(t, 'activity')

  // The feed resumes after the newest event shown, so a change made before the long poll starts still arrives.
  await page.getByLabel('Follow live').check()
  const created = await scim('POST', '/scim/v2/Users', token, { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'lee@example.com' })
  t.equal(created.status, 201)
  await rows.first().filter({ hasText: JSON.parse(created.body).id as string }).filter({ hasText: 'user.created' }).waitFor()
  t.pass('a user created meanwhile appears on top without a reload')
  await page.getByLabel('Follow live').uncheck()
})

t.test('other tenants and regions, CSRF and missing sessions are refused', async (t) => {
  const status = (path: string, init: RequestInit = {}) => page.evaluate(([p, i]) => fetch(p, i).then((r) => r.status), [path, init] as const)
  t.equal(await status('/admin/v1/regions/US1/tenants/acme/users'), 403, 'acme in another region')
  t.equal(await status('/admin/v1/regions/EU1/tenants/other/users'), 403, 'another tenant in the same region')
  t.equal(await status('/admin/v1/tokens?tenant=other&region=EU1'), 403)
  t.equal(await status('/admin/v1/tokens', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tenantId: 'acme', region: 'EU1' }) }), 403, 'a write without the CSRF token')
  const direct = await fetch(`${system.gateway.adminUrl}/admin/v1/regions/US1/tenants/acme/users`, { headers: { authorization: `Bearer ${adminCredential}` } })
  t.equal(direct.status, 403, 'the API refuses the same with the credential itself')

  const stranger = await browser.newContext()
  t.teardown(() => stranger.close())
  const strangerPage = await stranger.newPage()
  await strangerPage.goto(`${consoleUrl}users`)
  await strangerPage.getByLabel('Admin credential').waitFor()
  t.equal(await strangerPage.evaluate(() => fetch('/admin/v1/regions/EU1/tenants/acme/users').then((r) => r.status)), 401, 'no session, no data')
})

t.test('revoking the token in the console refuses the next SCIM request', async (t) => {
  await nav('Tokens').click()
  await page.getByRole('button', { name: 'Revoke Okta production' }).click()
  const dialog = page.getByRole('dialog', { name: 'Revoke this token?' })
  await dialog.waitFor()
  t.same(await seriousAxeViolations(page), [], 'the confirmation passes axe too')
  await dialog.getByRole('button', { name: 'Revoke token' }).click()
  await page.getByText('Revoked Okta production.').waitFor()
  await page.getByRole('cell', { name: 'revoked', exact: true }).waitFor()
  let refused = 0
  for (let i = 0; i < 20 && refused !== 401; i++) {
    refused = (await scim('GET', '/scim/v2/Users', token)).status
    if (refused !== 401) await sleep(100)
  }
  t.equal(refused, 401, 'the identity provider is refused')
})

t.test('signing out ends the session; the page never broke its CSP or loaded anything from elsewhere', async (t) => {
  await page.getByRole('button', { name: 'Sign out' }).click()
  await page.getByLabel('Admin credential').waitFor()
  t.equal(await page.evaluate(() => fetch('/admin/v1/tokens?tenant=acme&region=EU1').then((r) => r.status)), 401)
  t.same(await page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations), [])
  t.same(externalRequests, [])
})

t.test('the operator picks any region and tenant', async (t) => {
  const operator = await browser.newContext({ viewport: { width: 1280, height: 860 } })
  t.teardown(() => operator.close())
  const operatorPage = await operator.newPage()
  operatorPage.setDefaultTimeout(15_000)
  await operatorPage.goto(consoleUrl)
  await operatorPage.getByLabel('Admin credential').fill(ADMIN_TOKEN)
  await operatorPage.getByRole('button', { name: 'Sign in' }).click()
  await operatorPage.getByText('Operator', { exact: true }).waitFor()
  await operatorPage.getByLabel('Region').selectOption('US1')
  await operatorPage.getByLabel('Tenant', { exact: true }).fill('acme')
  await operatorPage.getByRole('button', { name: 'Open tenant' }).click()
  await operatorPage.getByLabel('Okta tenant URL', { exact: true }).waitFor()
  t.equal(await operatorPage.getByLabel('Okta tenant URL', { exact: true }).inputValue(), 'https://ng-api-http.coralogix.us/scim')
  t.same(await seriousAxeViolations(operatorPage), [], 'the tenant picker passes axe')
  t.same(await controlsNotReachedByKeyboard(operatorPage), [], 'and the keyboard walk')
  await operatorPage.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Users', exact: true }).click()
  await operatorPage.getByText('No users match.').waitFor()
  t.match(operatorPage.url(), /region=US1&tenant=acme/, 'acme in US1 has its own, empty directory')
})
