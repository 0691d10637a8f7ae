import t from 'tap'
import { isScimError } from '../../../../lib/scim-error.ts'
import { MAX_PATCH_OPERATIONS, parsePatchRequest } from '../../../../region-node/scim/patch/index.ts'
import type { PatchOperation } from '../../../../region-node/scim/patch/index.ts'
import { deepFreeze, thrownBy } from './fixtures/load-fixture-cases.ts'

const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'

const parsed: [name: string, body: unknown, expected: PatchOperation[]][] = [
  [
    'RFC shape',
    { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'title', value: 'x' }] },
    [{ op: 'replace', path: 'title', value: 'x', index: 0 }],
  ],
  ['schemas missing is accepted', { Operations: [{ op: 'add', path: 'title', value: 'x' }] }, [{ op: 'add', path: 'title', value: 'x', index: 0 }]],
  [
    'a foreign schemas URN is accepted (OneLogin)',
    { schemas: ['urn:scim:schemas:core:2.0'], Operations: [{ op: 'add', path: 'title', value: 'x' }] },
    [{ op: 'add', path: 'title', value: 'x', index: 0 }],
  ],
  [
    'keys and op values in any case (Entra "Replace")',
    { schemas: [PATCH_OP], operations: [{ Op: 'Replace', Path: 'active', Value: 'False' }, { op: 'ADD', path: 'title', value: 'x' }] },
    [
      { op: 'replace', path: 'active', value: 'False', index: 0 },
      { op: 'add', path: 'title', value: 'x', index: 1 },
    ],
  ],
  ['no-path replace keeps its object', { Operations: [{ op: 'replace', value: { active: false } }] }, [{ op: 'replace', value: { active: false }, index: 0 }]],
  ['an empty path is no path', { Operations: [{ op: 'replace', path: ' ', value: { active: false } }] }, [{ op: 'replace', value: { active: false }, index: 0 }]],
  ['a null path is no path', { Operations: [{ op: 'add', path: null, value: { title: 'x' } }] }, [{ op: 'add', value: { title: 'x' }, index: 0 }]],
  [
    'add with a null value is dropped; later indexes are kept',
    { Operations: [{ op: 'add', path: 'title', value: null }, { op: 'add', path: 'nickName', value: 'B' }] },
    [{ op: 'add', path: 'nickName', value: 'B', index: 1 }],
  ],
  ['replace of a path with null becomes remove', { Operations: [{ op: 'Replace', path: 'title', value: null }] }, [{ op: 'remove', path: 'title', index: 0 }]],
  ['remove with a null value is a plain remove', { Operations: [{ op: 'remove', path: 'title', value: null }] }, [{ op: 'remove', path: 'title', index: 0 }]],
  [
    'Entra remove with a value array: one filtered remove per value, ids JSON-escaped',
    { Operations: [{ op: 'Remove', path: 'members', value: [{ value: 'a1' }, { value: 'b"2\\' }] }] },
    [
      { op: 'remove', path: 'members[value eq "a1"]', index: 0 },
      { op: 'remove', path: 'members[value eq "b\\"2\\\\"]', index: 0 },
    ],
  ],
  [
    'remove with a single value object',
    { Operations: [{ op: 'remove', path: 'members', value: { Value: 'a1' } }] },
    [{ op: 'remove', path: 'members[value eq "a1"]', index: 0 }],
  ],
  ['remove with an empty value array removes nothing', { Operations: [{ op: 'remove', path: 'members', value: [] }] }, []],
  [
    'a value on a filtered remove is ignored',
    { Operations: [{ op: 'remove', path: 'members[value eq "a1"]', value: [{ value: 'zz' }] }] },
    [{ op: 'remove', path: 'members[value eq "a1"]', index: 0 }],
  ],
]

t.test('parsePatchRequest normalises what providers send', async (t) => {
  for (const [name, body, expected] of parsed) {
    t.strictSame(parsePatchRequest(deepFreeze(body)), expected, name)
  }
})

const refused: [name: string, body: unknown, scimType: string, detail?: string][] = [
  ['a body that is not an object', [], 'invalidSyntax'],
  ['a null body', null, 'invalidSyntax'],
  ['a string body', 'Operations', 'invalidSyntax'],
  ['Operations missing', { schemas: [PATCH_OP] }, 'invalidSyntax'],
  ['Operations not an array', { Operations: { op: 'add' } }, 'invalidSyntax'],
  ['Operations empty', { Operations: [] }, 'invalidSyntax'],
  ['an operation that is not an object', { Operations: ['add'] }, 'invalidSyntax', 'Operations[0]'],
  ['op missing', { Operations: [{ path: 'title', value: 'x' }] }, 'invalidSyntax', 'Operations[0]'],
  ['an unknown op', { Operations: [{ op: 'add', path: 'a', value: 1 }, { op: 'copy', path: 'title' }] }, 'invalidSyntax', 'Operations[1]'],
  ['op not a string', { Operations: [{ op: 1, path: 'title' }] }, 'invalidSyntax'],
  ['path not a string', { Operations: [{ op: 'add', path: 5, value: 'x' }] }, 'invalidPath'],
  // RFC 7644 §3.5.2.2
  ['remove without path', { Operations: [{ op: 'remove' }] }, 'noTarget', 'Operations[0]'],
  ['remove without path but with a value', { Operations: [{ op: 'Remove', value: [{ value: 'a' }] }] }, 'noTarget'],
  ['add without value', { Operations: [{ op: 'add', path: 'title' }] }, 'invalidValue'],
  ['replace without value', { Operations: [{ op: 'replace', path: 'title' }] }, 'invalidValue'],
  ['no-path replace with null', { Operations: [{ op: 'replace', value: null }] }, 'invalidValue'],
  ['remove with a value array whose items have no string value', { Operations: [{ op: 'remove', path: 'members', value: [{ id: 'a' }] }] }, 'invalidValue'],
  ['remove with a scalar value', { Operations: [{ op: 'remove', path: 'members', value: 'a1' }] }, 'invalidValue'],
]

t.test('parsePatchRequest refuses malformed bodies with a 400', async (t) => {
  for (const [name, body, scimType, detail] of refused) {
    const error = thrownBy(() => parsePatchRequest(body))
    t.ok(isScimError(error) && error.status === 400 && error.scimType === scimType, `${name} → 400 ${scimType}`)
    if (detail !== undefined && isScimError(error)) t.match(error.detail, detail, `${name}: detail names the operation`)
  }
})

t.test(`at most ${MAX_PATCH_OPERATIONS} operations (400 tooMany above)`, async (t) => {
  const operation = { op: 'add', path: 'title', value: 'x' }
  t.equal(parsePatchRequest({ Operations: Array.from({ length: MAX_PATCH_OPERATIONS }, () => operation) }).length, MAX_PATCH_OPERATIONS)
  const error = thrownBy(() => parsePatchRequest({ Operations: Array.from({ length: MAX_PATCH_OPERATIONS + 1 }, () => operation) }))
  t.ok(isScimError(error) && error.status === 400 && error.scimType === 'tooMany')
})
