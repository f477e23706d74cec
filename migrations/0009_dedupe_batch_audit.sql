-- EVENTS_BATCH_PROCESSED is written once per request. The writer used to skip the summary of a
-- request none of whose events was new, which also skipped a batch whose items were all
-- refused (it has no events) and a retried batch of events stored before; it now writes every
-- summary and lets this index drop the second one of a redelivered message. Existing rows are
-- one per request already: only a request with new events was audited, and only once.
CREATE UNIQUE INDEX idx_audit_batch_request ON audit_log (tenant_id, (details->>'requestId'))
  WHERE action = 'EVENTS_BATCH_PROCESSED';
