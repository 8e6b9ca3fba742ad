import type { Resource } from '@medplum/fhirtypes';
import { fhirdefs, sushiExport, utils } from 'fsh-sushi';
import { LocalPackageCache, OfflineRegistry } from './offline-packages';

/** A SUSHI error or warning, with the FSH file and line when SUSHI knows them. */
export interface SushiMessage {
  message: string;
  file?: string;
  line?: number;
}

/** What one SUSHI run produced. */
export interface SushiResult {
  /** Generated resources: profiles, extensions, logicals, resources, terminology, instances. */
  resources: Resource[];
  errors: SushiMessage[];
  warnings: SushiMessage[];
}

/** Options of {@link runSushi}. */
export interface SushiOptions {
  /** FHIR package cache folder holding `hl7.fhir.r4.core#4.0.1` (see build-r4-core.ts). */
  cacheDir: string;
  /** Generate snapshots (`sushi build -s`); Medplum's validator needs them. */
  snapshot: boolean;
  /** Suppress SUSHI's own console logging; messages are still returned. */
  quiet?: boolean;
}

function toMessages(list: typeof utils.errorsAndWarnings.errors): SushiMessage[] {
  return list.map((m) => ({
    message: m.message,
    ...(m.input ? { file: m.input } : {}),
    ...(m.location ? { line: m.location.startLine } : {}),
  }));
}

/**
 * Runs a SUSHI build in-process, fully offline.
 *
 * This is the pipeline of `sushi build` (read config, import FSH, load dependencies, export),
 * minus its two network steps: the npm look-up of the newest SUSHI version, and the package
 * registry (replaced by {@link OfflineRegistry} over a local cache). Nothing is written to disk.
 * Not reentrant: SUSHI keeps its log counters in module state.
 * See: https://fshschool.org/docs/sushi/running/
 *
 * @param projectDir - the SUSHI project (holding `sushi-config.yaml` and `input/fsh/`).
 * @param options - cache location, snapshot generation, logging.
 * @returns the generated resources and SUSHI's errors and warnings.
 */
export async function runSushi(projectDir: string, options: SushiOptions): Promise<SushiResult> {
  const transport = utils.logger.transports[0];
  const wasSilent = transport?.silent ?? false;
  const previousLevel = utils.logger.level;
  utils.errorsAndWarnings.reset();
  utils.errorsAndWarnings.shouldTrack = true;
  utils.stats.reset();
  utils.logger.level = 'warn';
  if (transport && options.quiet) {
    transport.silent = true;
  }
  try {
    const config = utils.readConfig(projectDir);
    const tank = utils.fillTank(utils.getRawFSHes(utils.findInputDir(projectDir)), config);
    tank.checkDuplicateNameEntities();

    const defs = await fhirdefs.createFHIRDefinitions({
      packageCache: new LocalPackageCache(options.cacheDir),
      registryClient: new OfflineRegistry(options.cacheDir),
    });
    await utils.loadExternalDependencies(defs, config);
    defs.optimize();
    if (!defs.fishForFHIR('StructureDefinition', utils.Type.Resource)) {
      throw new Error(
        `hl7.fhir.r4.core is missing from ${options.cacheDir}; run npx tsx src/tools/build-r4-core.ts`
      );
    }

    const pkg = sushiExport.exportFHIR(tank, defs);
    const resources = [
      ...[...pkg.profiles, ...pkg.extensions, ...pkg.logicals, ...pkg.resources].map(
        (sd) => sd.toJSON(options.snapshot) as Resource
      ),
      ...[...pkg.valueSets, ...pkg.codeSystems].map((r) => r.toJSON() as Resource),
      ...pkg.instances.filter((i) => i._instanceMeta.usage !== 'Inline').map((i) => i.toJSON() as Resource),
    ];
    return {
      resources,
      errors: toMessages(utils.errorsAndWarnings.errors),
      warnings: toMessages(utils.errorsAndWarnings.warnings),
    };
  } finally {
    utils.errorsAndWarnings.shouldTrack = false;
    utils.logger.level = previousLevel;
    if (transport) {
      transport.silent = wasSilent;
    }
  }
}
