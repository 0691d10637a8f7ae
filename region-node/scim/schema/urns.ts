// Every SCIM URN scimgate speaks. RFC 7643 §8.7.1 (resource schemas),
// RFC 7644 §3.4.3, §3.5.2, §3.7 (API messages), RFC 7643 §5–§7 (discovery).
export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User'
export const ENTERPRISE_USER_SCHEMA = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'
export const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group'
/** Our Group extension: the tenant access granted through a group (`roles`, `scope`). */
export const GROUP_ACCESS_SCHEMA = 'urn:scimgate:params:scim:schemas:extension:access:2.0:Group'

export const SERVICE_PROVIDER_CONFIG_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'
export const RESOURCE_TYPE_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:ResourceType'
export const SCHEMA_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Schema'

export const LIST_RESPONSE_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse'
export const PATCH_OP_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'
export const BULK_REQUEST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest'
export const BULK_RESPONSE_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:BulkResponse'
export const SEARCH_REQUEST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest'

/** OneLogin templates send this non-standard core URN in `schemas`; accepted because `schemas` is recomputed. */
export const ONELOGIN_CORE_SCHEMA = 'urn:scim:schemas:core:2.0'
