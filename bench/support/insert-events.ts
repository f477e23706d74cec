/**
 * Events of `tenants` (in turn) spread over [from, to), in time order as a writer stores them,
 * shaped like bench/support/generate-events.ts: its type mix, categories and actions, a label
 * on half, values on PERFORMANCE and BUSINESS, 90% with one of 5,000 users per tenant, small
 * properties and context. The type roll is drawn below an OFFSET 0 fence, so it is drawn once.
 */
export const INSERT_EVENTS = `INSERT INTO analytics_events (tenant_id, event_id, timestamp, event_type, category, action, label, value, user_id, session_id, properties, context, metadata, received_at, stored_at)
SELECT tenant_id, gen_random_uuid(), ts, event_type,
  (ARRAY['navigation', 'checkout', 'auth', 'search', 'api', 'billing', 'profile', 'jobs'])[1 + floor(random() * 8)::int],
  (ARRAY['view', 'click', 'submit', 'fail', 'retry', 'complete'])[1 + floor(random() * 6)::int],
  CASE WHEN random() < 0.5 THEN 'label-' || floor(random() * 100) END,
  CASE WHEN event_type IN ('PERFORMANCE', 'BUSINESS') THEN round((random() * 1000)::numeric, 2) END,
  CASE WHEN random() < 0.9 THEN md5(tenant_id::text || floor(random() * 5000))::uuid END,
  's-' || floor(random() * 50000),
  jsonb_build_object('page', '/p/' || floor(random() * 200), 'plan', (ARRAY['free', 'pro', 'team'])[1 + floor(random() * 3)::int], 'ab', random() < 0.5),
  jsonb_build_object('locale', 'en-GB', 'deviceType', (ARRAY['desktop', 'mobile', 'tablet'])[1 + floor(random() * 3)::int]),
  CASE WHEN event_type = 'ERROR' THEN '{"severity": "HIGH"}'::jsonb ELSE '{}'::jsonb END,
  ts, ts + interval '50 milliseconds' + floor(random() * 400) * interval '1 millisecond'
FROM (
  SELECT tenant_id, ts,
    CASE WHEN roll < 0.60 THEN 'USER_ACTION' WHEN roll < 0.75 THEN 'PERFORMANCE' WHEN roll < 0.85 THEN 'SYSTEM_EVENT'
         WHEN roll < 0.91 THEN 'CUSTOM' WHEN roll < 0.95 THEN 'ERROR' WHEN roll < 0.99 THEN 'BUSINESS' ELSE 'SECURITY' END AS event_type
  FROM (
    SELECT ($1::uuid[])[1 + n % cardinality($1::uuid[])] AS tenant_id,
      date_trunc('milliseconds', $2::timestamptz + random() * ($3::timestamptz - $2::timestamptz)) AS ts, random() AS roll
    FROM generate_series(1, $4::int) AS n OFFSET 0
  ) AS drawn
) AS typed
ORDER BY ts`;
