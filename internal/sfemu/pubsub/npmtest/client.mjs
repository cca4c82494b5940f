// Drives the emulator's Pub/Sub API with salesforce-pubsub-api-client.
// Input: one JSON object in argv[2] {endpoint, accessToken, instanceUrl,
// organizationId, topic, want}. Output: one JSON line per check on stdout.
import PubSubApiClient from 'salesforce-pubsub-api-client';

const cfg = JSON.parse(process.argv[2]);
const quiet = { debug() {}, info() {}, warn() {}, error(...a) { console.error(...a); } };
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');

function connect(accessToken) {
  const client = new PubSubApiClient({
    authType: 'user-supplied',
    accessToken,
    instanceUrl: cfg.instanceUrl,
    organizationId: cfg.organizationId,
    pubSubEndpoint: cfg.endpoint,
    // The emulator's certificate is self-signed and this client only trusts
    // its bundled roots: switch verification off (TLS is still spoken).
    rejectUnauthorizedSsl: false,
  }, quiet);
  return client;
}

// collect subscribes and resolves with the events once `n` arrived.
function collect(client, subscribe, n) {
  return new Promise((resolve, reject) => {
    const events = [];
    const timer = setTimeout(() => reject(new Error(`timeout after ${events.length} of ${n} events`)), 20000);
    subscribe((sub, type, data) => {
      if (type === 'event') {
        const h = data.payload.ChangeEventHeader;
        events.push({
          replayId: String(data.replayId), schemaId: data.schemaId, changeType: h.changeType, changeOrigin: h.changeOrigin,
          recordIds: h.recordIds, changedFields: h.changedFields, nulledFields: h.nulledFields,
          email: data.payload.Email ?? null, phone: data.payload.Phone ?? null, name: data.payload.Name ?? null,
        });
        if (events.length === n) { clearTimeout(timer); resolve(events); }
      } else if (type === 'error') {
        clearTimeout(timer); reject(data);
      }
    });
  });
}

try {
  const client = connect(cfg.accessToken);
  await client.connect();
  const all = await collect(client, (cb) => client.subscribeFromEarliestEvent(cfg.topic, cb, cfg.want), cfg.want);
  out({ check: 'earliest', events: all });
  client.close();
  // A new process would resume like this: a fresh client and a stored replay ID.
  const again = connect(cfg.accessToken);
  await again.connect();
  const replayed = await collect(again, (cb) => again.subscribeFromReplayId(cfg.topic, cb, cfg.want - 1, Number(all[0].replayId)), cfg.want - 1);
  out({ check: 'replay', events: replayed });
  again.close();
} catch (err) {
  out({ check: 'error', message: String(err && (err.stack || err.message || err)), cause: String(err && err.cause) });
  process.exit(1);
}

try {
  const bad = connect('not-a-token');
  await bad.connect();
  await collect(bad, (cb) => bad.subscribeFromEarliestEvent(cfg.topic, cb, 1), 1);
  out({ check: 'badtoken', code: null });
  bad.close();
} catch (err) {
  let e = err;
  while (e && e.code === undefined && e.cause) e = e.cause;
  out({ check: 'badtoken', code: e ? e.code ?? null : null, details: String(e && (e.details || e.message)) });
  process.exit(0);
}
