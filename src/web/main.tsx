import '@mantine/core/styles.css';
import '@mantine/notifications/styles.css';
import '@medplum/react/styles.css';
import './page.css';
import type { CSSVariablesResolver } from '@mantine/core';
import { createTheme, MantineProvider } from '@mantine/core';
import { Notifications } from '@mantine/notifications';
import { ClientStorage, MemoryStorage } from '@medplum/core';
import { MedplumProvider } from '@medplum/react-hooks';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { fhirBaseUrl, storageMode } from './api';
import { App } from './App';
import { SmartLaunch } from './SmartLaunch';
import { SMART_REDIRECT_PATH } from './smart';
import { SHIPPED_VALUE_SETS } from './shipped-value-sets';
import { StoredExpansionClient } from './stored-expansions';

// The page's entry point. Its MedplumClient talks to this server's own FHIR base (no Medplum
// server, no login): the renderer reads the Questionnaire there, so nothing is fetched from another
// host. Answer ValueSets are expanded from the precomputed expansions bundled with the page: every
// answer list renders with no terminology service.
const fhirBase = fhirBaseUrl(
  document.baseURI,
  document.querySelector('meta[name="re-fhir-base"]')?.getAttribute('content')
);
const storage = storageMode(document.querySelector('meta[name="re-fhir-storage"]')?.getAttribute('content'));
const medplum = new StoredExpansionClient(
  {
    baseUrl: fhirBase,
    fhirUrlPath: '',
    // In memory: the page has no login to resume, and must not read one left by another Medplum app.
    storage: new ClientStorage(new MemoryStorage()),
  },
  SHIPPED_VALUE_SETS
);

// Text must stand out from its background by 4.5:1 (WCAG 2 AA, 1.4.3). Mantine's defaults do not:
// its light-scheme colours use shade 6 (indigo 6 on white, a button's white on indigo 6, red 6 on
// the light red of an alert: 4.3:1 and less), "dimmed" text is gray 6 (3.3:1) and a field's error
// red 6 (3.3:1). Shade 9 of every colour, gray 7 for dimmed text and red 9 for errors pass.
const theme = createTheme({ primaryColor: 'indigo', primaryShade: { light: 9, dark: 8 } });
const cssVariablesResolver: CSSVariablesResolver = () => ({
  variables: {},
  light: {
    '--mantine-color-dimmed': 'var(--mantine-color-gray-7)',
    '--mantine-color-error': 'var(--mantine-color-red-9)',
  },
  dark: {},
});

// At the SMART redirect URI the page completes a launch from the EHR (SmartLaunch.tsx); anywhere else it
// is the local page, as before.
const smartMode = new URL(document.baseURI).pathname.endsWith(`/${SMART_REDIRECT_PATH}`);

const root = document.getElementById('root');
if (root) {
  createRoot(root).render(
    <StrictMode>
      <MantineProvider theme={theme} cssVariablesResolver={cssVariablesResolver}>
        <Notifications />
        <MedplumProvider medplum={medplum}>
          {smartMode ? (
            <SmartLaunch fhirBase={fhirBase} storage={storage} />
          ) : (
            <App fhirBase={fhirBase} storage={storage} />
          )}
        </MedplumProvider>
      </MantineProvider>
    </StrictMode>
  );
}
