// Node's oidc-provider as make bench's point of comparison: a node:cluster of WORKERS processes
// sharing one loopback port, the default in-memory adapter, and three confidential clients that
// may use client_credentials (client_secret_basic):
//   bench-opaque   opaque access tokens (stored in the worker's memory)
//   bench-rs256    JWT access tokens signed RS256 (a resource indicator, accessTokenFormat jwt)
//   bench-es256    JWT access tokens signed ES256
// The keys are made once by the primary and handed to every worker, so that all serve one JWKS.
//
// usage: node oidc_provider.mjs PORT WORKERS   (run from the folder where oidc-provider is
// installed; the client secret comes from OP_CLIENT_SECRET). Loopback only.
import cluster from 'node:cluster';
import crypto from 'node:crypto';

const port = Number(process.argv[2]);
const workers = Number(process.argv[3] || 2);
const secret = process.env.OP_CLIENT_SECRET;
if (!port || !secret) {
  console.error('usage: OP_CLIENT_SECRET=... node oidc_provider.mjs PORT [WORKERS]');
  process.exit(2);
}

if (cluster.isPrimary) {
  const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  const ec = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  const env = {
    OP_JWKS: JSON.stringify({
      keys: [{ ...rsa, kid: 'bench-rs256', alg: 'RS256', use: 'sig' },
        { ...ec, kid: 'bench-es256', alg: 'ES256', use: 'sig' }],
    }),
    OP_COOKIE_KEY: crypto.randomBytes(32).toString('hex'),
  };
  let stopping = false;
  for (let i = 0; i < workers; i += 1) cluster.fork(env);
  cluster.on('exit', (worker, code, signal) => {
    if (!stopping) console.error(`oidc-provider worker ${worker.process.pid} exited (${signal || code})`);
  });
  const stop = () => {
    stopping = true;
    for (const w of Object.values(cluster.workers)) w.process.kill('SIGTERM');
    setTimeout(() => process.exit(0), 500).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} else {
  const { default: Provider } = await import('oidc-provider');
  const jwks = JSON.parse(process.env.OP_JWKS);
  const resources = {
    'bench-rs256': 'urn:custos-bench:rs256',
    'bench-es256': 'urn:custos-bench:es256',
  };
  const client = (id) => ({
    client_id: id,
    client_secret: secret,
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_basic',
  });
  const provider = new Provider(`http://127.0.0.1:${port}`, {
    clients: [client('bench-opaque'), client('bench-rs256'), client('bench-es256')],
    jwks,
    cookies: { keys: [process.env.OP_COOKIE_KEY] },
    scopes: ['openid', 'api'],
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      resourceIndicators: {
        enabled: true,
        // The JWT clients get their resource server without naming it; bench-opaque gets none,
        // so its tokens stay opaque.
        defaultResource: (ctx, c, oneOf) => oneOf || resources[c.clientId],
        useGrantedResource: () => true,
        getResourceServerInfo: (ctx, indicator) => ({
          scope: 'api',
          audience: indicator,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: indicator.endsWith('es256') ? 'ES256' : 'RS256' } },
        }),
      },
    },
  });
  provider.on('server_error', (ctx, err) => console.error('oidc-provider:', err.message));
  provider.listen(port, '127.0.0.1');
}
