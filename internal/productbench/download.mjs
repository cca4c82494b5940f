// download.mjs is the independent client of the product-path benchmark:
// jsforce 3.x downloads every Contact of the org with REST autoFetch, 2,000
// records a page, the way a customer's own script would, and prints one
// JSON line: {"records": N, "pages": P, "seconds": S}.
//
// Environment: SF_INSTANCE_URL, SF_ACCESS_TOKEN, SF_API_VERSION, SF_MAX
// (maxFetch: at least the org's Contact count), SF_SOQL (the query).
import jsforce from 'jsforce';

const env = (name) => {
  const v = process.env[name];
  if (!v) {
    throw new Error(`environment variable ${name} is required`);
  }
  return v;
};

const conn = new jsforce.Connection({
  instanceUrl: env('SF_INSTANCE_URL'),
  accessToken: env('SF_ACCESS_TOKEN'),
  version: env('SF_API_VERSION'),
  callOptions: { client: 'sfsync-productbench' },
});
const max = Number(env('SF_MAX'));
const start = process.hrtime.bigint();
let records = 0;
let pages = 0;
await new Promise((resolve, reject) => {
  conn
    .query(env('SF_SOQL'), { autoFetch: true, maxFetch: max, headers: { 'Sforce-Query-Options': 'batchSize=2000' } })
    .on('record', () => records++)
    .on('fetch', () => pages++)
    .on('end', resolve)
    .on('error', reject)
    .run({ autoFetch: true, maxFetch: max });
});
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
console.log(JSON.stringify({ records, pages, seconds }));
