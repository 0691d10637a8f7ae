// RFC 7644 §3.4.2 list responses over HTTP: sorting, index paging, RFC 9865
// cursor paging, attribute projection and SearchRequest bodies.
import t, { type Test } from 'tap'
import { startTestNode, type TestNode } from '../../helpers/region-node.ts'

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User'
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group'
const SEARCH = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest'
const LIST = 'urn:ietf:params:scim:api:messages:2.0:ListResponse'
const MAX_PAGE_SIZE = 20
const USER_COUNT = 25

interface ListBody {
  schemas: string[]
  totalResults: number
  itemsPerPage: number
  startIndex?: number
  nextCursor?: string
  Resources?: Record<string, unknown>[]
}

/** A seeded user, with the sort keys the server is expected to use. */
interface Seed {
  readonly userName: string
  readonly body: Record<string, unknown>
  readonly familyName: string
  /** The primary email, else the first one, else ''. */
  readonly email: string
}

const FAMILY_NAMES = ['Adams', 'baker', 'Clark', 'davis', 'Evans']

function seedUser(i: number): Seed {
  // userName order differs from creation order, letter case mixed
  const n = String((i * 7) % USER_COUNT).padStart(2, '0')
  const userName = i % 3 === 0 ? `U${n}@Example.com` : `u${n}@example.com`
  const familyName = i % 8 === 7 ? '' : (FAMILY_NAMES[i % 5] ?? '')
  const emails =
    i === 5 ? [] : i % 2 === 0 ? [{ type: 'home', value: `z${n}@home.example` }, { type: 'work', value: `a${n}@work.example`, primary: true }] : [{ type: 'work', value: `m${n}@work.example` }]
  const primary = emails.find((e) => 'primary' in e) ?? emails[0]
  return {
    userName,
    familyName,
    email: primary?.value ?? '',
    body: { schemas: [USER], userName, ...(familyName === '' ? {} : { name: { familyName } }), ...(emails.length === 0 ? {} : { emails }), title: i % 2 === 0 ? 'Even' : 'Odd' },
  }
}

const SEEDS = Array.from({ length: USER_COUNT }, (_, i) => seedUser(i))

async function list(node: TestNode, path: string, tenant = 'acme'): Promise<ListBody> {
  const response = await node.scim(tenant, 'GET', path)
  if (response.statusCode !== 200) throw new Error(`GET ${path}: ${response.statusCode} ${response.body}`)
  return response.json() as ListBody
}

/** One row of a table fails alone instead of ending the subtest. */
async function failOnError(t: Test, name: string, run: () => Promise<unknown>): Promise<void> {
  try {
    await run()
  } catch (error) {
    t.fail(`${name || '(no sortBy)'}: ${(error as Error).message}`)
  }
}

const userNames = (body: ListBody): string[] => (body.Resources ?? []).map((r) => String(r.userName))

/** userNames in the expected order: key (case-folded, C collation), then creation order. */
function expectedOrder(key: (seed: Seed) => string, descending = false): string[] {
  const ranked = SEEDS.map((seed, seq) => ({ seed, seq, key: key(seed).toLowerCase() }))
  ranked.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.seq - b.seq) * (descending ? -1 : 1))
  return ranked.map((r) => r.seed.userName)
}
const CREATION_ORDER = SEEDS.map((s) => s.userName)

/** Follows nextCursor from `cursor=` to the last page; returns every userName in order. */
async function walkCursor(t: Test, node: TestNode, query: string, count: number): Promise<string[]> {
  const seen: string[] = []
  let cursor = ''
  for (let page = 0; page < 50; page++) {
    const body = await list(node, `Users?${query}&count=${count}&cursor=${encodeURIComponent(cursor)}`)
    t.equal(body.startIndex, undefined, 'cursor pages carry no startIndex')
    t.equal(body.itemsPerPage, body.Resources?.length ?? 0)
    seen.push(...userNames(body))
    if (body.nextCursor === undefined) return seen
    t.equal(body.itemsPerPage, count, 'only the last page is short')
    cursor = body.nextCursor
  }
  throw new Error('the cursor walk did not end')
}

t.test('list responses', async (t) => {
  const node = await startTestNode(t, { limits: { maxPageSize: MAX_PAGE_SIZE } })
  t.equal(node.config.limits.maxPageSize, MAX_PAGE_SIZE)
  for (const seed of SEEDS) {
    const created = await node.scim('acme', 'POST', 'Users', seed.body)
    if (created.statusCode !== 201) throw new Error(created.body)
  }
  // another tenant's users never show up in acme's pages
  await node.scim('other', 'POST', 'Users', { schemas: [USER], userName: 'u00@example.com' })

  t.test('sortBy and sortOrder (RFC 7644 §3.4.2.3), one page each', async (t) => {
    const cases: [string, string[]][] = [
      ['', CREATION_ORDER],
      ['sortBy=userName', expectedOrder((s) => s.userName)],
      ['sortBy=USERNAME&sortOrder=Descending', expectedOrder((s) => s.userName, true)],
      ['sortBy=name.familyName', expectedOrder((s) => s.familyName)],
      ['sortBy=name.familyName&sortOrder=descending', expectedOrder((s) => s.familyName, true)],
      ['sortBy=meta.created', CREATION_ORDER],
      ['sortBy=meta.created&sortOrder=descending', [...CREATION_ORDER].reverse()],
      ['sortBy=emails', expectedOrder((s) => s.email)],
      ['sortBy=emails.value&sortOrder=descending', expectedOrder((s) => s.email, true)],
      ['sortOrder=descending', [...CREATION_ORDER].reverse()],
    ]
    for (const [query, expected] of cases) {
      await failOnError(t, query, async () => {
        const first = await list(node, `Users?${query}&count=${MAX_PAGE_SIZE}`)
        const rest = await list(node, `Users?${query}&count=${MAX_PAGE_SIZE}&startIndex=${MAX_PAGE_SIZE + 1}`)
        t.same([...userNames(first), ...userNames(rest)], expected, query || '(no sortBy)')
      })
    }
  })

  t.test('index paging (RFC 7644 §3.4.2.4)', async (t) => {
    // [query, itemsPerPage, startIndex echoed, first userName]
    const cases: [string, number, number, string | undefined][] = [
      ['startIndex=1&count=5', 5, 1, CREATION_ORDER[0]],
      ['startIndex=6&count=5', 5, 6, CREATION_ORDER[5]],
      ['startIndex=24&count=5', 2, 24, CREATION_ORDER[23]],
      ['startIndex=26&count=5', 0, 26, undefined],
      ['count=0', 0, 1, undefined],
      ['startIndex=0&count=3', 3, 1, CREATION_ORDER[0]],
      ['startIndex=-5&count=3', 3, 1, CREATION_ORDER[0]],
      ['count=-3', 0, 1, undefined],
      ['count=99999999', MAX_PAGE_SIZE, 1, CREATION_ORDER[0]],
      ['', MAX_PAGE_SIZE, 1, CREATION_ORDER[0]],
      ['startIndex=3&count=2&filter=title eq "Even"', 2, 3, CREATION_ORDER[4]],
    ]
    for (const [query, items, startIndex, first] of cases) {
      const body = await list(node, `Users?${query.replace(/ /g, '%20')}`)
      const total = query.includes('filter') ? 13 : USER_COUNT
      t.match(body, { schemas: [LIST], totalResults: total, itemsPerPage: items, startIndex }, query)
      t.equal(body.Resources?.length ?? 0, items, `${query}: Resources`)
      t.equal(body.Resources?.[0]?.userName, first, `${query}: first`)
      t.equal(body.nextCursor, undefined, `${query}: no nextCursor in index paging`)
    }
  })

  t.test('walking pages of 7 yields each user exactly once, in a stable order', async (t) => {
    for (const query of ['', 'sortBy=name.familyName', 'sortBy=name.familyName&sortOrder=descending', 'sortBy=meta.created']) {
      await failOnError(t, query, async () => {
        const seen: string[] = []
        for (let startIndex = 1; startIndex <= USER_COUNT; startIndex += 7) {
          const body = await list(node, `Users?${query}&startIndex=${startIndex}&count=7`)
          t.equal(body.totalResults, USER_COUNT)
          seen.push(...userNames(body))
        }
        t.equal(seen.length, USER_COUNT, `${query}: ${USER_COUNT} rows`)
        t.equal(new Set(seen).size, USER_COUNT, `${query}: no repeats`)
      })
    }
  })

  t.test('cursor paging (RFC 9865)', async (t) => {
    const first = await list(node, 'Users?cursor=&count=10')
    t.match(first, { schemas: [LIST], totalResults: USER_COUNT, itemsPerPage: 10, nextCursor: String })
    t.same(userNames(first), CREATION_ORDER.slice(0, 10))

    // [query, expected order]: each walk yields every row once, the last page without nextCursor
    const walks: [string, string[]][] = [
      ['', CREATION_ORDER],
      ['sortOrder=descending', [...CREATION_ORDER].reverse()],
      ['sortBy=userName', expectedOrder((s) => s.userName)],
      ['sortBy=name.familyName', expectedOrder((s) => s.familyName)],
      ['sortBy=name.familyName&sortOrder=descending', expectedOrder((s) => s.familyName, true)],
      ['sortBy=emails', expectedOrder((s) => s.email)],
      ['sortBy=meta.created', CREATION_ORDER],
      ['sortBy=meta.created&sortOrder=descending', [...CREATION_ORDER].reverse()],
      [`filter=${encodeURIComponent('title eq "Odd"')}&sortBy=userName&sortOrder=descending`, expectedOrder((s) => s.userName, true).filter((n) => SEEDS.findIndex((s) => s.userName === n) % 2 === 1)],
    ]
    for (const [query, expected] of walks) {
      for (const count of [7, 5, MAX_PAGE_SIZE]) {
        await failOnError(t, query, async () => t.same(await walkCursor(t, node, query, count), expected, `${query || '(no sortBy)'}, count=${count}`))
      }
    }
    const exact = await list(node, `Users?cursor=&count=${MAX_PAGE_SIZE}&filter=${encodeURIComponent('title eq "Odd"')}`)
    t.equal(exact.itemsPerPage, 12)
    t.equal(exact.nextCursor, undefined, 'a page holding the last row has no nextCursor')
    const empty = await list(node, `Users?cursor=&filter=${encodeURIComponent('userName eq "nobody"')}`)
    t.match(empty, { totalResults: 0, itemsPerPage: 0 })
    t.equal(empty.nextCursor, undefined)
    const none = await list(node, 'Users?cursor=&count=0')
    t.match(none, { totalResults: USER_COUNT, itemsPerPage: 0 })

    const next = first.nextCursor ?? ''
    const errors: [string, number, string][] = [
      [`Users?cursor=${next}&count=10&filter=${encodeURIComponent('title eq "Odd"')}`, 400, 'invalidCursor'],
      [`Users?cursor=${next}&count=10&sortBy=userName`, 400, 'invalidCursor'],
      [`Users?cursor=${next}&count=10&sortOrder=descending`, 400, 'invalidCursor'],
      [`Groups?cursor=${next}&count=10`, 400, 'invalidCursor'],
      ['Users?cursor=not-a-cursor!&count=10', 400, 'invalidCursor'],
      ['Users?cursor=bm9wZQ&count=10', 400, 'invalidCursor'],
      [`Users?cursor=${Buffer.from(JSON.stringify({ v: 1, k: null, s: '1 OR 1=1', q: 'x', t: 0 })).toString('base64url')}`, 400, 'invalidCursor'],
      [`Users?cursor=${'A'.repeat(5000)}`, 400, 'invalidCursor'],
      [`Users?cursor=&count=${MAX_PAGE_SIZE + 1}`, 400, 'invalidCount'],
      ['Users?cursor=&count=-1', 400, 'invalidCount'],
      ['Users?cursor=&startIndex=2', 400, 'invalidValue'],
      ['Users?sortBy=nosuch', 400, 'invalidValue'],
      ['Users?sortBy=password', 400, 'invalidValue'],
      ['Users?sortBy=name', 400, 'invalidValue'],
      ['Users?sortBy=groups', 400, 'invalidValue'],
      ['Groups?sortBy=members.value', 400, 'invalidValue'],
      ['Users?sortOrder=sideways', 400, 'invalidValue'],
    ]
    for (const [path, status, scimType] of errors) {
      const response = await node.scim('acme', 'GET', path)
      t.equal(response.statusCode, status, `${path.slice(0, 60)}: ${response.body}`)
      t.match(response.json(), { schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], scimType }, path.slice(0, 60))
    }
    // a cursor names its tenant's rows only by position: another tenant using it sees its own rows
    const other = await list(node, `Users?cursor=&count=10`, 'other')
    t.same(userNames(other), ['u00@example.com'])
  })

  t.test('attributes and excludedAttributes on lists (RFC 7644 §3.4.2.5)', async (t) => {
    const cases: [string, (resource: Record<string, unknown>) => boolean][] = [
      ['attributes=userName', (r) => Object.keys(r).sort().join() === 'id,schemas,userName'],
      ['attributes=name.familyName', (r) => r.userName === undefined && r.emails === undefined && (r.name === undefined || Object.keys(r.name as object).join() === 'familyName')],
      ['attributes=emails.value,USERNAME', (r) => typeof r.userName === 'string' && ((r.emails as Record<string, unknown>[] | undefined) ?? []).every((e) => Object.keys(e).join() === 'value')],
      ['excludedAttributes=emails,name', (r) => r.emails === undefined && r.name === undefined && typeof r.userName === 'string' && r.meta !== undefined],
      // id is returned always; userName by default, so it can be excluded
      ['excludedAttributes=id,userName', (r) => typeof r.id === 'string' && r.userName === undefined && r.title !== undefined],
    ]
    for (const [query, check] of cases) {
      const body = await list(node, `Users?${query}&count=${MAX_PAGE_SIZE}&sortBy=userName`)
      t.equal(body.itemsPerPage, MAX_PAGE_SIZE, query)
      const wrong = (body.Resources ?? []).filter((r) => !check(r))
      t.same(wrong, [], query)
    }
  })

  t.test('POST /Users/.search and POST /.search (RFC 7644 §3.4.3)', async (t) => {
    for (const name of ['Readers', 'Writers']) {
      const created = await node.scim('acme', 'POST', 'Groups', { schemas: [GROUP], displayName: name })
      t.equal(created.statusCode, 201, created.body)
    }
    const search = async (path: string, body: Record<string, unknown>): Promise<ListBody> => {
      const response = await node.scim('acme', 'POST', path, { schemas: [SEARCH], ...body })
      t.equal(response.statusCode, 200, `${path} ${JSON.stringify(body)}: ${response.body}`)
      return response.json() as ListBody
    }
    const byUserName = expectedOrder((s) => s.userName, true)
    const users = await search('Users/.search', { filter: 'title eq "Even"', sortBy: 'userName', sortOrder: 'descending', startIndex: 2, count: 3, attributes: ['userName'] })
    const even = byUserName.filter((n) => SEEDS.findIndex((s) => s.userName === n) % 2 === 0)
    t.match(users, { schemas: [LIST], totalResults: 13, itemsPerPage: 3, startIndex: 2 })
    t.same(userNames(users), even.slice(1, 4))
    t.same(Object.keys(users.Resources?.[0] ?? {}).sort(), ['id', 'schemas', 'userName'])

    const firstPage = await search('Users/.search', { cursor: '', count: 20, excludedAttributes: ['emails'] })
    t.ok(firstPage.nextCursor !== undefined && (firstPage.Resources ?? []).every((r) => r.emails === undefined))
    const lastPage = await search('Users/.search', { cursor: firstPage.nextCursor, count: 20, excludedAttributes: ['emails'] })
    t.same([...userNames(firstPage), ...userNames(lastPage)], CREATION_ORDER)
    t.equal(lastPage.nextCursor, undefined)

    const groups = await search('Groups/.search', { filter: 'displayName sw "r"' })
    t.same((groups.Resources ?? []).map((g) => g.displayName), ['Readers'])

    // root search: Users, then Groups, as one list
    const everything = await search('/scim/v2/.search', { filter: 'meta.created gt "2000-01-01T00:00:00Z"', startIndex: 1, count: MAX_PAGE_SIZE })
    t.match(everything, { totalResults: USER_COUNT + 2, itemsPerPage: MAX_PAGE_SIZE, startIndex: 1 })
    const tail = await search('/scim/v2/.search', { filter: 'meta.created gt "2000-01-01T00:00:00Z"', startIndex: 24, count: 10 })
    t.match(tail, { totalResults: USER_COUNT + 2, itemsPerPage: 4, startIndex: 24 })
    t.same((tail.Resources ?? []).map((r) => r.userName ?? r.displayName), [...CREATION_ORDER.slice(23), 'Readers', 'Writers'])
    const usersOnly = await search('/scim/v2/.search', { filter: 'userName sw "u0"', attributes: ['userName'] })
    t.equal(usersOnly.totalResults, 10, 'a filter on a User attribute matches no Group')
    const bad = await node.scim('acme', 'POST', '/scim/v2/.search', { schemas: [SEARCH], filter: 'nosuch eq "x"' })
    t.equal(bad.statusCode, 400, bad.body)
    t.equal(bad.json().scimType, 'invalidFilter')
  })
})

t.test('an expired cursor is refused with expiredCursor', async (t) => {
  const node = await startTestNode(t, { limits: { cursorTtlSeconds: 1 } })
  for (const userName of ['a@example.com', 'b@example.com', 'c@example.com']) await node.scim('acme', 'POST', 'Users', { schemas: [USER], userName })
  const first = await list(node, 'Users?cursor=&count=1')
  t.type(first.nextCursor, 'string')
  const fresh = await node.scim('acme', 'GET', `Users?cursor=${first.nextCursor}&count=1`)
  t.equal(fresh.statusCode, 200, fresh.body)
  await new Promise((resolve) => setTimeout(resolve, 2100))
  const expired = await node.scim('acme', 'GET', `Users?cursor=${first.nextCursor}&count=1`)
  t.equal(expired.statusCode, 400, expired.body)
  t.match(expired.json(), { schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '400', scimType: 'expiredCursor' })
})
