// A real OpenID Connect provider for the browser tests (npm « oidc-provider », certified).
//
// Environment:
//   OIDC_PORT       port on localhost (the issuer is http://localhost:<port>)
//   OIDC_REDIRECTS  comma-separated redirect URIs of the app (…/oauth2callback)
//   OIDC_ACCOUNTS   JSON object: account id -> claims ({"email": …, "email_verified": true, "name": …})
//   OIDC_SECRET     client secret of the client « delinquance »
//
// Sign-in uses the package's development interactions: the login form accepts an account id
// (any password), then a consent screen; « [ Cancel ] » returns access_denied to the app.
import Provider from 'oidc-provider';

const port = Number(process.env.OIDC_PORT || 9400);
const issuer = `http://localhost:${port}`;
const redirects = (process.env.OIDC_REDIRECTS || '').split(',').filter(Boolean);
const accounts = JSON.parse(process.env.OIDC_ACCOUNTS || '{}');

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: 'delinquance',
      client_secret: process.env.OIDC_SECRET || 'secret-de-test',
      redirect_uris: redirects,
      post_logout_redirect_uris: redirects,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  async findAccount(ctx, id) {
    const claims = accounts[id];
    if (!claims) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...claims }; } };
  },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  conformIdTokenClaims: false, // put the e-mail in the ID token: st.user reads it from there
  pkce: { required: () => false },
  features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
  cookies: { keys: ['cles-de-test-uniquement'] },
});
provider.proxy = false;
provider.listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider prêt sur ${issuer}`);
});
