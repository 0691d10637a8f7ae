// RFC 7643 §7: attribute metadata as data. One source drives validation,
// attributes/excludedAttributes projection, filter compilation and /Schemas.
export type AttributeType =
  | 'string'
  | 'boolean'
  | 'decimal'
  | 'integer'
  | 'dateTime'
  | 'reference'
  | 'complex'
  | 'binary'

export type Mutability = 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly'
export type Returned = 'always' | 'never' | 'default' | 'request'
export type Uniqueness = 'none' | 'server' | 'global'

export interface AttributeDefinition {
  readonly name: string
  readonly type: AttributeType
  readonly multiValued: boolean
  readonly description: string
  readonly required: boolean
  readonly caseExact: boolean
  readonly mutability: Mutability
  readonly returned: Returned
  readonly uniqueness: Uniqueness
  readonly canonicalValues?: readonly string[]
  readonly referenceTypes?: readonly string[]
  readonly subAttributes?: readonly AttributeDefinition[]
}

export interface SchemaDefinition {
  readonly id: string
  readonly name: string
  readonly description: string
  readonly attributes: readonly AttributeDefinition[]
}

export interface SchemaExtensionRef {
  readonly schema: string
  readonly required: boolean
}

export type ResourceTypeName = 'User' | 'Group'

/** A resource type with its schemas resolved: what the domain code works with. */
export interface ResourceTypeDefinition {
  readonly id: ResourceTypeName
  readonly name: ResourceTypeName
  readonly endpoint: '/Users' | '/Groups'
  readonly description: string
  readonly schema: SchemaDefinition
  readonly extensions: readonly { readonly schema: SchemaDefinition; readonly required: boolean }[]
}

/** A SCIM resource in wire shape: canonical attribute names, extension attributes under their schema URN. */
export type ScimResource = { [key: string]: unknown }

/** Where a path points once resolved against a resource type (names are canonical). */
export interface ResolvedAttribute {
  /** Schema URN the attribute belongs to (core or extension). */
  readonly schemaId: string
  /** True when the attribute lives under the extension URN key in a resource. */
  readonly inExtension: boolean
  readonly attribute: AttributeDefinition
  readonly subAttribute?: AttributeDefinition
}
