// A webhook receiver on 127.0.0.1 for the e2e tests. Every attempt's signature is checked
// by the third-party `standardwebhooks` package (not by tokenmeter's code); deliveries
// are processed once per webhook-id (repeats are acknowledged and dropped), as the
// Standard Webhooks spec asks of receivers.
//
// Usage: node webhook_receiver.js <port-file> <whsec_secret>
//   POST /hook     the webhook endpoint; behaves per the current script step
//   POST /control  {"script":["500","503","hang","close",...],"default":"ok"}
//                  steps: ok | 500 | 503 (with Retry-After: 1) | 410 | hang (accept,
//                  never answer) | close (process, then reset without answering)
//   GET  /state    {"attempts":[{id,verified,step}],"processed":[ids],"bodies":{id:body}}
'use strict';
const http = require('http');
const fs = require('fs');
const { Webhook } = require('standardwebhooks');

const [portFile, secret] = process.argv.slice(2);
const wh = new Webhook(secret);
let script = [];
let fallback = 'ok';
const attempts = [];
const processed = [];
const bodies = {};

function process_(id, body) {
  if (processed.includes(id)) return;  // a repeat: drop it
  processed.push(id);
  bodies[id] = JSON.parse(body);
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    if (req.url === '/control' && req.method === 'POST') {
      const c = JSON.parse(body);
      script = c.script || [];
      fallback = c.default || 'ok';
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end('{"ok":true}');
    }
    if (req.url === '/state') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ attempts, processed, bodies }));
    }
    if (req.url !== '/hook') {
      res.writeHead(404);
      return res.end();
    }
    const step = script.length ? script.shift() : fallback;
    const id = req.headers['webhook-id'];
    let verified = false;
    try {
      wh.verify(body, {
        'webhook-id': id,
        'webhook-timestamp': req.headers['webhook-timestamp'],
        'webhook-signature': req.headers['webhook-signature'],
      });
      verified = true;
    } catch (e) {
      verified = false;
    }
    attempts.push({ id, verified, step, timestamp: req.headers['webhook-timestamp'],
                    signature: req.headers['webhook-signature'] });
    if (!verified) {
      res.writeHead(401);
      return res.end();
    }
    switch (step) {
      case 'ok':
        process_(id, body);
        res.writeHead(204);
        return res.end();
      case '500':
        res.writeHead(500);
        return res.end('boom');
      case '503':
        res.writeHead(503, { 'retry-after': '1' });
        return res.end();
      case '410':
        res.writeHead(410);
        return res.end();
      case 'hang':
        return;  // never answer; the sender's deadline must end it
      case 'close':
        process_(id, body);
        return req.socket.destroy();  // processed, but the acknowledgement is lost
      default:
        res.writeHead(500);
        return res.end('unknown step');
    }
  });
});

server.listen(0, '127.0.0.1', () => {
  fs.writeFileSync(portFile + '.tmp', String(server.address().port));
  fs.renameSync(portFile + '.tmp', portFile);
});
