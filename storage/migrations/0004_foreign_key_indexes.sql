-- Indexes on the foreign-key columns that reference leads and had none: deleting or re-keying a
-- lead otherwise scans each of these tables once per row.
CREATE INDEX IF NOT EXISTS sms_messages_lead ON sms_messages (lead_id) WHERE lead_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS callbacks_lead ON callbacks (lead_id);
CREATE INDEX IF NOT EXISTS sales_handoff_lead ON sales_handoff_outbox (lead_id);
CREATE INDEX IF NOT EXISTS interactions_attempt ON interactions (attempt_id) WHERE attempt_id IS NOT NULL;
