// client.mjs drives a Salesforce org (here: the sfemu emulator) with
// jsforce, a Salesforce client written independently of sfsync. It prints
// one JSON line per check on stdout: {"check": name, "ok": bool, ...observed
// values, "failures": [...]} and exits 1 when any check failed.
//
// Usage: node client.mjs main|bulkpages|limit|ingest
//
// Configuration (environment):
//
//	SF_LOGIN_URL       login host (the emulator's base URL)
//	SF_INSTANCE_URL    instance_url of the issued token
//	SF_API_VERSION     e.g. 62.0 (jsforce defaults to 50.0)
//	SF_CLIENT_ID       Connected App consumer key
//	SF_CLIENT_SECRET   Connected App consumer secret
//	SF_USERNAME        user for the OAuth username-password flow
//	SF_PASSWORD        its password
//	SF_ACCESS_TOKEN    an access token issued outside this script
//	SF_REFRESH_TOKEN   its refresh token
//	SF_REDIRECT_URI    a callback URL registered on the Connected App
//	SF_ORG_ID          18-char org id (for the emulator's /__emulator__/ routes)
//
// The "main" phase only uses jsforce's public API against Salesforce's
// endpoints; the emulator's /__emulator__/ side door (no real org has it)
// is used for two test hooks: reading its clock and moving it forward, so
// that access tokens expire for real and getUpdated's window moves past
// the writes. The "limit" phase expects the Go test to have spent the
// org's API allocation first.
import { createHash } from 'node:crypto';
import jsforce from 'jsforce';

const env = (name) => {
  const v = process.env[name];
  if (!v) {
    throw new Error(`environment variable ${name} is required`);
  }
  return v;
};

const cfg = {
  loginUrl: env('SF_LOGIN_URL'),
  instanceUrl: env('SF_INSTANCE_URL'),
  version: env('SF_API_VERSION'),
  clientId: env('SF_CLIENT_ID'),
  clientSecret: env('SF_CLIENT_SECRET'),
  username: env('SF_USERNAME'),
  password: env('SF_PASSWORD'),
  accessToken: env('SF_ACCESS_TOKEN'),
  refreshToken: env('SF_REFRESH_TOKEN'),
  redirectUri: env('SF_REDIRECT_URI'),
  orgId: env('SF_ORG_ID'),
};

const callClient = 'jsforcetest';

const oauth2 = () => ({ loginUrl: cfg.loginUrl, clientId: cfg.clientId, clientSecret: cfg.clientSecret });

let failed = 0;

// check runs fn(want) and prints one line with what fn returned. want(cond,
// msg) records a failure without stopping the check; a thrown error fails
// it too.
async function check(name, fn) {
  const failures = [];
  const want = (cond, msg) => {
    if (!cond) failures.push(msg);
    return cond;
  };
  let observed = {};
  try {
    observed = (await fn(want)) || {};
  } catch (err) {
    failures.push(`threw ${err && err.name}: ${err && err.message}${err && err.errorCode ? ` (errorCode ${err.errorCode})` : ''}`);
  }
  const ok = failures.length === 0;
  if (!ok) failed++;
  process.stdout.write(`${JSON.stringify({ check: name, ok, ...observed, failures })}\n`);
  return observed;
}

// expectError runs fn, which must reject; it returns the rejection.
async function expectError(fn) {
  try {
    const res = await fn();
    return { unexpectedResult: res };
  } catch (err) {
    return { err };
  }
}

async function sideDoor(method, path, body) {
  const res = await fetch(`${cfg.loginUrl}/__emulator__/${path}`, {
    method,
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!res.ok) {
    throw new Error(`side door ${method} ${path}: HTTP ${res.status} ${await res.text()}`);
  }
  return res.json();
}

const emulatorNow = async () => new Date((await sideDoor('GET', 'clock')).now);

// collect reads a jsforce record stream (Bulk 2.0 results) to the end.
const collect = (stream) =>
  new Promise((resolve, reject) => {
    const out = [];
    stream.on('record', (r) => out.push(r));
    stream.on('error', reject);
    stream.on('end', () => resolve(out));
  });

const sameSet = (a, b) => a.size === b.size && [...a].every((x) => b.has(x));

async function mainPhase() {
  const soql = 'SELECT Id, LastName, Email, Member_Number__c, SystemModstamp FROM Contact';
  // callOptions becomes Sforce-Call-Options: client=...; the org records it
  // on every change (CDC's changeOrigin), which sfsync's echo guard uses.
  const conn = new jsforce.Connection({ loginUrl: cfg.loginUrl, version: cfg.version, oauth2: oauth2(), callOptions: { client: callClient } });
  let passwordRelogins = 0;
  conn.on('refresh', () => passwordRelogins++);

  await check('login_password', async (want) => {
    const info = await conn.login(cfg.username, cfg.password);
    want(conn.instanceUrl === cfg.instanceUrl, `instanceUrl ${conn.instanceUrl}, want ${cfg.instanceUrl}`);
    want(typeof conn.accessToken === 'string' && conn.accessToken.length > 0, 'no access token');
    return { userId: info.id, orgId: info.organizationId, idUrl: info.url, instanceUrl: conn.instanceUrl };
  });

  // The web-server flow with PKCE, the one sfsync uses: jsforce builds the
  // authorization URL and exchanges the code; this script plays the browser
  // (login form, then the Allow page) with plain fetch.
  await check('web_server_flow_pkce', async (want) => {
    const oauth = new jsforce.OAuth2({ ...oauth2(), redirectUri: cfg.redirectUri, useVerifier: true });
    const state = `state-${Date.now()}`;
    const authUrl = new URL(oauth.getAuthorizationUrl({ scope: 'api refresh_token id', state }));
    want(authUrl.searchParams.has('code_challenge'), `authorization URL without code_challenge: ${authUrl}`);
    const page = await fetch(authUrl, { redirect: 'manual' });
    const html = await page.text();
    want(page.status === 200 && html.includes('id="login_form"'), `authorize page: HTTP ${page.status}, no login form`);
    const post = (fields, cookie) =>
      fetch(`${authUrl.origin}${authUrl.pathname}`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) },
        body: new URLSearchParams({ ...Object.fromEntries(authUrl.searchParams), ...fields }),
      });
    let res = await post({ action: 'login', username: cfg.username, password: cfg.password });
    let consentShown = false;
    if (res.status === 200) {
      consentShown = (await res.text()).includes('id="oaapprove"');
      const cookie = (res.headers.get('set-cookie') || '').split(';')[0];
      res = await post({ action: 'allow' }, cookie);
    }
    want(res.status === 302, `after login and consent: HTTP ${res.status}, want 302`);
    const back = new URL(res.headers.get('location') || 'about:blank');
    want(`${back.origin}${back.pathname}` === cfg.redirectUri, `redirected to ${back}, want ${cfg.redirectUri}`);
    want(back.searchParams.get('state') === state, `state ${back.searchParams.get('state')}, want ${state}`);
    const code = back.searchParams.get('code');
    const webConn = new jsforce.Connection({ oauth2: oauth, version: cfg.version });
    const info = await webConn.authorize(code);
    want(typeof webConn.refreshToken === 'string' && webConn.refreshToken.length > 0, 'no refresh token from the code exchange');
    const reuse = await expectError(() => new jsforce.Connection({ oauth2: oauth, version: cfg.version }).authorize(code));
    want(reuse.err && reuse.err.name === 'invalid_grant', `second exchange of one code: ${reuse.err ? reuse.err.name : 'succeeded'}, want invalid_grant`);
    const n = await webConn.sobject('Contact').count();
    return { userId: info.id, orgId: info.organizationId, consentShown, count: n, codeReuseError: reuse.err && reuse.err.name };
  });

  await check('identity', async (want) => {
    const id = await conn.identity();
    want(id.user_id === conn.userInfo.id, `user_id ${id.user_id}, want ${conn.userInfo.id}`);
    return { userId: id.user_id, orgId: id.organization_id, username: id.username, restUrl: id.urls && id.urls.rest };
  });

  await check('limits', async (want) => {
    const limits = await conn.limits();
    const api = limits.DailyApiRequests;
    const info = conn.limitInfo.apiUsage;
    want(api && Number.isInteger(api.Max) && Number.isInteger(api.Remaining), `DailyApiRequests ${JSON.stringify(api)}`);
    want(info && info.limit === api.Max, `Sforce-Limit-Info limit ${info && info.limit}, want DailyApiRequests.Max ${api && api.Max}`);
    want(info && info.used > 0 && info.used <= info.limit, `Sforce-Limit-Info used ${info && info.used}`);
    want(api && api.Remaining <= api.Max, `Remaining ${api && api.Remaining} > Max ${api && api.Max}`);
    return { max: api && api.Max, remaining: api && api.Remaining, limitInfo: info };
  });

  await check('describe', async (want) => {
    const d = await conn.describe('Contact');
    const byName = new Map(d.fields.map((f) => [f.name, f]));
    const member = byName.get('Member_Number__c') || {};
    const last = byName.get('LastName') || {};
    want(d.name === 'Contact' && d.keyPrefix === '003', `name ${d.name}, keyPrefix ${d.keyPrefix}`);
    want(member.externalId === true && member.idLookup === true, `Member_Number__c externalId ${member.externalId}, idLookup ${member.idLookup}`);
    want(last.nillable === false && last.createable === true, `LastName nillable ${last.nillable}, createable ${last.createable}`);
    want(d.replicateable === true && d.queryable === true, `replicateable ${d.replicateable}, queryable ${d.queryable}`);
    return { name: d.name, keyPrefix: d.keyPrefix, fields: d.fields.map((f) => f.name) };
  });

  await check('describe_global', async (want) => {
    const g = await conn.describeGlobal();
    const contact = g.sobjects.find((o) => o.name === 'Contact');
    want(contact && contact.keyPrefix === '003' && contact.queryable === true, `Contact entry ${JSON.stringify(contact)}`);
    return { sobjects: g.sobjects.length, maxBatchSize: g.maxBatchSize };
  });

  // Query paging over every Contact: one autoFetch with jsforce's default
  // page size, then maxFetch, then batchSize pages, then manual queryMore.
  let restIds = new Set();
  const restById = new Map();
  await check('query_autofetch', async (want) => {
    let pages = 0;
    const q = conn.query(soql, { autoFetch: true, maxFetch: 100000 }).on('fetch', () => pages++);
    const res = await q;
    for (const r of res.records) {
      restIds.add(r.Id);
      restById.set(r.Id, r);
    }
    want(res.done === true, `done ${res.done}`);
    want(res.records.length === res.totalSize, `fetched ${res.records.length}, want totalSize ${res.totalSize}`);
    want(restIds.size === res.records.length, `distinct ids ${restIds.size}, want ${res.records.length}`);
    want(pages === Math.ceil(res.totalSize / 2000), `pages ${pages}, want ${Math.ceil(res.totalSize / 2000)}`);
    return { totalSize: res.totalSize, fetched: res.records.length, distinct: restIds.size, pages };
  });

  await check('query_maxfetch', async (want) => {
    const res = await conn.query(soql, { autoFetch: true, maxFetch: 2100 });
    want(res.records.length === 2100, `fetched ${res.records.length}, want 2100`);
    want(res.totalSize === restIds.size, `totalSize ${res.totalSize}, want ${restIds.size}`);
    return { totalSize: res.totalSize, fetched: res.records.length, done: res.done };
  });

  await check('query_batchsize', async (want) => {
    let pages = 0;
    const sizes = [];
    const res = await conn
      .query(soql, { autoFetch: true, maxFetch: 100000, headers: { 'Sforce-Query-Options': 'batchSize=500' } })
      .on('fetch', () => pages++);
    sizes.push(res.records.length);
    want(res.records.length === restIds.size, `fetched ${res.records.length}, want ${restIds.size}`);
    want(pages === Math.ceil(restIds.size / 500), `pages ${pages}, want ${Math.ceil(restIds.size / 500)}`);
    return { fetched: res.records.length, pages };
  });

  await check('query_more', async (want) => {
    const first = await conn.query(soql);
    want(first.done === false, `first page done ${first.done}, want false`);
    want(first.records.length === 2000, `first page ${first.records.length} records, want 2000`);
    want(typeof first.nextRecordsUrl === 'string', `nextRecordsUrl ${first.nextRecordsUrl}`);
    const ids = new Set(first.records.map((r) => r.Id));
    let page = first;
    let pages = 1;
    while (!page.done && page.nextRecordsUrl) {
      page = await conn.queryMore(page.nextRecordsUrl);
      pages++;
      for (const r of page.records) ids.add(r.Id);
    }
    want(page.done === true, `last page done ${page.done}`);
    want(sameSet(ids, restIds), `queryMore saw ${ids.size} ids, autoFetch saw ${restIds.size}; sets differ`);
    return { totalSize: first.totalSize, firstPage: first.records.length, nextRecordsUrl: first.nextRecordsUrl, pages, distinct: ids.size };
  });

  await check('count', async (want) => {
    const plain = await conn.query('SELECT COUNT() FROM Contact');
    const viaSObject = await conn.sobject('Contact').count();
    const agg = await conn.query('SELECT COUNT(Id) total FROM Contact');
    const total = agg.records[0] && agg.records[0].total;
    want(plain.totalSize === restIds.size, `COUNT() totalSize ${plain.totalSize}, want ${restIds.size}`);
    want(plain.records.length === 0, `COUNT() returned ${plain.records.length} records, want 0`);
    want(viaSObject === restIds.size, `sobject.count() ${viaSObject}, want ${restIds.size}`);
    want(total === restIds.size, `COUNT(Id) ${total}, want ${restIds.size}`);
    return { count: plain.totalSize, sobjectCount: viaSObject, aggregate: total };
  });

  await check('bulk2_query', async (want) => {
    conn.bulk2.pollInterval = 100;
    conn.bulk2.pollTimeout = 20000;
    const records = await collect(await conn.bulk2.query(soql));
    const ids = new Set(records.map((r) => r.Id));
    want(records.length === restIds.size, `bulk rows ${records.length}, want REST count ${restIds.size}`);
    want(sameSet(ids, restIds), 'bulk id set differs from the REST id set');
    // Every value must match what REST returned: CSV writes null as "".
    let mismatches = 0;
    let example = '';
    for (const r of records) {
      const rest = restById.get(r.Id);
      for (const f of ['LastName', 'Email', 'Member_Number__c']) {
        const restValue = rest ? rest[f] ?? '' : undefined;
        if (restValue !== r[f]) {
          mismatches++;
          example ||= `${r.Id}.${f}: bulk ${JSON.stringify(r[f])}, REST ${JSON.stringify(restValue)}`;
        }
      }
    }
    want(mismatches === 0, `${mismatches} values differ from REST, e.g. ${example}`);
    return { rows: records.length, distinct: ids.size, columns: Object.keys(records[0] || {}) };
  });

  await check('error_bulk2_invalid_field', async (want) => {
    const { err, unexpectedResult } = await expectError(() => conn.bulk2.query('SELECT Id, Foo__c FROM Contact'));
    want(!unexpectedResult, 'bulk query of an unknown field succeeded');
    want(err && err.errorCode === 'INVALIDJOB', `errorCode ${err && err.errorCode}, want INVALIDJOB`);
    want(err && /Foo__c/.test(err.message), `message ${JSON.stringify(err && err.message)}`);
    return { errorCode: err && err.errorCode, message: err && err.message };
  });

  await check('error_malformed_query', async (want) => {
    const { err, unexpectedResult } = await expectError(() => conn.query('SELECT Id FRM Contact'));
    want(!unexpectedResult, 'malformed query succeeded');
    want(err && err.errorCode === 'MALFORMED_QUERY', `errorCode ${err && err.errorCode}, want MALFORMED_QUERY`);
    return { errorCode: err && err.errorCode, message: err && err.message };
  });

  await check('error_invalid_field', async (want) => {
    const { err, unexpectedResult } = await expectError(() => conn.query('SELECT Id, Foo__c FROM Contact'));
    want(!unexpectedResult, 'query of an unknown field succeeded');
    want(err && err.errorCode === 'INVALID_FIELD', `errorCode ${err && err.errorCode}, want INVALID_FIELD`);
    want(err && /No such column 'Foo__c'/.test(err.message), `message ${JSON.stringify(err && err.message)}`);
    return { errorCode: err && err.errorCode, message: err && err.message };
  });

  await check('error_dml', async (want) => {
    const { err, unexpectedResult } = await expectError(() => conn.sobject('Contact').create({ FirstName: 'NoLastName' }));
    want(!unexpectedResult, `create without LastName succeeded: ${JSON.stringify(unexpectedResult)}`);
    want(err && err.errorCode === 'REQUIRED_FIELD_MISSING', `errorCode ${err && err.errorCode}, want REQUIRED_FIELD_MISSING`);
    return { errorCode: err && err.errorCode, message: err && err.message, fields: err && err.data && err.data.fields };
  });

  // Writes. Marker values let the Go test find the records.
  const run = `jsf${Date.now().toString(36)}`;
  const created = {};
  const deletedIds = [];
  // written holds the ids this script created or changed that stay live.
  const written = new Set();
  await check('create_single', async (want) => {
    const res = await conn.sobject('Contact').create({ FirstName: 'Single', LastName: `Create-${run}`, Email: `single.${run}@example.com` });
    want(res.success === true && /^003\w{15}$/.test(res.id), `result ${JSON.stringify(res)}`);
    created.single = res.id;
    return { id: res.id, lastName: `Create-${run}` };
  });

  await check('create_many', async (want) => {
    const recs = [1, 2, 3].map((i) => ({ FirstName: `Many${i}`, LastName: `CreateMany-${run}`, Email: `many${i}.${run}@example.com` }));
    const res = await conn.sobject('Contact').create(recs, { allOrNone: true });
    want(Array.isArray(res) && res.length === 3, `results ${JSON.stringify(res)}`);
    want(res.every((r) => r.success === true && /^003/.test(r.id)), `results ${JSON.stringify(res)}`);
    created.many = res.map((r) => r.id);
    return { ids: created.many, lastName: `CreateMany-${run}` };
  });

  await check('create_many_all_or_none_rollback', async (want) => {
    const marker = `Rollback-${run}`;
    const res = await conn.sobject('Contact').create(
      [
        { FirstName: 'Valid', LastName: marker },
        { FirstName: 'Invalid', Email: `rollback.${run}@example.com` },
      ],
      { allOrNone: true },
    );
    const codes = res.map((r) => (r.errors || []).map((e) => e.statusCode || e.errorCode).join(','));
    want(res.every((r) => r.success === false), `results ${JSON.stringify(res)}`);
    want(codes[0] === 'ALL_OR_NONE_OPERATION_ROLLED_BACK', `first record errors ${codes[0]}, want ALL_OR_NONE_OPERATION_ROLLED_BACK`);
    want(codes[1] === 'REQUIRED_FIELD_MISSING', `second record errors ${codes[1]}, want REQUIRED_FIELD_MISSING`);
    const left = await conn.sobject('Contact').count({ LastName: marker });
    want(left === 0, `${left} rolled-back records visible to SOQL, want 0`);
    return { codes, lastName: marker };
  });

  await check('update_single', async (want) => {
    const res = await conn.sobject('Contact').update({ Id: created.single, Title: `Updated-${run}` });
    want(res.success === true && res.id === created.single, `result ${JSON.stringify(res)}`);
    const back = await conn.sobject('Contact').retrieve(created.single);
    want(back.Title === `Updated-${run}`, `Title read back ${back.Title}`);
    return { id: created.single, title: back.Title };
  });

  await check('update_many', async (want) => {
    const res = await conn
      .sobject('Contact')
      .update(created.many.map((Id, i) => ({ Id, Title: `UpdatedMany${i}-${run}` })), { allOrNone: true });
    want(res.length === created.many.length && res.every((r) => r.success === true), `results ${JSON.stringify(res)}`);
    return { ids: created.many, titlePrefix: 'UpdatedMany', run };
  });

  await check('retrieve_many', async (want) => {
    const recs = await conn.sobject('Contact').retrieve(created.many);
    want(recs.length === created.many.length, `retrieved ${recs.length}, want ${created.many.length}`);
    recs.forEach((r, i) => {
      want(r && r.Id === created.many[i], `record ${i} Id ${r && r.Id}, want ${created.many[i]}`);
      want(r && r.Title === `UpdatedMany${i}-${run}`, `record ${i} Title ${r && r.Title}`);
    });
    return { titles: recs.map((r) => r && r.Title) };
  });

  const member = `JSF-${run}`;
  await check('upsert_single', async (want) => {
    const first = await conn.sobject('Contact').upsert({ Member_Number__c: member, LastName: `Upsert-${run}` }, 'Member_Number__c');
    const second = await conn
      .sobject('Contact')
      .upsert({ Member_Number__c: member, LastName: `Upsert-${run}`, Title: 'Upserted twice' }, 'Member_Number__c');
    want(first.success === true && first.created === true, `first upsert ${JSON.stringify(first)}, want created true`);
    want(second.success === true && second.created === false, `second upsert ${JSON.stringify(second)}, want created false`);
    want(first.id === second.id, `ids ${first.id} and ${second.id} differ`);
    const found = await conn.sobject('Contact').find({ Member_Number__c: member }, ['Id', 'Title']);
    want(found.length === 1 && found[0].Id === first.id && found[0].Title === 'Upserted twice', `find by member number ${JSON.stringify(found)}`);
    written.add(first.id);
    return { member, id: first.id, firstCreated: first.created, secondCreated: second.created, found: found.length };
  });

  await check('upsert_many', async (want) => {
    const existing = (await conn.query("SELECT Id, Member_Number__c FROM Contact WHERE Member_Number__c LIKE 'M%' ORDER BY Member_Number__c LIMIT 1")).records[0];
    want(existing, 'no seeded Contact with a member number');
    const res = await conn.sobject('Contact').upsert(
      [
        { Member_Number__c: `${member}-new`, LastName: `UpsertMany-${run}` },
        { Member_Number__c: existing.Member_Number__c, Title: `UpsertedExisting-${run}` },
      ],
      'Member_Number__c',
      { allOrNone: true },
    );
    want(res.length === 2 && res.every((r) => r.success === true), `results ${JSON.stringify(res)}`);
    want(res[0].created === true, `new member created ${res[0].created}, want true`);
    want(res[1].created === false && res[1].id === existing.Id, `existing member result ${JSON.stringify(res[1])}, want created false, id ${existing.Id}`);
    written.add(res[0].id).add(res[1].id);
    return { newMember: `${member}-new`, newId: res[0].id, existingMember: existing.Member_Number__c, existingId: existing.Id, title: `UpsertedExisting-${run}` };
  });

  await check('destroy_single', async (want) => {
    const res = await conn.sobject('Contact').destroy(created.single);
    want(res.success === true && res.id === created.single, `result ${JSON.stringify(res)}`);
    deletedIds.push(created.single);
    const again = await expectError(() => conn.sobject('Contact').destroy(created.single));
    want(again.err && again.err.errorCode === 'ENTITY_IS_DELETED', `second delete errorCode ${again.err && again.err.errorCode}, want ENTITY_IS_DELETED`);
    return { id: created.single, secondDeleteErrorCode: again.err && again.err.errorCode };
  });

  await check('destroy_many', async (want) => {
    const ids = created.many.slice(0, 2);
    const res = await conn.sobject('Contact').destroy(ids, { allOrNone: true });
    want(res.length === 2 && res.every((r, i) => r.success === true && r.id === ids[i]), `results ${JSON.stringify(res)}`);
    deletedIds.push(...ids);
    written.add(created.many[2]);
    return { ids };
  });

  await check('query_all_deleted', async (want) => {
    const where = `WHERE Id IN ('${deletedIds.join("','")}')`;
    const live = await conn.query(`SELECT Id FROM Contact ${where}`);
    const all = await conn.query(`SELECT Id, IsDeleted FROM Contact ${where}`, { scanAll: true });
    want(live.totalSize === 0, `query saw ${live.totalSize} deleted records, want 0`);
    want(all.totalSize === deletedIds.length, `queryAll saw ${all.totalSize}, want ${deletedIds.length}`);
    want(all.records.every((r) => r.IsDeleted === true), `IsDeleted ${JSON.stringify(all.records.map((r) => r.IsDeleted))}`);
    const countAll = await conn.query('SELECT COUNT() FROM Contact', { scanAll: true });
    want(countAll.totalSize > restIds.size, `queryAll COUNT() ${countAll.totalSize}, want more than the ${restIds.size} live at the start`);
    // Over 2,000 rows: jsforce pages a queryAll through /query/{locator}.
    const paged = await conn.query('SELECT Id, IsDeleted FROM Contact', { scanAll: true, autoFetch: true, maxFetch: 100000 });
    const pagedDeleted = paged.records.filter((r) => r.IsDeleted === true).length;
    want(paged.records.length === countAll.totalSize, `paged queryAll fetched ${paged.records.length}, want ${countAll.totalSize}`);
    want(pagedDeleted === deletedIds.length + 1, `paged queryAll deleted rows ${pagedDeleted}, want ${deletedIds.length + 1} (the script's and the human's)`);
    const rows = await collect(await conn.bulk2.query('SELECT Id, IsDeleted FROM Contact', { scanAll: true }));
    const bulkDeleted = rows.filter((r) => r.IsDeleted === 'true').map((r) => r.Id);
    want(rows.length === countAll.totalSize, `bulk queryAll rows ${rows.length}, want queryAll COUNT() ${countAll.totalSize}`);
    for (const id of deletedIds) want(bulkDeleted.includes(id), `bulk queryAll misses deleted ${id}`);
    return {
      pagedQueryAllRows: paged.records.length,
      bulkQueryAllRows: rows.length,
      bulkDeleted,
      ids: deletedIds,
      query: live.totalSize,
      queryAll: all.totalSize,
      queryAllCount: countAll.totalSize,
    };
  });

  // Tokens issued elsewhere: jsforce must refresh an expired access token by
  // itself (401 INVALID_SESSION_ID → refresh_token grant → retry).
  const tokenConn = new jsforce.Connection({
    instanceUrl: cfg.instanceUrl,
    accessToken: cfg.accessToken,
    refreshToken: cfg.refreshToken,
    version: cfg.version,
    oauth2: oauth2(),
  });
  let refreshes = 0;
  tokenConn.on('refresh', () => refreshes++);
  const startClock = await emulatorNow();
  await check('access_token', async (want) => {
    const id = await tokenConn.identity();
    want(refreshes === 0, `refreshed ${refreshes} times with a fresh token`);
    return { userId: id.user_id, orgId: id.organization_id };
  });

  // The emulator's session timeout is 2 h: after 3 h every access token is
  // dead, and getUpdated's latestDateCovered is past every write above.
  await sideDoor('POST', 'clock/advance', { duration: '3h' });
  const now = await emulatorNow();

  await check('refresh_expired_token', async (want) => {
    // The identity URL answers an expired token with 403 Bad_OAuth_Token,
    // not 401, so jsforce does not refresh there (jsforce issue #833).
    const idErr = await expectError(() => tokenConn.identity());
    want(idErr.err && idErr.err.errorCode === 'ERROR_HTTP_403', `identity with an expired token: errorCode ${idErr.err && idErr.err.errorCode}, want ERROR_HTTP_403`);
    want(refreshes === 0, `refresh events after identity ${refreshes}, want 0`);
    const res = await tokenConn.query('SELECT COUNT() FROM Contact');
    want(refreshes === 1, `refresh events ${refreshes}, want 1`);
    want(tokenConn.accessToken !== cfg.accessToken, 'access token unchanged after refresh');
    want(typeof res.totalSize === 'number', `totalSize ${res.totalSize}`);
    const id = await tokenConn.identity();
    await conn.query('SELECT COUNT() FROM Contact');
    want(passwordRelogins === 1, `username-password connection re-logins ${passwordRelogins}, want 1`);
    return {
      expiredIdentityError: idErr.err && idErr.err.message,
      refreshes,
      tokenChanged: tokenConn.accessToken !== cfg.accessToken,
      passwordRelogins,
      userId: id.user_id,
    };
  });

  // getUpdated looks back at most 30 days, getDeleted 15.
  const day = 24 * 3600 * 1000;
  await check('get_updated', async (want) => {
    const start = new Date(startClock.getTime() - 20 * day);
    const res = await conn.sobject('Contact').updated(start, now);
    const ids = new Set(res.ids);
    for (const id of written) want(ids.has(id), `updated ids miss ${id}, written by this script`);
    for (const id of deletedIds) want(!ids.has(id), `updated ids include deleted ${id}`);
    return { start: start.toISOString(), end: now.toISOString(), latestDateCovered: res.latestDateCovered, ids: res.ids };
  });

  await check('get_deleted', async (want) => {
    const start = new Date(startClock.getTime() - 10 * day);
    const res = await conn.sobject('Contact').deleted(start, now);
    const ids = new Set(res.deletedRecords.map((r) => r.id));
    for (const id of deletedIds) want(ids.has(id), `deleted ids miss ${id}`);
    want(res.deletedRecords.every((r) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/.test(r.deletedDate)), 'deletedDate format');
    return {
      start: start.toISOString(),
      end: now.toISOString(),
      earliestDateAvailable: res.earliestDateAvailable,
      latestDateCovered: res.latestDateCovered,
      ids: [...ids],
    };
  });

  await check('revoke', async (want) => {
    // logout(true) revokes the refresh token, which ends its access tokens.
    await tokenConn.logout(true);
    const stale = new jsforce.Connection({
      instanceUrl: cfg.instanceUrl,
      accessToken: cfg.accessToken,
      refreshToken: cfg.refreshToken,
      version: cfg.version,
      oauth2: oauth2(),
    });
    const { err, unexpectedResult } = await expectError(() => stale.query('SELECT COUNT() FROM Contact'));
    want(!unexpectedResult, 'a revoked refresh token still refreshed');
    want(err && /expired access\/refresh token/.test(err.message), `error ${err && err.message}, want the invalid_grant description`);
    return { error: err && err.message };
  });

  // Last: the Go test compares this count and the usage header with the
  // org as it is after the script.
  await check('final_count', async () => {
    const res = await conn.query('SELECT COUNT() FROM Contact');
    return { count: res.totalSize, limitInfo: conn.limitInfo.apiUsage };
  });
}

// bulkPagesPhase reads an org too big for one Bulk 2.0 result page, so
// jsforce follows Sforce-Locator. Salesforce repeats the CSV header on every
// page and jsforce 3.x passes the later headers on as records (Salesforce's
// own CLI strips them): such rows are counted apart here.
async function bulkPagesPhase() {
  const conn = new jsforce.Connection({ instanceUrl: cfg.instanceUrl, accessToken: cfg.accessToken, version: cfg.version });
  conn.bulk2.pollInterval = 100;
  await check('bulk2_result_pages', async (want) => {
    const rows = await collect(await conn.bulk2.query('SELECT Id, LastName FROM Contact'));
    const headerRows = rows.filter((r) => r.Id === 'Id' && r.LastName === 'LastName').length;
    const ids = rows.filter((r) => r.Id !== 'Id').map((r) => r.Id);
    const count = (await conn.query('SELECT COUNT() FROM Contact')).totalSize;
    want(ids.length === count, `bulk rows ${ids.length} (besides ${headerRows} repeated headers), want COUNT() ${count}`);
    want(headerRows > 0, 'no repeated header row: the results came in one page');
    want(ids.every((id) => /^003\w{15}$/.test(id)), 'a row without a Contact id');
    ids.sort();
    return { rows: ids.length, headerRows, count, idsSHA256: createHash('sha256').update(ids.join('\n')).digest('hex') };
  });
}

async function limitPhase() {
  const conn = new jsforce.Connection({
    instanceUrl: cfg.instanceUrl,
    accessToken: cfg.accessToken,
    refreshToken: cfg.refreshToken,
    version: cfg.version,
    oauth2: oauth2(),
  });
  await check('request_limit_exceeded', async (want) => {
    const { err, unexpectedResult } = await expectError(() => conn.query('SELECT COUNT() FROM Contact'));
    want(!unexpectedResult, `query succeeded over the limit: ${JSON.stringify(unexpectedResult)}`);
    want(err && err.errorCode === 'REQUEST_LIMIT_EXCEEDED', `errorCode ${err && err.errorCode}, want REQUEST_LIMIT_EXCEEDED`);
    const info = conn.limitInfo.apiUsage;
    want(info && info.used >= info.limit, `Sforce-Limit-Info ${JSON.stringify(info)}, want used >= limit`);
    const limits = await expectError(() => conn.limits());
    want(limits.err && limits.err.errorCode === 'REQUEST_LIMIT_EXCEEDED', `limits() errorCode ${limits.err && limits.err.errorCode}`);
    return { errorCode: err && err.errorCode, message: err && err.message, limitInfo: info };
  });
}

// ingestPhase loads Contacts through Bulk API 2.0 ingest jobs with
// bulk2.loadAndWaitForResults: insert (one record lacks LastName), upsert
// by the Member_Number__c external id, update (a null becomes #N/A) and
// delete. The Go test reads the org afterwards.
async function ingestPhase() {
  const conn = new jsforce.Connection({ instanceUrl: cfg.instanceUrl, accessToken: cfg.accessToken, version: cfg.version, callOptions: { client: callClient } });
  conn.bulk2.pollInterval = 50;
  conn.bulk2.pollTimeout = 20000;
  const run = `${Date.now()}`;
  const lastName = `Ingest-${run}`;
  const n = 250;
  let inserted = [];
  await check('bulk2_ingest_insert', async (want) => {
    const input = Array.from({ length: n }, (_, i) => ({
      FirstName: `Bulk${i}`, LastName: lastName, Email: `bulk${i}.${run}@example.com`, Member_Number__c: `BULK-${run}-${i}`,
    }));
    input.push({ FirstName: 'NoLastName', Email: `nolast.${run}@example.com` });
    const res = await conn.bulk2.loadAndWaitForResults({ object: 'Contact', operation: 'insert', input });
    want(res.successfulResults.length === n, `${res.successfulResults.length} successful results, want ${n}`);
    want(res.successfulResults.every((r) => r.sf__Created === 'true' && /^003\w{15}$/.test(r.sf__Id)), 'a successful result without sf__Created true and a Contact id');
    const bad = res.failedResults[0] || {};
    want(res.failedResults.length === 1 && bad.sf__Id === '' && bad.FirstName === 'NoLastName', `failed results ${JSON.stringify(res.failedResults)}`);
    want(bad.sf__Error === 'REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName --', `sf__Error ${bad.sf__Error}`);
    want(res.unprocessedRecords.length === 0, `${res.unprocessedRecords.length} unprocessed records`);
    inserted = res.successfulResults.map((r) => ({ id: r.sf__Id, member: r.Member_Number__c }));
    return { lastName, ids: inserted.map((r) => r.id), members: inserted.map((r) => r.member) };
  });

  await check('bulk2_ingest_upsert', async (want) => {
    const existing = inserted.slice(0, 10).map((r) => ({ Member_Number__c: r.member, LastName: lastName, Title: 'Upserted' }));
    const fresh = Array.from({ length: 5 }, (_, i) => ({ Member_Number__c: `BULK-${run}-new${i}`, LastName: lastName, Title: 'Upserted' }));
    const res = await conn.bulk2.loadAndWaitForResults({
      object: 'Contact', operation: 'upsert', externalIdFieldName: 'Member_Number__c', input: [...existing, ...fresh],
    });
    const byMember = new Map(res.successfulResults.map((r) => [r.Member_Number__c, r]));
    want(res.successfulResults.length === 15 && res.failedResults.length === 0, `${res.successfulResults.length} ok, ${res.failedResults.length} failed, want 15 and 0`);
    want(existing.every((r, i) => byMember.get(r.Member_Number__c)?.sf__Created === 'false' && byMember.get(r.Member_Number__c)?.sf__Id === inserted[i].id),
      'an existing member was not updated in place');
    want(fresh.every((r) => byMember.get(r.Member_Number__c)?.sf__Created === 'true'), 'a new member was not created');
    return { updatedIds: existing.map((r) => byMember.get(r.Member_Number__c)?.sf__Id), newIds: fresh.map((r) => byMember.get(r.Member_Number__c)?.sf__Id), newMembers: fresh.map((r) => r.Member_Number__c) };
  });

  await check('bulk2_ingest_update', async (want) => {
    const titled = inserted.slice(10, 20).map((r) => ({ Id: r.id, Title: 'Updated by bulk2' }));
    const nulled = inserted.slice(0, 5).map((r) => ({ Id: r.id, Title: null }));
    const res = await conn.bulk2.loadAndWaitForResults({ object: 'Contact', operation: 'update', input: [...titled, ...nulled] });
    want(res.successfulResults.length === 15 && res.failedResults.length === 0, `${res.successfulResults.length} ok, ${res.failedResults.length} failed, want 15 and 0`);
    want(res.successfulResults.every((r) => r.sf__Created === 'false'), 'an update reported sf__Created true');
    return { titledIds: titled.map((r) => r.Id), nulledIds: nulled.map((r) => r.Id) };
  });

  await check('bulk2_ingest_delete', async (want) => {
    const gone = inserted.slice(20, 30).map((r) => ({ Id: r.id }));
    const res = await conn.bulk2.loadAndWaitForResults({ object: 'Contact', operation: 'delete', input: gone });
    want(res.successfulResults.length === 10 && res.failedResults.length === 0, `${res.successfulResults.length} ok, ${res.failedResults.length} failed, want 10 and 0`);
    const count = (await conn.query(`SELECT COUNT() FROM Contact WHERE LastName = '${lastName}'`)).totalSize;
    want(count === n + 5 - 10, `COUNT() of the loaded Contacts ${count}, want ${n + 5 - 10}`);
    return { deletedIds: gone.map((r) => r.Id), count };
  });

  await check('bulk2_ingest_empty', async (want) => {
    const res = await conn.bulk2.loadAndWaitForResults({ object: 'Contact', operation: 'insert', input: [] });
    want(res.successfulResults.length === 0 && res.failedResults.length === 0 && res.unprocessedRecords.length === 0, `results ${JSON.stringify(res)}`);
  });
}

// objectsPhase: Lead, lead conversion, Person Accounts and duplicate rules
// as jsforce sees them (issue 16).
async function objectsPhase() {
  const conn = new jsforce.Connection({ instanceUrl: cfg.instanceUrl, accessToken: cfg.accessToken, version: cfg.version, callOptions: { client: callClient } });
  let leadId;
  await check('lead_crud', async (want) => {
    const d = await conn.sobject('Lead').describe();
    const company = d.fields.find((f) => f.name === 'Company');
    want(company && company.nillable === false, `Company nillable ${company && company.nillable}, want required`);
    const res = await conn.sobject('Lead').create({ LastName: '王', FirstName: '小明', Company: '小明商行', Email: 'xm.jsforce@example.com', LINE_UID__c: 'Ujs' });
    want(res.success && /^00Q/.test(res.id), `create ${JSON.stringify(res)}`);
    leadId = res.id;
    const rec = await conn.sobject('Lead').retrieve(leadId);
    want(rec.Status === 'Open - Not Contacted' && rec.IsConverted === false, `lead ${JSON.stringify(rec)}`);
    return { id: leadId };
  });
  await check('lead_convert', async (want) => {
    const res = await sideDoor('POST', `orgs/default/leads/${leadId}/convert`, {});
    const q = await conn.query(`SELECT IsConverted, ConvertedContactId, ConvertedContact.Email FROM Lead WHERE Id = '${leadId}'`);
    const r = q.records[0];
    want(r.IsConverted === true && r.ConvertedContactId === res.contactId && r.ConvertedContact.Email === 'xm.jsforce@example.com', `converted ${JSON.stringify(r)}`);
    const { err, unexpectedResult } = await expectError(() => conn.sobject('Lead').update({ Id: leadId, Title: 'x' }));
    want(!unexpectedResult, 'update of a converted lead succeeded');
    want(err && err.errorCode === 'CANNOT_UPDATE_CONVERTED_LEAD', `errorCode ${err && err.errorCode}`);
    return { contactId: res.contactId, accountId: res.accountId, errorCode: err && err.errorCode };
  });
  await check('person_account', async (want) => {
    await sideDoor('POST', 'orgs/default/person-accounts');
    const rt = (await conn.query("SELECT Id FROM RecordType WHERE SobjectType = 'Account' AND IsPersonType = true")).records[0];
    const res = await conn.sobject('Account').create({ RecordTypeId: rt.Id, LastName: '林', FirstName: '怡君', PersonEmail: 'yj.jsforce@example.com', LINE_UID__pc: 'Upa' });
    want(res.success, `create ${JSON.stringify(res)}`);
    const a = (await conn.query(`SELECT Name, IsPersonAccount, PersonContactId, LINE_UID__pc FROM Account WHERE Id = '${res.id}'`)).records[0];
    want(a.IsPersonAccount === true && a.Name === '怡君 林' && /^003/.test(a.PersonContactId) && a.LINE_UID__pc === 'Upa', `account ${JSON.stringify(a)}`);
    return { id: res.id, personContactId: a.PersonContactId };
  });
  await check('duplicates_detected', async (want) => {
    await sideDoor('PUT', 'orgs/default/duplicate-rules', { Contact: 'alert' });
    const first = await conn.sobject('Contact').create({ LastName: 'Dup', Email: 'dup.jsforce@example.com' });
    const { err, unexpectedResult } = await expectError(() => conn.sobject('Contact').create({ LastName: 'Dup', Email: 'DUP.jsforce@example.com' }));
    want(!unexpectedResult, 'duplicate created');
    want(err && err.errorCode === 'DUPLICATES_DETECTED', `errorCode ${err && err.errorCode}`);
    const dr = err && err.data && err.data.duplicateResut;
    const matched = dr && dr.matchResults[0].matchRecords[0].record.Id;
    want(matched === first.id, `matched ${matched}, want ${first.id} (data ${JSON.stringify(err && err.data)})`);
    return { firstId: first.id, matched, errorCode: err && err.errorCode };
  });
}

const phase = process.argv[2];
const phases = { main: mainPhase, limit: limitPhase, bulkpages: bulkPagesPhase, ingest: ingestPhase, objects: objectsPhase };
if (!phases[phase]) {
  process.stderr.write(`usage: node client.mjs ${Object.keys(phases).join('|')}\n`);
  process.exit(2);
}
await phases[phase]();
process.exit(failed > 0 ? 1 : 0);
