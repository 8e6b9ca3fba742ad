import FHIR from 'fhirclient';
import { launchScope, sameFhirBase, SMART_REDIRECT_PATH, smartSettings } from './smart';

// The SMART launch page (launch.html): the EHR opens it with `?iss=…&launch=…` (EHR launch), or a user with
// `?iss=…` alone (standalone launch). fhirclient discovers the authorization server from
// `{iss}/.well-known/smart-configuration` and redirects there, with PKCE (S256) and a random state; the
// authorization server redirects back to the clinician page's SMART mode (`smart`), which completes it.
const status = document.getElementById('launch-status');
const settings = smartSettings(
  document.querySelector('meta[name="re-fhir-smart-client-id"]')?.getAttribute('content'),
  document.querySelector('meta[name="re-fhir-smart-scope"]')?.getAttribute('content'),
  document.querySelector('meta[name="re-fhir-smart-iss"]')?.getAttribute('content')
);
const params = new URLSearchParams(window.location.search);

function fail(message: string): void {
  if (status) {
    status.textContent = message;
    status.setAttribute('role', 'alert');
    status.setAttribute('data-failed', 'true');
  }
}

if (!settings) {
  fail('SMART launch is not configured on this server (SMART_CLIENT_ID is not set).');
} else if (!params.get('iss')) {
  fail('The launch needs the EHR FHIR server as ?iss=…');
} else if (!sameFhirBase(params.get('iss')!, settings.iss)) {
  fail(
    `This server works with the EHR FHIR server ${settings.iss || '(none configured)'}, not ${params.get('iss')}.`
  );
} else {
  FHIR.oauth2
    .authorize({
      clientId: settings.clientId,
      scope: launchScope(settings.scope, params.has('launch')),
      redirectUri: SMART_REDIRECT_PATH,
      pkceMode: 'required',
    })
    .catch((err: unknown) => fail(`The launch failed: ${err instanceof Error ? err.message : String(err)}`));
}
