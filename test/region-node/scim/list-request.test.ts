import t from 'tap'
import { parseListRequest } from '../../../region-node/scim/list-request.ts'

const limits = { defaultPageSize: 100, maxPageSize: 1000 }

t.test('a filter asked again parses to the same AST; a bad one fails every time', async (t) => {
  const first = parseListRequest({ filter: 'userName eq "kim@example.com"' }, limits)
  const again = parseListRequest({ filter: 'userName eq "kim@example.com"' }, limits)
  t.strictSame(again.filter, first.filter)
  t.strictSame(first.filter, { kind: 'compare', path: { attribute: 'userName' }, op: 'eq', value: 'kim@example.com' })
  t.strictSame(parseListRequest({ filter: 'userName eq "lee@example.com"' }, limits).filter, { kind: 'compare', path: { attribute: 'userName' }, op: 'eq', value: 'lee@example.com' }, 'another text, another AST')
  for (let round = 0; round < 2; round++) {
    t.throws(() => parseListRequest({ filter: 'userName eq' }, limits), { name: 'ScimError', status: 400, scimType: 'invalidFilter' }, `round ${round}`)
  }
})

t.test('index paging unless a cursor is asked for', async (t) => {
  t.strictSame(parseListRequest({ startIndex: '3', count: '5' }, limits).paging, { kind: 'index', startIndex: 3, count: 5 })
  t.strictSame(parseListRequest({ cursor: '' }, limits).paging, { kind: 'cursor', cursor: undefined, count: 100 })
})
