// The columnar ceiling of the realistic phase: DuckDB in-process, in-memory, over the same
// raw events (one row per counted call, exact cost in nano-USD), answering each dashboard
// view's question with SQL; median and p99 of `runs` runs each, as name=value figures.
// Also the whole data's answers (requests, cost, the top user), which run.sh compares
// with tokenmeter's: the same question must get the same answer.
// Usage: node ceiling.mjs <events.csv> <now epoch ms> <runs>
import { DuckDBInstance } from '@duckdb/node-api';

const [csv, nowArg, runsArg] = process.argv.slice(2);
const now = Number(nowArg);
const runs = Number(runsArg);
const instance = await DuckDBInstance.create(':memory:');
const db = await instance.connect();
const loadStart = performance.now();
await db.run(`CREATE TABLE events AS SELECT * FROM read_csv('${csv}', header = true, columns = {
  'request_id': 'VARCHAR', 'occurred_ms': 'BIGINT', 'provider': 'VARCHAR', 'model': 'VARCHAR',
  'feature': 'VARCHAR', 'prompt_version': 'VARCHAR', 'project': 'VARCHAR', 'environment': 'VARCHAR',
  'user_id': 'VARCHAR', 'tenant_id': 'VARCHAR', 'input_tokens': 'BIGINT', 'output_tokens': 'BIGINT',
  'status': 'VARCHAR', 'latency_ms': 'BIGINT', 'cost_nano': 'BIGINT'})`);
const loadS = (performance.now() - loadStart) / 1000;

const totals = `count(*) AS requests, sum(CASE WHEN status = 'success' THEN 1 ELSE 0 END) AS successes,
  sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens, sum(cost_nano) AS cost,
  avg(latency_ms) AS avg_latency, quantile_cont(latency_ms, 0.99) AS p99_latency`;
const list = (col, where = 'true') => (from) =>
  `SELECT ${col} AS value, ${totals} FROM events WHERE occurred_ms >= ${from} AND ${where} GROUP BY 1 ORDER BY cost DESC LIMIT 10`;
const views = {
  overview: (from) => `SELECT ${totals} FROM events WHERE occurred_ms >= ${from}`,
  timeseries: (from, bucket) =>
    `SELECT occurred_ms // ${bucket} AS bucket, ${totals} FROM events WHERE occurred_ms >= ${from} GROUP BY 1 ORDER BY 1`,
  'top-endpoints': list('feature'),
  'top-users': list('user_id'),
  'top-tenants': list('tenant_id'),
  'prompt-versions': list('prompt_version'),
  models: list('model'),
  providers: list('provider'),
  projects: list('project'),
  environments: list('environment'),
  'feature-prompts': list('prompt_version', "feature = 'feature-000' AND prompt_version IS NOT NULL AND prompt_version <> ''"),
  'feature-models': list('model', "feature = 'feature-000'"),
  'user-overview': (from) => `SELECT ${totals} FROM events WHERE occurred_ms >= ${from} AND user_id = 'user-00000'`,
};
const ranges = { '24h': [86400000, 60000], '7d': [7 * 86400000, 3600000], '30d': [30 * 86400000, 86400000] };

const figures = [`duckdb_load_s=${loadS.toFixed(2)}`, `duckdb_rows=${(await db.runAndReadAll('SELECT count(*) FROM events')).getRows()[0][0]}`];
for (const [view, sql] of Object.entries(views)) {
  for (const [range, [span, bucket]] of Object.entries(ranges)) {
    const q = sql(now - span, bucket);
    const times = [];
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      await db.runAndReadAll(q);
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    const p50 = times[Math.floor((times.length - 1) / 2)];
    const p99 = times[Math.min(times.length - 1, Math.ceil(0.99 * times.length) - 1)];
    figures.push(`duckdb_${view}_${range}_p50_ms=${p50.toFixed(2)}`, `duckdb_${view}_${range}_p99_ms=${p99.toFixed(2)}`);
  }
}
const all = (await db.runAndReadAll(`SELECT count(*), sum(cost_nano) FROM events`)).getRows()[0];
const top = (await db.runAndReadAll(
  `SELECT user_id, sum(cost_nano) AS cost FROM events GROUP BY 1 ORDER BY cost DESC, user_id LIMIT 1`)).getRows()[0];
const topPrompt = (await db.runAndReadAll(`SELECT prompt_version, sum(cost_nano) AS cost FROM events
  WHERE feature = 'feature-000' AND prompt_version <> '' GROUP BY 1 ORDER BY cost DESC, prompt_version LIMIT 1`)).getRows()[0];
figures.push(`check_requests=${all[0]}`, `check_cost_nano=${all[1]}`, `check_top_user=${top[0]}:${top[1]}`,
  `check_feature_prompt=${topPrompt[0]}:${topPrompt[1]}`);
console.log(figures.join(' '));
