// RFC 7643 §6 and §8.6: the resource types scimgate serves, with their
// schemas resolved.
import { ENTERPRISE_USER_SCHEMA_DEFINITION } from './enterprise-user-schema.ts'
import { GROUP_ACCESS_SCHEMA_DEFINITION } from './group-access-schema.ts'
import { GROUP_SCHEMA_DEFINITION } from './group-schema.ts'
import type { ResourceTypeDefinition } from './types.ts'
import { USER_SCHEMA_DEFINITION } from './user-schema.ts'

export const USER_RESOURCE_TYPE: ResourceTypeDefinition = {
  id: 'User',
  name: 'User',
  endpoint: '/Users',
  description: 'User Account',
  schema: USER_SCHEMA_DEFINITION,
  extensions: [{ schema: ENTERPRISE_USER_SCHEMA_DEFINITION, required: false }],
}

export const GROUP_RESOURCE_TYPE: ResourceTypeDefinition = {
  id: 'Group',
  name: 'Group',
  endpoint: '/Groups',
  description: 'Group',
  schema: GROUP_SCHEMA_DEFINITION,
  extensions: [{ schema: GROUP_ACCESS_SCHEMA_DEFINITION, required: false }],
}

export const RESOURCE_TYPES: readonly ResourceTypeDefinition[] = [USER_RESOURCE_TYPE, GROUP_RESOURCE_TYPE]
