-- Secret rotation: the rotated-out secret keeps signing next to the new one
-- until `previous_secret_expires_at` (24 h).
ALTER TABLE webhooks ADD COLUMN previous_secret TEXT;
ALTER TABLE webhooks ADD COLUMN previous_secret_expires_at INTEGER;
-- Auto-disable: failed deliveries in a row, since when, and why the
-- platform switched the webhook off (NULL when its owner did, or never).
ALTER TABLE webhooks ADD COLUMN failure_streak INTEGER NOT NULL DEFAULT 0;
ALTER TABLE webhooks ADD COLUMN failing_since INTEGER;
ALTER TABLE webhooks ADD COLUMN disabled_reason TEXT;
