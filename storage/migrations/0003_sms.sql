-- SMS outbox (issue 6): what a replay needs to rebuild a message's exact parts, per-part write
-- counts (the evidence for "sent twice only when its fate was unknown"), SMSC ids normalised for
-- receipt correlation across bases, and receipts that matched no part.

ALTER TABLE sms_messages
    ADD COLUMN message_key       text,            -- idempotency key: one message per key, ever
    ADD COLUMN concatenation     text NOT NULL DEFAULT 'udh8'
                                 CHECK (concatenation IN ('udh8','udh16','sar')),
    ADD COLUMN concat_ref        integer NOT NULL DEFAULT 0 CHECK (concat_ref BETWEEN 0 AND 65535),
    ADD COLUMN permit_expires_at timestamptz;     -- a replay after this instant is not sent
CREATE UNIQUE INDEX sms_messages_key ON sms_messages (message_key);
CREATE INDEX sms_messages_campaign ON sms_messages (campaign_id, status) WHERE campaign_id IS NOT NULL;

ALTER TABLE sms_parts
    ADD COLUMN submits      integer NOT NULL DEFAULT 0 CHECK (submits >= 0),  -- times written
    ADD COLUMN smsc_id_norm text,                 -- lower case, leading zeros stripped
    ADD COLUMN error        text;
-- Receipts look parts up by the normalised id (the raw-id index of 0001 is replaced by it).
DROP INDEX IF EXISTS sms_parts_smsc_id;
CREATE INDEX sms_parts_smsc_id_norm ON sms_parts (smsc_id_norm) WHERE status = 'accepted';

CREATE UNIQUE INDEX sms_outbox_message ON sms_outbox (message_id);
CREATE INDEX sms_outbox_claimed ON sms_outbox (claimed_by) WHERE sent_at IS NULL;

CREATE TABLE sms_unmatched_receipts (
    id              bigserial PRIMARY KEY,
    smsc_message_id text NOT NULL,
    status          text NOT NULL CHECK (status IN ('queued','submitted','accepted','delivered',
                                        'undeliverable','expired','rejected','failed')),
    received_at     timestamptz NOT NULL
);
