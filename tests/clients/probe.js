// Drives the platform with the official OpenWhisk JavaScript client, unchanged.
const openwhisk = require('openwhisk');
const ow = openwhisk({ apihost: process.env.APIHOST, api_key: process.env.AUTH });
(async () => {
  const code = "def main(args):\n    return {'greeting': 'hello ' + args.get('name', 'world')}\n";
  await ow.actions.create({ name: 'greet', action: code, kind: 'python:3' });
  const blocking = await ow.actions.invoke({ name: 'greet', blocking: true, result: true, params: { name: 'js' } });
  const started = await ow.actions.invoke({ name: 'greet', params: { name: 'later' } });
  let record = null;
  for (let i = 0; i < 100 && !record; i++) {
    try { record = await ow.activations.get({ name: started.activationId }); }
    catch (e) { if (e.statusCode !== 404) throw e; await new Promise(r => setTimeout(r, 50)); }
  }
  const list = await ow.activations.list({ name: 'greet', limit: 10 });
  const actions = await ow.actions.list();
  console.log(JSON.stringify({ blocking, later: record.response.result, listed: list.length,
                               actions: actions.map(a => a.name) }));
})().catch(e => { console.error(e.message || e); process.exit(1); });
