import '@mantine/core/styles.css';
import '@mantine/notifications/styles.css';
import '@medplum/react/styles.css';
import './page.css';
import { createTheme, MantineProvider } from '@mantine/core';
import { Notifications } from '@mantine/notifications';
import { ClientStorage, MedplumClient, MemoryStorage } from '@medplum/core';
import { MedplumProvider } from '@medplum/react-hooks';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { fhirBaseUrl, storageMode } from './api';
import { App } from './App';

// The page's entry point. Its MedplumClient talks to this server's own FHIR base (no Medplum
// server, no login): the renderer reads the Questionnaire and expands answer ValueSets through
// `ValueSet/$expand` there, so nothing is fetched from another host.
const fhirBase = fhirBaseUrl(
  document.baseURI,
  document.querySelector('meta[name="re-fhir-base"]')?.getAttribute('content')
);
const storage = storageMode(document.querySelector('meta[name="re-fhir-storage"]')?.getAttribute('content'));
const medplum = new MedplumClient({
  baseUrl: fhirBase,
  fhirUrlPath: '',
  // In memory: the page has no login to resume, and must not read one left by another Medplum app.
  storage: new ClientStorage(new MemoryStorage()),
});

const root = document.getElementById('root');
if (root) {
  createRoot(root).render(
    <StrictMode>
      <MantineProvider theme={createTheme({ primaryColor: 'indigo' })}>
        <Notifications />
        <MedplumProvider medplum={medplum}>
          <App fhirBase={fhirBase} storage={storage} />
        </MedplumProvider>
      </MantineProvider>
    </StrictMode>
  );
}
