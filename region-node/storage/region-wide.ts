// Region-wide housekeeping (the retention purge, the feed-lag report) runs
// through the same transactions as requests (storage/database.ts: the
// statement timeout and the row-security role set for the transaction only,
// right behind PgBouncer in transaction mode too), under a tenant id no
// tenant can have (the gateway's TENANT_ID_PATTERN starts with a letter or
// digit): row security shows it no tenant's rows, the narrow SECURITY DEFINER
// functions of the migrations do the cross-tenant work, and the tenant share
// of the pool bounds how many connections housekeeping takes.
export const REGION_WIDE = '*region*'
