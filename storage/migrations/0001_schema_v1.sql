-- Schema v1 for the whole domain. Later issues extend it with new numbered files.
-- Enumerated columns are text with CHECK constraints listing config/vocabulary.py's values
-- (a test keeps the two in step).

CREATE TABLE tenants (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    created_at  timestamptz NOT NULL DEFAULT now()
);
INSERT INTO tenants (name) VALUES ('default');

CREATE TABLE users (
    id             bigserial PRIMARY KEY,
    tenant_id      bigint NOT NULL REFERENCES tenants(id),
    email          text NOT NULL,
    display_name   text NOT NULL DEFAULT '',
    role           text NOT NULL CHECK (role IN ('admin','manager','supervisor','agent','survey-client')),
    password_hash  text,
    disabled       boolean NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, email)
);

CREATE TABLE api_keys (
    id           bigserial PRIMARY KEY,
    tenant_id    bigint NOT NULL REFERENCES tenants(id),
    user_id      bigint REFERENCES users(id),
    name         text NOT NULL,
    prefix       text NOT NULL UNIQUE,
    key_hash     text NOT NULL,
    role         text NOT NULL CHECK (role IN ('admin','manager','supervisor','agent','survey-client')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);

CREATE TABLE trunks (
    id               bigserial PRIMARY KEY,
    tenant_id        bigint NOT NULL REFERENCES tenants(id),
    name             text NOT NULL,
    host             text NOT NULL,
    port             integer NOT NULL DEFAULT 5060 CHECK (port BETWEEN 1 AND 65535),
    transport        text NOT NULL DEFAULT 'udp' CHECK (transport IN ('udp','tcp','tls')),
    username         text,
    secret_ref       text,            -- name of a secret in config, never the secret itself
    caller_id        text,
    max_channels     integer NOT NULL DEFAULT 30 CHECK (max_channels > 0),
    max_cps          real NOT NULL DEFAULT 10 CHECK (max_cps > 0),
    register         boolean NOT NULL DEFAULT false,
    enabled          boolean NOT NULL DEFAULT true,
    created_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, name)
);

CREATE TABLE campaign_groups (
    id          bigserial PRIMARY KEY,
    tenant_id   bigint NOT NULL REFERENCES tenants(id),
    name        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, name)
);

CREATE TABLE campaigns (
    id                  bigserial PRIMARY KEY,
    tenant_id           bigint NOT NULL REFERENCES tenants(id),
    group_id            bigint REFERENCES campaign_groups(id),
    name                text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    channel             text NOT NULL DEFAULT 'voice' CHECK (channel IN ('voice','sms')),
    mode                text NOT NULL DEFAULT 'predictive'
                        CHECK (mode IN ('preview','progressive','power','predictive')),
    status              text NOT NULL DEFAULT 'draft'
                        CHECK (status IN ('draft','active','paused','completed','archived')),
    purpose             text NOT NULL DEFAULT 'marketing'
                        CHECK (purpose IN ('marketing','survey','informational','collection')),
    rule_set            text CHECK (rule_set IN ('us','ca','uk','ru','eu','none')),  -- NULL: lead's country
    default_country     text NOT NULL DEFAULT 'US' CHECK (default_country ~ '^[A-Z]{2}$'),
    caller_id           text,
    trunk_ids           bigint[] NOT NULL DEFAULT '{}',
    schedule            jsonb NOT NULL DEFAULT '{}',   -- days, hours, holiday dates, time zone
    settings            jsonb NOT NULL DEFAULT '{}',   -- pacing, retries, AMD, scripts
    assume_zone         text,                          -- audited manager override for ambiguous zones
    safe_harbour_message text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, name),
    UNIQUE (id, tenant_id)
);

CREATE TABLE lists (
    id              bigserial PRIMARY KEY,
    tenant_id       bigint NOT NULL REFERENCES tenants(id),
    campaign_id     bigint NOT NULL REFERENCES campaigns(id),
    name            text NOT NULL,
    source_file     text,
    assume_zone     text,
    rows            integer NOT NULL DEFAULT 0,
    imported        integer NOT NULL DEFAULT 0,
    invalid         integer NOT NULL DEFAULT 0,
    duplicates      integer NOT NULL DEFAULT 0,
    ambiguous_zone  integer NOT NULL DEFAULT 0,
    status          text NOT NULL DEFAULT 'importing' CHECK (status IN ('importing','ready','failed')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz
);

-- One composite foreign key (campaign and its tenant) instead of three: PostgreSQL checks foreign
-- keys row by row, and on a bulk import each check costs about as much as the insert itself.
-- list_id is informational (lists are never deleted), so it carries no constraint.
CREATE TABLE leads (
    id               bigserial PRIMARY KEY,
    tenant_id        bigint NOT NULL,
    campaign_id      bigint NOT NULL,
    list_id          bigint,
    phone            text NOT NULL CHECK (phone ~ '^\+[1-9][0-9]{6,14}$'),
    alt_phones       text[] NOT NULL DEFAULT '{}',
    first_name       text,
    last_name        text,
    email            text,
    country          text CHECK (country ~ '^[A-Z]{2}$'),
    region           text,     -- state / province / oblast code
    postal_code      text,
    tz_candidates    text[] NOT NULL DEFAULT '{}',
    tz_explicit      text,     -- a zone given by the list or narrowed from ZIP/state/region
    custom           jsonb NOT NULL DEFAULT '{}',
    status           text NOT NULL DEFAULT 'new'
                     CHECK (status IN ('new','leased','in-progress','retry','callback','done','dnc','invalid')),
    attempt_count    integer NOT NULL DEFAULT 0 CHECK (attempt_count >= 0),
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    lease_owner      text,
    lease_expires_at timestamptz,
    last_outcome     text,
    source_line      integer,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT leads_campaign_phone_unique UNIQUE (campaign_id, phone),
    CONSTRAINT leads_campaign_tenant_fkey FOREIGN KEY (campaign_id, tenant_id)
        REFERENCES campaigns (id, tenant_id)
);
-- Hot path: lease the next callable leads of a campaign.
CREATE INDEX leads_next_attempt ON leads (campaign_id, next_attempt_at)
    WHERE status IN ('new','retry','callback');
CREATE INDEX leads_lease_expiry ON leads (lease_expires_at) WHERE lease_owner IS NOT NULL;
CREATE INDEX leads_phone ON leads (phone);

CREATE TABLE agents (
    id            bigserial PRIMARY KEY,
    tenant_id     bigint NOT NULL REFERENCES tenants(id),
    user_id       bigint REFERENCES users(id),
    name          text NOT NULL,
    extension     text,
    max_concurrent integer NOT NULL DEFAULT 1,
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, name)
);

CREATE TABLE skills (
    id          bigserial PRIMARY KEY,
    tenant_id   bigint NOT NULL REFERENCES tenants(id),
    name        text NOT NULL,
    UNIQUE (tenant_id, name)
);

CREATE TABLE agent_skills (
    agent_id  bigint NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    skill_id  bigint NOT NULL REFERENCES skills(id) ON DELETE CASCADE,
    level     smallint NOT NULL DEFAULT 1 CHECK (level BETWEEN 1 AND 10),
    PRIMARY KEY (agent_id, skill_id)
);

CREATE TABLE queues (
    id               bigserial PRIMARY KEY,
    tenant_id        bigint NOT NULL REFERENCES tenants(id),
    name             text NOT NULL,
    strategy         text NOT NULL DEFAULT 'longest-idle'
                     CHECK (strategy IN ('longest-idle','round-robin','skills-based','least-calls')),
    required_skills  bigint[] NOT NULL DEFAULT '{}',
    sla_answer_s     real NOT NULL DEFAULT 20,
    sla_target       real NOT NULL DEFAULT 0.8 CHECK (sla_target BETWEEN 0 AND 1),
    created_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, name)
);

CREATE TABLE queue_agents (
    queue_id  bigint NOT NULL REFERENCES queues(id) ON DELETE CASCADE,
    agent_id  bigint NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    PRIMARY KEY (queue_id, agent_id)
);

CREATE TABLE attempts (
    id              bigserial PRIMARY KEY,
    tenant_id       bigint NOT NULL REFERENCES tenants(id),
    campaign_id     bigint REFERENCES campaigns(id),
    lead_id         bigint REFERENCES leads(id),
    channel         text NOT NULL CHECK (channel IN ('call','automated','sms')),
    phone           text NOT NULL,
    trunk_id        bigint REFERENCES trunks(id),
    engine_node     text,
    call_id         text,            -- SIP Call-ID or SMS message key
    created_at      timestamptz NOT NULL DEFAULT now(),  -- written before the call is placed
    placed_at       timestamptz,
    ringing_at      timestamptz,
    answered_at     timestamptz,
    connected_at    timestamptz,     -- bridged to an agent
    ended_at        timestamptz,
    outcome         text CHECK (outcome IN ('answered','busy','no-answer','rejected','unavailable',
                                            'invalid-number','failed','abandoned','interrupted')),
    amd_result      text CHECK (amd_result IN ('human','machine','unknown')),
    sip_code        smallint,
    smpp_status     integer,
    reason          text,            -- Reason header / Q.850 cause / SMPP error text
    ring_s          real,
    talk_s          real,
    wait_s          real,            -- answer to agent connect
    agent_id        bigint REFERENCES agents(id),
    recording_path  text,
    permit_reasons  text[] NOT NULL DEFAULT '{}'
);
CREATE INDEX attempts_lead ON attempts (lead_id, created_at);
CREATE INDEX attempts_phone ON attempts (phone, created_at);
CREATE INDEX attempts_campaign ON attempts (campaign_id, created_at);
CREATE INDEX attempts_open ON attempts (engine_node) WHERE ended_at IS NULL;

CREATE TABLE sms_messages (
    id              bigserial PRIMARY KEY,
    tenant_id       bigint NOT NULL REFERENCES tenants(id),
    campaign_id     bigint REFERENCES campaigns(id),
    lead_id         bigint REFERENCES leads(id),
    attempt_id      bigint REFERENCES attempts(id),
    direction       text NOT NULL DEFAULT 'out' CHECK (direction IN ('out','in')),
    phone           text NOT NULL,
    sender          text,
    body            text NOT NULL,
    encoding        text CHECK (encoding IN ('gsm7','ucs2')),
    part_count      smallint NOT NULL DEFAULT 1,
    status          text NOT NULL DEFAULT 'queued'
                    CHECK (status IN ('queued','submitted','accepted','delivered','undeliverable',
                                      'expired','rejected','failed')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sms_messages_phone ON sms_messages (phone, created_at);

CREATE TABLE sms_parts (
    id              bigserial PRIMARY KEY,
    message_id      bigint NOT NULL REFERENCES sms_messages(id) ON DELETE CASCADE,
    part_no         smallint NOT NULL,
    smsc_message_id text,
    status          text NOT NULL DEFAULT 'queued'
                    CHECK (status IN ('queued','submitted','accepted','delivered','undeliverable',
                                      'expired','rejected','failed')),
    smpp_status     integer,
    submitted_at    timestamptz,
    accepted_at     timestamptz,
    final_at        timestamptz,
    UNIQUE (message_id, part_no)
);
CREATE INDEX sms_parts_smsc_id ON sms_parts (smsc_message_id);

-- Outboxes: everything that leaves the system is decided here first, sent after.
CREATE TABLE sms_outbox (
    id            bigserial PRIMARY KEY,
    message_id    bigint NOT NULL REFERENCES sms_messages(id),
    available_at  timestamptz NOT NULL DEFAULT now(),
    claimed_by    text,
    claimed_until timestamptz,
    tries         integer NOT NULL DEFAULT 0,
    last_error    text,
    sent_at       timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sms_outbox_pending ON sms_outbox (available_at) WHERE sent_at IS NULL;

CREATE TABLE webhook_endpoints (
    id          bigserial PRIMARY KEY,
    tenant_id   bigint NOT NULL REFERENCES tenants(id),
    url         text NOT NULL,
    secret_ref  text NOT NULL,
    events      text[] NOT NULL DEFAULT '{}',
    enabled     boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE webhook_outbox (
    id            bigserial PRIMARY KEY,
    tenant_id     bigint NOT NULL REFERENCES tenants(id),
    endpoint_id   bigint NOT NULL REFERENCES webhook_endpoints(id),
    event         text NOT NULL,
    payload       jsonb NOT NULL,
    available_at  timestamptz NOT NULL DEFAULT now(),
    tries         integer NOT NULL DEFAULT 0,
    last_status   integer,
    last_error    text,
    delivered_at  timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_outbox_pending ON webhook_outbox (available_at) WHERE delivered_at IS NULL;

CREATE TABLE sales_handoff_outbox (
    id            bigserial PRIMARY KEY,
    tenant_id     bigint NOT NULL REFERENCES tenants(id),
    lead_id       bigint NOT NULL REFERENCES leads(id),
    attempt_id    bigint REFERENCES attempts(id),
    payload       jsonb NOT NULL,
    available_at  timestamptz NOT NULL DEFAULT now(),
    tries         integer NOT NULL DEFAULT 0,
    last_error    text,
    delivered_at  timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sales_handoff_pending ON sales_handoff_outbox (available_at) WHERE delivered_at IS NULL;

CREATE TABLE dispositions (
    id           bigserial PRIMARY KEY,
    tenant_id    bigint NOT NULL REFERENCES tenants(id),
    campaign_id  bigint REFERENCES campaigns(id),   -- NULL: available to every campaign of the tenant
    code         text NOT NULL,
    label        text NOT NULL,
    category     text NOT NULL CHECK (category IN ('final','retry','callback','dnc','warm-lead','sale')),
    retry_after_s real,
    UNIQUE (tenant_id, campaign_id, code)
);

CREATE TABLE lead_dispositions (
    id              bigserial PRIMARY KEY,
    tenant_id       bigint NOT NULL REFERENCES tenants(id),
    lead_id         bigint NOT NULL REFERENCES leads(id),
    attempt_id      bigint REFERENCES attempts(id),
    disposition_id  bigint NOT NULL REFERENCES dispositions(id),
    agent_id        bigint REFERENCES agents(id),
    notes           text,
    answers         jsonb NOT NULL DEFAULT '{}',    -- survey answers
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX lead_dispositions_lead ON lead_dispositions (lead_id);

CREATE TABLE callbacks (
    id           bigserial PRIMARY KEY,
    tenant_id    bigint NOT NULL REFERENCES tenants(id),
    lead_id      bigint NOT NULL REFERENCES leads(id),
    agent_id     bigint REFERENCES agents(id),     -- NULL: any agent
    due_at       timestamptz NOT NULL,
    notes        text,
    status       text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','done','cancelled','missed')),
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX callbacks_due ON callbacks (due_at) WHERE status = 'pending';

CREATE TABLE dnc_entries (
    id           bigserial PRIMARY KEY,
    phone        text NOT NULL CHECK (phone ~ '^\+[1-9][0-9]{6,14}$'),
    scope        text NOT NULL CHECK (scope IN ('global','tenant','campaign')),
    tenant_id    bigint REFERENCES tenants(id),
    campaign_id  bigint REFERENCES campaigns(id),
    channel      text NOT NULL DEFAULT 'all' CHECK (channel IN ('call','sms','all')),
    source       text NOT NULL,                    -- registry file, agent, sms-stop, api, ...
    registry_as_of date,
    reason       text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz,
    CHECK ((scope = 'global' AND tenant_id IS NULL AND campaign_id IS NULL)
        OR (scope = 'tenant' AND tenant_id IS NOT NULL AND campaign_id IS NULL)
        OR (scope = 'campaign' AND campaign_id IS NOT NULL))
);
CREATE UNIQUE INDEX dnc_entries_unique ON dnc_entries
    (phone, scope, coalesce(tenant_id, 0), coalesce(campaign_id, 0), channel);
CREATE INDEX dnc_entries_phone ON dnc_entries (phone);

CREATE TABLE dnc_registry_imports (
    id          bigserial PRIMARY KEY,
    source      text NOT NULL,
    as_of       date NOT NULL,
    numbers     bigint NOT NULL,
    imported_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE consents (
    id           bigserial PRIMARY KEY,
    tenant_id    bigint NOT NULL REFERENCES tenants(id),
    phone        text NOT NULL,
    channel      text NOT NULL CHECK (channel IN ('call','automated','sms')),
    purpose      text NOT NULL CHECK (purpose IN ('marketing','survey','informational','collection')),
    source       text NOT NULL,
    evidence     text,
    given_at     timestamptz NOT NULL,
    revoked_at   timestamptz,
    revoked_source text,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX consents_phone ON consents (tenant_id, phone);

CREATE TABLE contacts (
    id          bigserial PRIMARY KEY,
    tenant_id   bigint NOT NULL REFERENCES tenants(id),
    phone       text,
    email       text,
    name        text,
    attributes  jsonb NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX contacts_phone ON contacts (tenant_id, phone) WHERE phone IS NOT NULL;

CREATE TABLE interactions (
    id           bigserial PRIMARY KEY,
    tenant_id    bigint NOT NULL REFERENCES tenants(id),
    contact_id   bigint NOT NULL REFERENCES contacts(id),
    kind         text NOT NULL,        -- call-out, call-in, sms-out, sms-in, note, ticket
    attempt_id   bigint REFERENCES attempts(id),
    agent_id     bigint REFERENCES agents(id),
    summary      text,
    data         jsonb NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX interactions_contact ON interactions (contact_id, created_at);

CREATE TABLE tickets (
    id              bigserial PRIMARY KEY,
    tenant_id       bigint NOT NULL REFERENCES tenants(id),
    contact_id      bigint REFERENCES contacts(id),
    queue_id        bigint REFERENCES queues(id),
    assignee_agent_id bigint REFERENCES agents(id),
    subject         text NOT NULL,
    body            text,
    priority        smallint NOT NULL DEFAULT 3 CHECK (priority BETWEEN 1 AND 5),
    status          text NOT NULL DEFAULT 'open'
                    CHECK (status IN ('open','pending','escalated','resolved','closed')),
    sla_due_at      timestamptz,
    escalation_level smallint NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    resolved_at     timestamptz
);
CREATE INDEX tickets_sla ON tickets (sla_due_at) WHERE status IN ('open','pending','escalated');

CREATE TABLE audit_log (
    id          bigserial PRIMARY KEY,
    tenant_id   bigint REFERENCES tenants(id),
    at          timestamptz NOT NULL DEFAULT now(),
    actor       text NOT NULL,           -- user, api key, engine node, operator
    action      text NOT NULL,           -- e.g. compliance.verdict, campaign.update, list.assume_zone
    subject     text,                    -- e.g. lead:42, campaign:7, +15551234567
    allowed     boolean,
    reasons     text[] NOT NULL DEFAULT '{}',
    data        jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_subject ON audit_log (subject, at);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP;
END $$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
