-- +goose Up
-- Nothing reads outbox_due any more: the dispatcher's DueForPush probes
-- outbox_tenant for one due row of each pushing tenant, and DueOutbox
-- reads a tenant's rows through outbox_tenant in id order. Each outbox row
-- (one per contact a bulk import creates) and each failed push's new
-- next_attempt_at wrote an entry in it (issue 14).
DROP INDEX outbox_due;

-- +goose Down
CREATE INDEX outbox_due ON outbox (next_attempt_at, tenant_id);
