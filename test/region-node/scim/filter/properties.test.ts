import { isDeepStrictEqual } from 'node:util'
import fc from 'fast-check'
import t from 'tap'
import { ScimError } from '../../../../lib/scim-error.ts'
import type { ScimType } from '../../../../lib/scim-error.ts'
import {
  MAX_FILTER_DEPTH,
  MAX_FILTER_LENGTH,
  formatFilter,
  matchesFilter,
  parseFilter,
  parsePath,
} from '../../../../region-node/scim/filter/index.ts'
import type { FilterNode } from '../../../../region-node/scim/filter/index.ts'
import { elementArbitrary, filterArbitrary, filterTextArbitrary, shapeArbitrary } from './fixtures/arbitraries.ts'

function onlyScimErrors(run: () => unknown, scimType: ScimType): void {
  try {
    run()
  } catch (error) {
    if (!(error instanceof ScimError) || error.status !== 400 || error.scimType !== scimType) throw error
  }
}

function depthOf(node: FilterNode): number {
  switch (node.kind) {
    case 'and':
    case 'or':
      return Math.max(depthOf(node.left), depthOf(node.right)) + 1
    case 'not':
    case 'valuePath':
      return depthOf(node.filter) + 1
    default:
      return 0
  }
}

t.test('(a) any text: parseFilter returns a node or throws a 400 invalidFilter', async (t) => {
  fc.assert(
    fc.property(filterTextArbitrary, (text) => {
      onlyScimErrors(() => parseFilter(text), 'invalidFilter')
    }),
    { numRuns: 3000 },
  )
  t.pass('no other error escaped')
})

t.test('(a) any text: parsePath returns a path or throws a 400 invalidPath', async (t) => {
  fc.assert(
    fc.property(filterTextArbitrary, (text) => {
      onlyScimErrors(() => parsePath(text), 'invalidPath')
    }),
    { numRuns: 3000 },
  )
  t.pass('no other error escaped')
})

t.test('(b) random ASTs: parseFilter(formatFilter(ast)) equals ast', async (t) => {
  fc.assert(
    fc.property(filterArbitrary(), (ast) => {
      const text = formatFilter(ast)
      // Canonical text adds parentheses; keep to what the limits allow.
      fc.pre(text.length <= MAX_FILTER_LENGTH && depthOf(ast) < MAX_FILTER_DEPTH)
      return isDeepStrictEqual(parseFilter(text), ast)
    }),
    { numRuns: 2000 },
  )
  t.pass('every AST came back equal')
})

t.test('(c) random filters on random objects throw nothing but a 400 invalidFilter', async (t) => {
  const names = ['userName', 'emails', 'value', 'type', 'active', 'meta', 'created']
  fc.assert(
    fc.property(
      filterArbitrary({ names }),
      elementArbitrary(names),
      fc.func(fc.option(shapeArbitrary, { nil: undefined })),
      (filter, element, describe) => {
        onlyScimErrors(() => matchesFilter(filter, element, describe), 'invalidFilter')
      },
    ),
    { numRuns: 3000 },
  )
  t.pass('no other error escaped')
})

t.test('(c) parsed filters on random objects, with shapes for every path', async (t) => {
  const names = ['userName', 'emails', 'value', 'type', 'primary']
  fc.assert(
    fc.property(
      filterTextArbitrary.map((text) => {
        try {
          return parseFilter(text)
        } catch {
          return undefined
        }
      }),
      filterArbitrary({ names }),
      elementArbitrary(names),
      shapeArbitrary,
      (parsed, generated, element, shape) => {
        for (const filter of [parsed, generated]) {
          if (filter !== undefined) onlyScimErrors(() => matchesFilter(filter, element, () => shape), 'invalidFilter')
        }
      },
    ),
    { numRuns: 2000 },
  )
  t.pass('no other error escaped')
})
