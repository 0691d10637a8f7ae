// filter-to-sql against real PostgreSQL, through GET /Users?filter=… and
// GET /Groups?filter=… on a seeded tenant, with a look-alike second tenant.
import pg from 'pg'
import t from 'tap'
import { parseListRequest } from '../../../region-node/scim/list-request.ts'
import { USER_RESOURCE_TYPE } from '../../../region-node/scim/schema/index.ts'
import { DEVELOPMENT_CURSOR_KEYS } from '../../../config/cursor-keys.ts'
import { createCursorCodec } from '../../../region-node/scim/cursor.ts'
import { planList } from '../../../region-node/storage/list-plan.ts'
import { USERS_TABLE } from '../../../region-node/storage/resource-tables.ts'
import { startTestNode, type TestNode } from '../../helpers/region-node.ts'

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User'
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group'
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'
const ACCESS = 'urn:scimgate:params:scim:schemas:extension:access:2.0:Group'

const U = {
  jsmith: 'jsmith@example.com',
  bjensen: 'bjensen@example.com',
  alee: 'ALee@Example.COM',
  mgarcia: 'mgarcia@example.org',
  tkim: 'tkim@example.org',
  obrien: "o'brien@example.com",
  percent: 'percent%user@example.com',
  under: 'under_score@example.com',
  backslash: 'back\\slash@example.com',
  inject: "x' OR 1=1 --",
  nomail: 'nomail@example.com',
  zed: 'zed@example.net',
} as const
const ALL_USERS = Object.values(U)
const except = (...names: string[]): string[] => ALL_USERS.filter((n) => !names.includes(n))

const work = (value: string, primary?: boolean) => ({ type: 'work', value, ...(primary === undefined ? {} : { primary }) })
const home = (value: string, primary?: boolean) => ({ type: 'home', value, ...(primary === undefined ? {} : { primary }) })

/** Users in creation order; `manager` names a user created before. */
const USERS: readonly { userName: string; body: Record<string, unknown>; manager?: string }[] = [
  { userName: U.jsmith, body: { name: { givenName: 'John', familyName: 'Smith' }, emails: [work(U.jsmith, true)], phoneNumbers: [{ type: 'mobile', value: '+1-555-0200' }], active: true, title: 'Manager', userType: 'Employee', externalId: 'bjensen-ext', [ENTERPRISE]: { employeeNumber: '1002', department: 'Sales' } } },
  { userName: U.bjensen, manager: U.jsmith, body: { name: { givenName: 'Barbara', familyName: 'Jensen' }, emails: [work('bjensen@example.com', true), home('babs@home.org')], phoneNumbers: [{ type: 'work', value: '+1-555-0100' }], addresses: [{ type: 'work', locality: 'Portland', country: 'US', primary: true }], active: true, title: 'Tour Guide', userType: 'Employee', externalId: 'BJensen-EXT', [ENTERPRISE]: { employeeNumber: '701984', department: 'Tours' } } },
  { userName: U.alee, manager: U.jsmith, body: { name: { givenName: 'Alice', familyName: 'Lee' }, emails: [work('alee@example.com', true), home('alice@home.org')], active: false, title: 'Engineer', userType: 'Contractor', externalId: 'ALEE', [ENTERPRISE]: { employeeNumber: '1003', department: 'R&D' } } },
  { userName: U.mgarcia, manager: U.alee, body: { name: { givenName: 'Maria', familyName: 'Garcia' }, emails: [work(U.mgarcia)], addresses: [{ type: 'home', locality: 'Madrid', country: 'ES' }], title: 'Engineer', userType: 'Employee', externalId: 'mg-4', [ENTERPRISE]: { employeeNumber: '1004', department: 'R&D' } } },
  { userName: U.tkim, body: { name: { givenName: 'Tae', familyName: 'Kim' }, emails: [home('tkim@home.org', true)], userType: 'Intern', [ENTERPRISE]: { employeeNumber: '1005' } } },
  { userName: U.obrien, body: { name: { givenName: 'Sean', familyName: "O'Brien" }, emails: [work(U.obrien)], externalId: '0042' } },
  { userName: U.percent, body: { name: { givenName: 'Pat', familyName: 'Percent' }, emails: [work(U.percent)], externalId: '42' } },
  { userName: U.under, body: { name: { givenName: 'Uma', familyName: 'Smithson' }, emails: [work(U.under)] } },
  { userName: U.backslash, body: { name: { givenName: 'Bo', familyName: 'Slash' }, emails: [work(U.backslash)] } },
  { userName: U.inject, body: {} },
  // Entra ID's string boolean
  { userName: U.nomail, body: { active: 'False' } },
  { userName: U.zed, body: { name: { givenName: 'Zed', familyName: 'Zulu' }, emails: [work('Zed@Example.NET', true), { type: 'other', value: 'zed@x.io' }], phoneNumbers: [{ type: 'work', value: '+44 20 7946 0000' }], addresses: [{ type: 'work', locality: 'London', country: 'GB' }, { type: 'home', locality: 'portland', country: 'US' }], title: 'Senior Engineer', userType: 'Contractor', externalId: 'Zed-12', [ENTERPRISE]: { employeeNumber: '1012', department: 'Sales' } } },
]

const G = { admins: 'Admins', engineering: 'Engineering', staff: 'All Staff', empty: 'Empty' } as const
const ALL_GROUPS = Object.values(G)

interface Seeded {
  readonly userIds: Map<string, string>
  readonly groupIds: Map<string, string>
  readonly created: Map<string, string>
  readonly lastModified: Map<string, string>
  /** The latest lastModified before the last two PATCHes (to jsmith and tkim). */
  readonly mark: string
}

function ok(response: { statusCode: number; body: string; json(): unknown }, status: number): Record<string, unknown> {
  if (response.statusCode !== status) throw new Error(`expected ${status}, got ${response.statusCode}: ${response.body}`)
  return response.statusCode === 204 ? {} : (response.json() as Record<string, unknown>)
}

async function seedTenant(node: TestNode, tenant: string): Promise<Seeded> {
  // The roles the groups below grant, in the tenant's role catalog (groups may grant only catalog roles)
  const catalog = await node.app.inject({
    method: 'PUT',
    url: '/admin/v1/roles',
    headers: { ...(await node.identity(tenant, ['admin'])), 'content-type': 'application/json' },
    payload: { roles: ['admin', 'developer', 'Viewer', 'auditor'] },
  })
  ok(catalog, 200)
  const userIds = new Map<string, string>()
  for (const user of USERS) {
    const manager = user.manager === undefined ? {} : { [ENTERPRISE]: { ...(user.body[ENTERPRISE] as object), manager: { value: userIds.get(user.manager) } } }
    const created = ok(await node.scim(tenant, 'POST', 'Users', { schemas: [USER, ENTERPRISE], userName: user.userName, ...user.body, ...manager }), 201)
    userIds.set(user.userName, created.id as string)
  }
  const ids = (...names: string[]) => names.map((n) => ({ value: userIds.get(n) }))
  const groupIds = new Map<string, string>()
  // Roles and scope are set by a token created with the groups:access:write scope.
  const mayWriteAccess = await node.identity(tenant, ['scim', 'groups:access:write'])
  const createGroup = async (displayName: string, extra: Record<string, unknown>): Promise<void> => {
    const created = ok(await node.scim(tenant, 'POST', 'Groups', { schemas: [GROUP, ACCESS], displayName, ...extra }, mayWriteAccess), 201)
    groupIds.set(displayName, created.id as string)
  }
  await createGroup(G.admins, { members: ids(U.jsmith, U.bjensen), [ACCESS]: { roles: [{ value: 'admin', primary: true }], scope: { type: 'Exact', values: ['eu', 'us'] } } })
  await createGroup(G.engineering, { externalId: 'ENG', members: ids(U.alee, U.mgarcia, U.zed), [ACCESS]: { roles: [{ value: 'developer' }, { value: 'Viewer' }] } })
  await createGroup(G.staff, { members: [{ value: groupIds.get(G.admins), type: 'Group' }, { value: groupIds.get(G.engineering), type: 'Group' }, ...ids(U.tkim)] })
  await createGroup(G.empty, {})
  ok(await node.scim(tenant, 'PATCH', `Groups/${groupIds.get(G.empty)}`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'Add', path: `${ACCESS}:roles`, value: [{ value: 'auditor' }] }] }, mayWriteAccess), 204)

  const before = await listAll(node, tenant, 'Users')
  const mark = before.map((u) => u.meta.lastModified).sort().at(-1) ?? ''
  // a later millisecond than the mark, whatever the clock resolution
  await new Promise((resolve) => setTimeout(resolve, 5))
  for (const name of [U.jsmith, U.tkim]) {
    ok(await node.scim(tenant, 'PATCH', `Users/${userIds.get(name)}`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'nickName', value: 'patched' }] }), 200)
  }
  const after = await listAll(node, tenant, 'Users')
  return {
    userIds,
    groupIds,
    created: new Map(after.map((u) => [u.userName, u.meta.created])),
    lastModified: new Map(after.map((u) => [u.userName, u.meta.lastModified])),
    mark,
  }
}

interface ListedUser {
  id: string
  userName: string
  displayName?: string
  meta: { created: string; lastModified: string }
}

async function listAll(node: TestNode, tenant: string, endpoint: 'Users' | 'Groups', filter?: string): Promise<ListedUser[]> {
  const query = filter === undefined ? '' : `&filter=${encodeURIComponent(filter)}`
  const body = ok(await node.scim(tenant, 'GET', `${endpoint}?count=1000${query}`), 200)
  if (body.totalResults !== (body.Resources as unknown[]).length) throw new Error(`totalResults ${String(body.totalResults)} for ${(body.Resources as unknown[]).length} resources`)
  return body.Resources as ListedUser[]
}

const upper = (id: string | undefined): string => (id ?? '').toUpperCase()

/** [filter, expected userNames]: userName folding, every operator, logic, caseExact, multi-valued, extensions, meta, ids, literals. */
function userCases(s: Seeded): [string, string[]][] {
  const id = (name: string): string => s.userIds.get(name) ?? ''
  const group = (name: string): string => s.groupIds.get(name) ?? ''
  const createdFrom = s.created.get(U.obrien) ?? ''
  const lastOfTkim = s.lastModified.get(U.tkim) ?? ''
  return [
    // userName: case-insensitive (RFC 7643 §4.1.1), every operator
    ['userName eq "bjensen@example.com"', [U.bjensen]],
    ['userName eq "BJENSEN@EXAMPLE.COM"', [U.bjensen]],
    ['userName eq "alee@example.com"', [U.alee]],
    ['USERNAME Eq "tkim@example.org"', [U.tkim]],
    ['userName ne "bjensen@example.com"', except(U.bjensen)],
    ['userName co "SMITH"', [U.jsmith]],
    ['userName sw "J"', [U.jsmith]],
    ['userName ew ".ORG"', [U.mgarcia, U.tkim]],
    ['userName gt "x"', [U.inject, U.zed]],
    ['userName ge "zed@example.net"', [U.zed]],
    ['userName lt "b"', [U.alee]],
    ['userName le "ALEE@example.com"', [U.alee]],
    ['userName pr', ALL_USERS],
    ['userName eq "nobody@example.com"', []],
    // presence and null
    ['title pr', [U.jsmith, U.bjensen, U.alee, U.mgarcia, U.zed]],
    ['not (title pr)', except(U.jsmith, U.bjensen, U.alee, U.mgarcia, U.zed)],
    ['title eq null', except(U.jsmith, U.bjensen, U.alee, U.mgarcia, U.zed)],
    ['title ne null', [U.jsmith, U.bjensen, U.alee, U.mgarcia, U.zed]],
    ['emails eq null', [U.inject, U.nomail]],
    ['name pr', except(U.inject, U.nomail)],
    // logic: and binds tighter than or; not needs parentheses; absent attributes under not
    ['title eq "Engineer" and active eq true', [U.mgarcia]],
    ['title eq "Engineer" or userType eq "Intern"', [U.alee, U.mgarcia, U.tkim]],
    ['userType eq "Employee" or userType eq "Contractor" and active eq false', [U.jsmith, U.bjensen, U.mgarcia, U.alee]],
    ['(userType eq "Employee" or userType eq "Contractor") and active eq true', [U.jsmith, U.bjensen, U.mgarcia, U.zed]],
    ['not (userType eq "Employee") and title pr', [U.alee, U.zed]],
    ['not (active eq true or title pr)', [U.nomail]],
    ['not (title eq "Engineer")', except(U.alee, U.mgarcia)],
    ['title ne "Engineer"', except(U.alee, U.mgarcia)],
    ['NOT (userName sw "b") AND userName ew ".com"', [U.jsmith, U.alee, U.obrien, U.percent, U.under, U.nomail]],
    ['not (not (userType eq "Intern"))', [U.tkim]],
    // externalId is caseExact (docs/identity-providers.md#r4)
    ['externalId eq "BJensen-EXT"', [U.bjensen]],
    ['externalId eq "bjensen-ext"', [U.jsmith]],
    ['externalId eq "BJENSEN-EXT"', []],
    ['externalId co "jensen"', [U.jsmith]],
    ['externalId sw "B"', [U.bjensen]],
    ['externalId pr', [U.jsmith, U.bjensen, U.alee, U.mgarcia, U.obrien, U.percent, U.zed]],
    // complex sub-attributes; attribute names in any case
    ['name.familyName eq "smith"', [U.jsmith]],
    ['name.familyName sw "Smith"', [U.jsmith, U.under]],
    ['name.FAMILYNAME eq "Lee"', [U.alee]],
    ['name.givenName co "a" and name.familyName ew "a"', [U.mgarcia]],
    ['urn:ietf:params:scim:schemas:core:2.0:User:name.familyName eq "Kim"', [U.tkim]],
    ['urn:ietf:params:scim:schemas:core:2.0:User:userName eq "TKIM@example.org"', [U.tkim]],
    // multi-valued: any value matches; emails.value is case-insensitive
    ['emails.value eq "ZED@example.net"', [U.zed]],
    ['emails co "HOME.ORG"', [U.bjensen, U.alee, U.tkim]],
    ['emails pr', except(U.inject, U.nomail)],
    ['emails.Value ew "@x.io"', [U.zed]],
    ['emails[type eq "work" and value co "@example.org"]', [U.mgarcia]],
    ['emails[type eq "home" and value co "@example.com"]', []],
    ['emails.type eq "home" and emails.value co "@example.com"', [U.bjensen, U.alee]],
    ['emails[type eq "work"].value eq "BJensen@Example.com"', [U.bjensen]],
    ['emails[type eq "work"].value eq "tkim@home.org"', []],
    ['emails[primary eq true].value ew "example.com"', [U.jsmith, U.bjensen, U.alee]],
    ['emails[not (type eq "work")]', [U.bjensen, U.alee, U.tkim, U.zed]],
    ['emails.type ne "work"', [U.tkim, U.inject, U.nomail]],
    ['phoneNumbers[type eq "mobile"]', [U.jsmith]],
    ['phoneNumbers.value sw "+1"', [U.jsmith, U.bjensen]],
    ['addresses.locality eq "PORTLAND"', [U.bjensen, U.zed]],
    ['addresses[type eq "work" and locality eq "portland"]', [U.bjensen]],
    ['addresses[country eq "ES"]', [U.mgarcia]],
    // enterprise extension, URN-qualified (URN in any case)
    [`${ENTERPRISE}:department eq "r&d"`, [U.alee, U.mgarcia]],
    [`${ENTERPRISE}:employeeNumber eq "701984"`, [U.bjensen]],
    [`${ENTERPRISE.toUpperCase()}:department eq "Sales"`, [U.jsmith, U.zed]],
    [`${ENTERPRISE}:manager.value eq "${id(U.jsmith)}"`, [U.bjensen, U.alee]],
    [`${ENTERPRISE}:manager pr`, [U.bjensen, U.alee, U.mgarcia]],
    [`${ENTERPRISE}:department pr`, [U.jsmith, U.bjensen, U.alee, U.mgarcia, U.zed]],
    [`schemas eq "${ENTERPRISE}"`, [U.jsmith, U.bjensen, U.alee, U.mgarcia, U.tkim, U.zed]],
    [`schemas eq "${USER}"`, ALL_USERS],
    // meta: served milliseconds compare exactly (the database keeps microseconds)
    [`meta.lastModified gt "${s.mark}"`, [U.jsmith, U.tkim]],
    [`meta.lastModified le "${s.mark}"`, except(U.jsmith, U.tkim)],
    [`meta.lastModified eq "${lastOfTkim}"`, ALL_USERS.filter((n) => s.lastModified.get(n) === lastOfTkim)],
    [`meta.created ge "${createdFrom}"`, ALL_USERS.filter((n) => (s.created.get(n) ?? '') >= createdFrom)],
    [`meta.created lt "${createdFrom}"`, ALL_USERS.filter((n) => (s.created.get(n) ?? '') < createdFrom)],
    ['meta.created gt "2000-01-01"', ALL_USERS],
    ['meta.created lt "2000-01-01T00:00:00+02:00"', []],
    ['meta.lastModified pr', ALL_USERS],
    // id: a uuid, in any letter case; anything else matches nothing
    [`id eq "${id(U.bjensen)}"`, [U.bjensen]],
    [`id eq "${upper(id(U.bjensen))}"`, [U.bjensen]],
    ['id eq "not-a-uuid"', []],
    [`id ne "${id(U.bjensen)}"`, except(U.bjensen)],
    // groups: derived from memberships (direct only)
    [`groups.value eq "${group(G.admins)}"`, [U.jsmith, U.bjensen]],
    [`groups[value eq "${upper(group(G.engineering))}"]`, [U.alee, U.mgarcia, U.zed]],
    [`groups eq "${group(G.staff)}"`, [U.tkim]],
    ['groups pr', [U.jsmith, U.bjensen, U.alee, U.mgarcia, U.tkim, U.zed]],
    ['not (groups pr)', [U.obrien, U.percent, U.under, U.backslash, U.inject, U.nomail]],
    // booleans, with Entra ID's string form
    ['active eq false', [U.alee, U.nomail]],
    ['active eq "False"', [U.alee, U.nomail]],
    ['active ne true', [U.alee, U.nomail]],
    ['active eq "TRUE" and userType eq "Intern"', [U.tkim]],
    ['emails[primary eq "true" and type eq "home"]', [U.tkim]],
    // Entra ID's unquoted literals
    ['userName eq tkim@example.org', [U.tkim]],
    ['title eq Manager', [U.jsmith]],
    ['externalId eq 0042', [U.obrien]],
    ['externalId eq 42', [U.percent]],
    // literals that look like SQL or LIKE syntax match only literally
    [`userName eq "x' OR 1=1 --"`, [U.inject]],
    [`userName eq "x\\" OR 1=1 --"`, []],
    [`userName co "' OR '1'='1"`, []],
    [`userName sw "x'"`, [U.inject]],
    ['userName co "%"', [U.percent]],
    ['userName co "_"', [U.under]],
    ['userName co "\\\\"', [U.backslash]],
    ['userName sw "%"', []],
    ['userName ew "_"', []],
    ['userName co "r%s"', []],
    ['userName co "r_s"', [U.under]],
    ['userName sw "back\\\\"', [U.backslash]],
    [`userName eq "back\\\\slash@example.com"`, [U.backslash]],
    ['emails.value co "%u"', [U.percent]],
    [`name.familyName eq "O'Brien"`, [U.obrien]],
    ['userName co "$1"', []],
  ]
}

/** [filter, expected displayNames]: members as rows, the access extension. */
function groupCases(s: Seeded): [string, string[]][] {
  const id = (name: string): string => s.userIds.get(name) ?? ''
  const group = (name: string): string => s.groupIds.get(name) ?? ''
  return [
    ['displayName pr', ALL_GROUPS],
    ['displayName eq "admins"', [G.admins]],
    ['displayName co "STAFF"', [G.staff]],
    ['displayName sw "E"', [G.engineering, G.empty]],
    ['externalId eq "ENG"', [G.engineering]],
    ['externalId eq "eng"', []],
    [`members.value eq "${id(U.jsmith)}"`, [G.admins]],
    [`members.value eq "${upper(id(U.jsmith))}"`, [G.admins]],
    [`members[value eq "${id(U.tkim)}"]`, [G.staff]],
    [`members[value eq "${group(G.admins)}"]`, [G.staff]],
    [`members eq "${id(U.zed)}"`, [G.engineering]],
    ['members.value eq "not-a-uuid"', []],
    ['members[type eq "Group"]', [G.staff]],
    [`members[type eq "user" and value eq "${id(U.alee)}"]`, [G.engineering]],
    ['members pr', [G.admins, G.engineering, G.staff]],
    ['not (members pr)', [G.empty]],
    [`members.value ne "${id(U.jsmith)}"`, [G.engineering, G.staff, G.empty]],
    [`${ACCESS}:roles.value eq "admin"`, [G.admins]],
    [`${ACCESS}:roles.value eq "viewer"`, [G.engineering]],
    [`${ACCESS}:roles[value eq "developer"]`, [G.engineering]],
    [`${ACCESS}:roles[primary eq true]`, [G.admins]],
    [`${ACCESS}:roles pr`, [G.admins, G.engineering, G.empty]],
    [`${ACCESS}:roles co "dit"`, [G.empty]],
    [`${ACCESS}:scope.values eq "us"`, [G.admins]],
    [`${ACCESS}:scope.type eq "exact"`, [G.admins]],
    [`${ACCESS}:scope pr`, [G.admins]],
    [`schemas eq "${ACCESS}"`, [G.admins, G.engineering, G.empty]],
  ]
}

/** [endpoint, filter]: each a 400 invalidFilter with a SCIM error body, never a 500. */
const ERROR_CASES: ['Users' | 'Groups', string][] = [
  ['Users', 'nosuch eq "x"'],
  ['Users', 'name.nosuch eq "x"'],
  ['Users', `${ENTERPRISE}:nosuch eq "x"`],
  ['Users', 'urn:example:unknown:2.0:User:title eq "x"'],
  ['Users', `${ACCESS}:roles.value eq "admin"`],
  ['Users', 'active gt true'],
  ['Users', 'active eq "yes"'],
  ['Users', 'active co "t"'],
  ['Users', 'active eq 1'],
  ['Users', 'meta.created gt "yesterday"'],
  ['Users', 'meta.created gt "2"'],
  ['Users', 'meta.created gt 2024'],
  ['Users', 'meta.lastModified co "2024"'],
  ['Users', 'meta.created eq true'],
  ['Users', 'meta.version eq "W/\\"1\\""'],
  ['Users', 'userName gt true'],
  ['Users', 'userName eq false'],
  ['Users', 'title gt null'],
  ['Users', 'name eq "x"'],
  ['Users', 'name[givenName eq "x"]'],
  ['Users', 'emails[nosuch eq "x"]'],
  ['Users', 'emails[primary co "t"]'],
  ['Users', 'groups.display eq "Admins"'],
  ['Users', 'password eq "secret"'],
  ['Users', 'password pr'],
  ['Users', 'userName eq'],
  ['Users', 'userName xx "a"'],
  ['Users', '(userName eq "a"'],
  ['Users', 'emails[type eq "work"'],
  ['Groups', 'members.display eq "x"'],
  ['Groups', 'members.$ref eq "x"'],
  ['Groups', 'roles.value eq "admin"'],
  ['Groups', 'userName eq "x"'],
  ['Groups', 'displayName eq true and members pr'],
]

const TENANTS = ['acme', 'globex'] as const

t.test('filters on a seeded tenant, next to a look-alike tenant', async (t) => {
  const node = await startTestNode(t)
  // globex holds the same userNames and group names with ids of its own: any leak shows up as a duplicate or a foreign id
  const seeded = { acme: await seedTenant(node, 'acme'), globex: await seedTenant(node, 'globex') }

  for (const tenant of TENANTS) {
    const own = seeded[tenant]
    const ownIds = new Set([...own.userIds.values(), ...own.groupIds.values()])
    const table: ['Users' | 'Groups', string, string[]][] = [
      ...userCases(own).map(([filter, names]): ['Users', string, string[]] => ['Users', filter, names]),
      ...groupCases(own).map(([filter, names]): ['Groups', string, string[]] => ['Groups', filter, names]),
    ]
    t.test(`${tenant}: filter table`, async (t) => {
      for (const [endpoint, filter, expected] of table) {
        const response = await node.scim(tenant, 'GET', `${endpoint}?count=1000&filter=${encodeURIComponent(filter)}`)
        if (response.statusCode !== 200) {
          t.fail(`${endpoint} ${filter}: ${response.statusCode} ${response.body}`)
          continue
        }
        const body = response.json() as { totalResults: number; Resources: ListedUser[] }
        const names = body.Resources.map((r) => (endpoint === 'Users' ? r.userName : (r.displayName ?? '')))
        t.same([...names].sort(), [...expected].sort(), `${endpoint} ${filter}`)
        t.equal(body.totalResults, expected.length, `${endpoint} ${filter}: totalResults`)
        const foreign = body.Resources.filter((r) => !ownIds.has(r.id))
        if (foreign.length > 0) t.fail(`${endpoint} ${filter}: rows of another tenant ${JSON.stringify(foreign.map((r) => r.id))}`)
      }
    })
  }

  t.test('invalid filters: 400 invalidFilter with a SCIM error body', async (t) => {
    for (const [endpoint, filter] of ERROR_CASES) {
      const response = await node.scim('acme', 'GET', `${endpoint}?filter=${encodeURIComponent(filter)}`)
      t.equal(response.statusCode, 400, `${endpoint} ${filter}: ${response.body}`)
      t.match(response.headers['content-type'], /application\/scim\+json/)
      t.match(response.json(), { schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '400', scimType: 'invalidFilter', detail: String }, `${endpoint} ${filter}`)
    }
  })

  t.test('a tenant never sees the other one, whatever the filter', async (t) => {
    const globexUser = seeded.globex.userIds.get(U.bjensen) ?? ''
    const globexGroup = seeded.globex.groupIds.get(G.admins) ?? ''
    for (const [endpoint, filter] of [
      ['Users', `id eq "${globexUser}"`],
      ['Users', `groups.value eq "${globexGroup}"`],
      ['Groups', `id eq "${globexGroup}"`],
      ['Groups', `members.value eq "${globexUser}"`],
      ['Users', 'userName eq "x" or userName pr'],
    ] as const) {
      const listed = await listAll(node, 'acme', endpoint, filter)
      t.notOk(listed.some((r) => r.id === globexUser || r.id === globexGroup), `${endpoint} ${filter}`)
    }
  })
})

t.test('userName eq and externalId eq use their indexes (EXPLAIN on 5,000 users)', async (t) => {
  const node = await startTestNode(t)
  const tenant = 'bulk'
  const client = new pg.Client({ connectionString: node.config.database.url })
  await client.connect()
  t.teardown(() => client.end())
  // as superuser (row-level security does not apply), in one statement
  await client.query(
    `INSERT INTO users (tenant_id, id, user_name, external_id, attributes)
     SELECT $1, gen_random_uuid(), 'user' || i || '@example.com', 'EXT-' || i,
            jsonb_build_object('userName', 'user' || i || '@example.com', 'externalId', 'EXT-' || i)
     FROM generate_series(1, 5000) AS i`,
    [tenant],
  )
  await client.query('ANALYZE users')
  // Under row-level security only LEAKPROOF functions may run before the policy; lower() is not, so
  // case-insensitive lookups compare a stored lower-case column (user_name_lower) instead of lower(user_name).

  const limits = node.config.limits
  const appRole = node.config.database.rowSecurityRole ?? 'scimgate_app'
  for (const [filter, where, index] of [
    ['userName eq "USER42@example.com"', /^r\.user_name_lower = lower\(\$\d+\)$/, 'users_tenant_user_name_key'],
    ['externalId eq "EXT-42"', /^r\.external_id = \$\d+$/, 'users_tenant_external_id_idx'],
  ] as const) {
    const plan = planList(USER_RESOURCE_TYPE, USERS_TABLE, parseListRequest({ filter }, limits), { codec: createCursorCodec(DEVELOPMENT_CURSOR_KEYS, limits.cursorTtlSeconds), tenantId: tenant }, Date.now())
    t.match(plan.countWhere, where, `${filter} compiles to an indexable condition`)
    const values = [tenant, ...plan.query.values, plan.query.limit, plan.query.offset]
    // the store's list and count statements
    const statements = {
      list: [`SELECT r.id FROM users r WHERE r.tenant_id = $1 AND ${plan.query.where} ORDER BY ${plan.query.orderBy} LIMIT $${values.length - 1} OFFSET $${values.length}`, values],
      count: [`SELECT count(*) FROM users r WHERE r.tenant_id = $1 AND ${plan.countWhere}`, [tenant, ...plan.countValues]],
    } as const
    for (const role of ['superuser', appRole]) {
      await client.query('BEGIN')
      try {
        if (role === appRole) {
          // as the node runs: the unprivileged role, under row-level security
          await client.query(`SET LOCAL ROLE ${appRole}`)
          await client.query(`SELECT set_config('scimgate.tenant_id', $1, true)`, [tenant])
        }
        for (const [name, [sql, bound]] of Object.entries(statements)) {
          const found = await client.query(sql, [...bound])
          t.equal(found.rowCount, 1, `${filter} as ${role}: ${name} finds the one user`)
          const explained = await client.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (FORMAT JSON) ${sql}`, [...bound])
          const scans = indexScans(explained.rows[0]?.['QUERY PLAN'])
          t.ok(scans.includes(index), `${filter} as ${role}: ${name} scans ${index} (plan: ${JSON.stringify(scans)})`)
        }
      } finally {
        await client.query('ROLLBACK')
      }
    }
  }
})

/** Index names of every index scan node in an EXPLAIN (FORMAT JSON) plan. */
function indexScans(plan: unknown): string[] {
  if (Array.isArray(plan)) return plan.flatMap(indexScans)
  if (typeof plan !== 'object' || plan === null) return []
  const node = plan as Record<string, unknown>
  const own = typeof node['Index Name'] === 'string' && /Index/.test(String(node['Node Type'])) ? [node['Index Name']] : []
  return [...own, ...indexScans(node.Plan), ...indexScans(node.Plans)]
}
