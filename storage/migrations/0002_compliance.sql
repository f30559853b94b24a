-- Compliance stores: bulk DNC lists (national registry copies and imported lists) as compact
-- partitions of bigint E.164 digits, one partition per import, swapped in when a newer copy of
-- the same list arrives (the old partition is dropped, which is instant).

ALTER TABLE dnc_registry_imports
    ALTER COLUMN as_of DROP NOT NULL,
    ADD COLUMN scope text NOT NULL DEFAULT 'global' CHECK (scope IN ('global','tenant','campaign')),
    ADD COLUMN tenant_id bigint REFERENCES tenants(id),
    ADD COLUMN campaign_id bigint REFERENCES campaigns(id),
    ADD COLUMN channel text NOT NULL DEFAULT 'all' CHECK (channel IN ('call','sms','all')),
    ADD COLUMN registry boolean NOT NULL DEFAULT true,   -- a national registry copy (as_of set)
    ADD COLUMN rows bigint NOT NULL DEFAULT 0,
    ADD COLUMN invalid bigint NOT NULL DEFAULT 0,
    ADD COLUMN duplicates bigint NOT NULL DEFAULT 0,
    ADD COLUMN actor text,
    ADD COLUMN replaced_at timestamptz,                   -- NULL: the copy in force
    ADD CONSTRAINT dnc_registry_imports_scope_owner CHECK (
        (scope = 'global' AND tenant_id IS NULL AND campaign_id IS NULL)
        OR (scope = 'tenant' AND tenant_id IS NOT NULL AND campaign_id IS NULL)
        OR (scope = 'campaign' AND campaign_id IS NOT NULL)),
    ADD CONSTRAINT dnc_registry_imports_registry_as_of CHECK (NOT registry OR as_of IS NOT NULL);

-- At most one copy in force per list (scope, owner, channel): a new import replaces it.
CREATE UNIQUE INDEX dnc_registry_imports_in_force ON dnc_registry_imports
    (scope, coalesce(tenant_id, 0), coalesce(campaign_id, 0), channel)
    WHERE replaced_at IS NULL;

-- The numbers of each import: partition dnc_bulk_numbers_<import id>, written with binary COPY
-- in sorted order, with a BRIN index (the rows are physically sorted, so a lookup reads one
-- block range; the index costs kilobytes and builds in a second for 10 M rows).
CREATE TABLE dnc_bulk_numbers (
    import_id  bigint NOT NULL,
    number     bigint NOT NULL      -- E.164 digits without '+'
) PARTITION BY LIST (import_id);

CREATE INDEX dnc_entries_expiry ON dnc_entries (expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX consents_active ON consents (tenant_id, phone, channel) WHERE revoked_at IS NULL;
CREATE INDEX attempts_tenant_phone ON attempts (tenant_id, phone, created_at);
-- 230-FZ counts per debtor: leads of one person share custom.debtor_id.
CREATE INDEX leads_debtor ON leads (tenant_id, (custom->>'debtor_id')) WHERE custom ? 'debtor_id';
